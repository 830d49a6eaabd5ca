import type { Db } from '../db/client';
import type { JobQueue } from '../sending/queue';
import { closeDueRounds } from './expiry';
import { enqueueDueReminders } from './reminders';
import { failInterruptedSends, requeueStalledInvitations } from './stalled';
import { finishReleases } from '../release/release';

export { closeDueRounds, closeRound } from './expiry';
export { enqueueDueReminders } from './reminders';
export { failInterruptedSends, requeueStalledInvitations, STALLED_AFTER_MS } from './stalled';

/**
 * The scheduled job: closes the rounds whose time is up (releasing their anonymous answers, and
 * finishing any release a crashed run left half-published), then queues the reminders due and the
 * invitations whose jobs were lost, and marks failed the sends a dead worker left unfinished. Closing first means a round's last reminders are not sent as
 * it closes. Meant to run every few minutes (in process locally, on a schedule on AWS); running it
 * twice or concurrently is harmless.
 */
export async function runScheduledJobs(
  deps: { db: Db; queue: JobQueue },
  now: Date,
): Promise<{ roundsClosed: number; releasesFinished: number; remindersQueued: number; invitationsRequeued: number; sendsInterrupted: number }> {
  const roundsClosed = await closeDueRounds(deps.db, now);
  const releasesFinished = await finishReleases(deps.db);
  const remindersQueued = await enqueueDueReminders(deps.db, deps.queue, now);
  const invitationsRequeued = await requeueStalledInvitations(deps.db, deps.queue, now);
  const sendsInterrupted = await failInterruptedSends(deps.db, now);
  return { roundsClosed, releasesFinished, remindersQueued, invitationsRequeued, sendsInterrupted };
}
