// The agent's public API: what hosts (cli/, main/) and other rooms import.
export type * from './actions.ts';
export { isTerminal } from './actions.ts';
export type * from './events.ts';
export type * from './model.ts';
export type * from './operator.ts';
export { normalizeKeyName, KEY_NAMES } from './keys.ts';
export { parseKimiResponse, THINK_OPEN, THINK_CLOSE, type ParseResult, type ParseOptions, type CoordinateOptions } from './parser/index.ts';
export { toDesktopPoint, toNormalizedPoint, imagePixelToDesktop, desktopToImagePixel, mapAction, displayAt } from './coordinates.ts';
export { OpenAIChatModel, normalizeBaseUrl, type OpenAIClientOptions } from './openai/client.ts';
export { ModelEndpointError, ModelAbortedError } from './openai/errors.ts';
export { ground, type GroundImage, type GroundOptions, type GroundResult } from './ground.ts';
export { groundingMessages } from './prompts/grounding.ts';
