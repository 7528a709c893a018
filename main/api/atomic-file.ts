// One atomic write for the whole project; it lives with the agent, which writes trajectories too.
export { writeFileAtomic } from '../../agent/files.ts';
