export * from './batch';
export { batchesReleased, finishReleases, releaseOf, releasePool, releaseRound, rowsReleased } from './release';
