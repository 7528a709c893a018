// The agent's evaluation entry: OSWorld tasks (load, set up with consent, run, score, replay a
// recorded run) and ScreenSpot (annotations, the in-box metric, the resumable results file, the
// report). Only `kestrel eval`, `kestrel replay` and the host's result viewers need it.
export { loadOsworldTasks, TaskFormatError, type OsworldTask } from './osworld/task.ts';
export { ConsentRequiredError, formatConsentList, prepareTask, runOsworldTask } from './osworld/run-task.ts';
export { StepFailedError } from './osworld/steps.ts';
export type { RunOutcome } from './osworld/evaluator.ts';
export { localTaskHost } from './osworld/local-host.ts';
export { PlaceholderError } from './osworld/placeholders.ts';
export { loadRecordedRun, RecordedRunError, type RecordedRun } from './osworld/recorded-run.ts';
export { parseRecordedCode, replayTrajectory, ReplayError } from './osworld/replay-trajectory.ts';
export { exampleDir, formatResultsSummary, summarizeResults } from './osworld/results.ts';
export { loadScreenSpotImage, runScreenSpot, ScreenSpotImageError, type GroundFn, type ScreenSpotProgress } from './screenspot/evaluate.ts';
export { formatSummary, summarize } from './screenspot/metric.ts';
export { loadScreenSpotAnnotations, ScreenSpotFormatError } from './screenspot/records.ts';
export { renderReport } from './screenspot/report.ts';
export { readResultsFile, ResultsFileError } from './screenspot/results-file.ts';
