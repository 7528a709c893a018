export { TrajectoryRecorder, type TrajectorySink, type RunStart, type StepRecord, type RunEnd } from './recorder.ts';
export { readTrajectory, TrajectoryFormatError, type Trajectory } from './reader.ts';
export { osworldTimestamp, type TrajectoryLine, type RunRecord } from './format.ts';
export { prepareRecordFolder, refuseHeldRun, heldRunFile, RecordFolderError } from './record-folder.ts';
