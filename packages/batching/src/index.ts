export { GroupCommit, type GroupCommitOptions, WriteLane } from './group-commit.ts';
