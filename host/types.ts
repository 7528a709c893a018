/**
 * Plain data that crosses from a host (Electron or the browser host) to the renderer. Types only, no
 * Node and no DOM, so the renderer may import them. Bytes are Uint8Array: Electron's IPC
 * carries them as they are, the WebSocket bridge encodes them (wire.ts).
 */
import type { Action, NormalizedPoint } from '../shared/actions.ts';
import type { AgentEvent, RunStatus, DisplayInfo, AccuracySummary, ScreenSpotResult } from '../agent/types.ts';
import type { Settings } from './settings.ts';
import type { BenchReport, BenchResult, BenchTest, ImportPrecision } from '../native-models/index.ts';

export type { AccuracySummary, ScreenSpotResult, Settings, ImportPrecision, BenchReport, BenchResult, BenchTest };

export interface AppInfo {
  readonly host: 'electron' | 'browser';
  readonly version: string;
  /** The X display the agent drives (Linux), e.g. ":0" or a private ":42" with --virtual. */
  readonly display?: string;
  readonly virtualDisplay: boolean;
  /** What runs started from this UI use, e.g. "kimi-vl @ http://127.0.0.1:8000/v1". */
  readonly model: string;
  /** Settings fields that were unreadable and fell back to defaults. */
  readonly problems: readonly string[];
}

export interface PublicSettings {
  /** The settings in effect: the saved ones, with this session's command-line values over them. */
  readonly settings: Settings;
  /** What the settings file holds (and the next session starts from, without those options). */
  readonly saved: Settings;
  /** Fields that come from the command line (`kestrel ui --endpoint …`) for this session only. */
  readonly sessionOnly: readonly (keyof Settings)[];
  /** Where the endpoint key comes from; the key itself never leaves main. */
  readonly apiKey: 'stored' | 'environment' | 'none';
  readonly canStoreApiKey: boolean;
  /** The folders in use: the settings' own, or the host's defaults when those are empty. */
  readonly folders: { readonly models: string; readonly trajectories: string };
}

/** The outcome of Settings' "Test connection": one line, and how long the request took. */
export interface EndpointCheck {
  readonly ok: boolean;
  readonly message: string;
  readonly ms: number;
}

export interface RunRequest {
  readonly instruction: string;
  readonly displayId?: string;
  readonly confirmEachAction?: boolean;
  readonly maxSteps?: number;
}

export type RunPhase = 'idle' | 'running' | 'paused' | 'stopping';

export interface RunState {
  readonly phase: RunPhase;
  readonly runId?: string;
  readonly instruction?: string;
  readonly step: number;
  readonly awaitingConfirmation: boolean;
  /** The folder this run is recorded in (Kestrel's layout, which the Trajectories screen opens). */
  readonly savedTo?: string;
  /** How the last run ended, once it has. */
  readonly lastStatus?: RunStatus;
  readonly lastReason?: string;
}

/** A converted model folder that the in-process backend can run. */
export interface ModelEntry {
  readonly name: string;
  readonly path: string;
  readonly precision?: string;
  readonly createdAt?: string;
  readonly bytes: number;
  /** The folder Settings points at. */
  readonly active: boolean;
}

/** A model import in progress (or just ended), for the progress bar. */
export interface ImportJob {
  readonly id: string;
  readonly source: string;
  readonly target: string;
  readonly phase: 'starting' | 'checking' | 'converting' | 'hashing' | 'done' | 'failed' | 'cancelled';
  readonly done: number;
  readonly total: number;
  readonly detail: string;
  readonly error?: string;
  /** The precision chosen (for `auto`, by the device in Settings) and why, once known. */
  readonly plan?: { readonly precision: string; readonly reason: string; readonly note?: string; readonly weightBytes: number };
}

/** The in-process model being loaded for a run or a probe (a reused model loads nothing). */
export interface ModelLoad {
  readonly dir: string;
  readonly device: Settings['device'];
  /** weights: read ahead from disk; text, vision: onnxruntime creating that session. */
  readonly phase: 'weights' | 'text' | 'vision' | 'ready' | 'failed';
  /** Weight bytes read so far, of `total`. */
  readonly done: number;
  readonly total: number;
  readonly detail: string;
  /** The phase cannot say how far it got (session creation, a skipped read-ahead). */
  readonly indeterminate: boolean;
  readonly error?: string;
}

/** Everything the host pushes to every connected UI, in order. */
export type HostEvent =
  | { readonly type: 'agent'; readonly runId: string; readonly event: AgentEvent }
  | { readonly type: 'state'; readonly state: RunState }
  | { readonly type: 'model_import'; readonly job: ImportJob }
  | { readonly type: 'model_load'; readonly load: ModelLoad };

export interface ImageData {
  readonly png: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** A box as fractions (0..1) of the image, corners top-left and bottom-right. */
export interface NormalizedBox {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

export interface GroundResult {
  readonly point?: NormalizedPoint;
  readonly box?: NormalizedBox;
  /** The model's reply exactly as it came. */
  readonly raw: string;
  readonly latencyMs: number;
  readonly model: string;
  /** Set when the reply held no usable point, saying why. */
  readonly error?: string;
}

export type TrajectoryLayout = 'kestrel' | 'osworld';

export interface TrajectorySummary {
  readonly path: string;
  readonly name: string;
  readonly layout: TrajectoryLayout;
  readonly instruction?: string;
  readonly steps: number;
  readonly status?: string;
  readonly startedAt?: number;
}

export interface TrajectoryStepView {
  readonly index: number;
  /** Set when the step has a screenshot (fetch it with trajectories.screenshot). */
  readonly hasScreenshot: boolean;
  readonly response?: string;
  readonly thinking?: string;
  /** Parsed actions when the recorder kept them (Kestrel layout). */
  readonly actions?: readonly Action[];
  /** The action text as recorded (pyautogui code in OSWorld's layout). */
  readonly actionText?: string;
  /** Points the step's actions aim at, as fractions of the screenshot. */
  readonly targets: readonly NormalizedPoint[];
  readonly ms?: number;
}

export interface TrajectoryView {
  readonly summary: TrajectorySummary;
  readonly steps: readonly TrajectoryStepView[];
}

export type { Action, NormalizedPoint, DisplayInfo, AgentEvent, RunStatus };

/** A ScreenSpot results file opened in the Inspector: the scores and every record, no images. */
export interface ScreenSpotResultsView {
  readonly results: string;
  readonly images: string;
  readonly summary: AccuracySummary;
  readonly records: readonly ScreenSpotResult[];
}
