import type { JobQueue } from '../sending/queue';
import { enqueueDueCloses } from './expiry';
import { enqueueDueReminders } from './reminders';
import { recoverSends, type RecoveryDeps } from './recovery';
import { finishReleases } from '../release/release';
import { sweepWebhooks } from '../webhooks/events';
import { runRetention } from '../rights/retention';

export { closeRound, closeRoundNow, enqueueDueCloses } from './expiry';
export { enqueueDueReminders } from './reminders';
export { recoverSends, type Recovered, type RecoveryDeps } from './recovery';

/**
 * The scheduled job, every few minutes (in process locally, on a schedule on AWS): queues a close
 * job per round whose time is up, finishes any release a crashed run left half-published, queues
 * the reminders due, recovers the sends whose lease ran out (`recoverSends`), and fans out webhook
 * events and queues the webhook deliveries due (`sweepWebhooks`), and runs the retention passes
 * due (`runRetention`, a few agencies a run). The six run
 * side by side and one failing stops none of the others (the error is rethrown after). Running it
 * twice or concurrently is harmless.
 */
export async function runScheduledJobs(deps: RecoveryDeps & { queue: JobQueue }, now: Date) {
  const [roundsToClose, releasesFinished, remindersQueued, recovered, webhooks, retention] = await Promise.allSettled([
    enqueueDueCloses(deps.db, deps.queue, now),
    finishReleases(deps.db),
    enqueueDueReminders(deps.db, deps.queue, now),
    recoverSends(deps, now),
    sweepWebhooks(deps.db, deps.queue, now),
    runRetention(deps.db, now),
  ]);
  const failed = [roundsToClose, releasesFinished, remindersQueued, recovered, webhooks, retention].filter((r) => r.status === 'rejected');
  if (failed.length > 0) throw new AggregateError(failed.map((r) => r.reason), 'the scheduled job failed in part');
  return {
    roundsToClose: (roundsToClose as PromiseFulfilledResult<number>).value,
    releasesFinished: (releasesFinished as PromiseFulfilledResult<number>).value,
    remindersQueued: (remindersQueued as PromiseFulfilledResult<number>).value,
    ...(recovered as PromiseFulfilledResult<Awaited<ReturnType<typeof recoverSends>>>).value,
    ...(webhooks as PromiseFulfilledResult<Awaited<ReturnType<typeof sweepWebhooks>>>).value,
    ...(retention as PromiseFulfilledResult<Awaited<ReturnType<typeof runRetention>>>).value,
  };
}
