// The agent's main entry: what hosts (cli/, host/, main/) run. Its siblings: types.ts (types and
// run defaults only, for the renderer-facing host files and option parsing), desktop.ts
// (the desktop operator), eval.ts (OSWorld, ScreenSpot) and testing.ts (fakes, for tests).
// Why the split: agent/README.md.
export type * from './types.ts';
export { RUN_DEFAULTS } from './types.ts';
export { isTerminal } from '../shared/actions.ts';
export { forwardOperator } from './operator.ts';
export { normalizeKeyName, KEY_NAMES } from './keys.ts';
export { parseKimiResponse, THINK_OPEN, THINK_CLOSE, type ParseResult, type ParseOptions, type CoordinateOptions } from './parser/index.ts';
export { toDesktopPoint, toNormalizedPoint, imagePixelToDesktop, desktopToImagePixel, mapAction, displayAt } from './coordinates.ts';
export { OpenAIChatModel, normalizeBaseUrl, type OpenAIClientOptions } from './openai/client.ts';
export { ModelEndpointError, ModelAbortedError } from './openai/errors.ts';
export { ground, type GroundImage, type GroundOptions, type GroundResult } from './ground.ts';
export { groundingMessages, GROUNDING_REPLY_EXAMPLE } from './prompts/grounding.ts';
export { keepRecentScreenshots, runAgent, type PlannedStep, type PrepareStep, type RunAgentOptions, type RunResult, type StepContext } from './loop/run-agent.ts';
export { PauseController } from './loop/pause.ts';
export { anyOf, defaultStopRules, maxSteps, repeatedAction, terminalAction, timeLimit, type StopRule, type StopDecision, type RunProgress } from './loop/stop-rules.ts';
export { RunAbortedError, withRetries, type RetryOptions } from '../shared/timing.ts';
export type { SettleOptions } from './loop/settle.ts';
export { agentMessages, correctionMessages, defaultGeneration, stripThinking, type PromptVariant, type PromptHistoryStep } from './prompts/agent-prompt.ts';
export * from './trajectory/index.ts';
export { pngSize } from './desktop/png-size.ts';
export { envVar } from './env-var.ts';
export { isInsideFolder, realPathInside } from './folder-containment.ts';
