// The host's entry for the renderer: the bridge's routes and the plain data that crosses it.
// Types only, and nothing behind them uses Node, so the renderer's type check (which has no
// Node types) can follow every import.
export type * from './types.ts';
export type { ApiRoutes, KestrelBridge, ModelSizes, RouteInput, RouteName, RouteOutput } from './routes.ts';
export type { Base64Codec, ReplyMessage } from './wire.ts';
export type { OverlayMark } from './overlay-target.ts';
