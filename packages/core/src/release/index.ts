export * from './batch';
export { anyBatchReleased, batchesReleased, finishReleases, releaseOf, releasePool, releaseRound, rowsReleased } from './release';
