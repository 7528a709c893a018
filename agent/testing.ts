// The agent's test entry, for tests in other rooms (lint keeps it out of production code): a
// model that replies from a script and an operator that records what it was asked to do.
export { FAKE_DISPLAY, RecordingOperator, ScriptedModel, type RecordingOperatorOptions, type ScriptedTurn } from './testing/fakes.ts';
