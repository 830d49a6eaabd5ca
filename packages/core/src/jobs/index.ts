import type { JobQueue } from '../sending/queue';
import { enqueueDueCloses } from './expiry';
import { recoverMails, type RecoveryDeps } from './recovery';
import { checkRounds, ONE_OFF_MS } from './round-work';
import { finishReleases } from '../release/release';
import { sweepWebhooks } from '../webhooks/events';
import { runRetention } from '../rights/retention';
import { runSummaries, type SummaryRun } from '../summary/job';

export { closeRound, closeRoundNow, enqueueDueCloses } from './expiry';
export { recoverSends, type Recovered, type RecoveryDeps } from './recovery';
export { checkRounds, type RoundChecks } from './round-work';

/**
 * The scheduled job, hourly on AWS and every minute in process locally (`everyMs`: the time
 * between runs). Its sweeps, side by side:
 * - queues a close job per round whose time is up, or comes before the next run (to run at its
 *   time, so rounds close on time however seldom the job runs);
 * - finishes any release a crashed run left half-published;
 * - looks at the rounds with sends or reminders due (`checkRounds`): queues the reminders due (one
 *   due since the last run with no write) and recovers the sends whose lease ran out;
 * - recovers the warnings and summaries whose lease ran out (`recoverMails`);
 * - fans out the webhook events the table's stream missed, and queues the deliveries due before
 *   the next run (`sweepWebhooks`);
 * - runs the retention passes due (`runRetention`, a few agencies a run).
 * With `summaries`, a seventh: queues the improvement summaries due (`runSummaries`). AWS's one
 * schedule runs it so (a schedule of their own would be a second invocation an hour, billed
 * twice); the local runner, `npm run job -- scheduled` and tests run the summaries on their own.
 * One failing stops none of the others (the errors are rethrown together after). Running it twice
 * or concurrently is harmless.
 */
export async function runScheduledJobs(deps: RecoveryDeps & { queue: JobQueue }, now: Date, everyMs = ONE_OFF_MS, options: { summaries?: boolean } = {}) {
  const [roundsToClose, releasesFinished, rounds, mails, webhooks, retention, summaries] = await Promise.allSettled([
    enqueueDueCloses(deps.db, deps.queue, now, everyMs),
    finishReleases(deps.db),
    checkRounds(deps, now, { sinceMs: everyMs }),
    recoverMails(deps, now, now),
    sweepWebhooks(deps.db, deps.queue, now, everyMs),
    runRetention(deps.db, now),
    options.summaries ? runSummaries(deps, now) : undefined,
  ]);
  const failed = [roundsToClose, releasesFinished, rounds, mails, webhooks, retention, summaries].filter((r) => r.status === 'rejected');
  if (failed.length > 0) throw new AggregateError(failed.map((r) => r.reason), 'the scheduled job failed in part');
  return {
    roundsToClose: (roundsToClose as PromiseFulfilledResult<number>).value,
    releasesFinished: (releasesFinished as PromiseFulfilledResult<number>).value,
    ...sum((rounds as PromiseFulfilledResult<Awaited<ReturnType<typeof checkRounds>>>).value, (mails as PromiseFulfilledResult<Awaited<ReturnType<typeof recoverMails>>>).value),
    ...(webhooks as PromiseFulfilledResult<Awaited<ReturnType<typeof sweepWebhooks>>>).value,
    ...(retention as PromiseFulfilledResult<Awaited<ReturnType<typeof runRetention>>>).value,
    ...(summaries as PromiseFulfilledResult<SummaryRun | undefined>).value,
  };
}

const sum = (rounds: Awaited<ReturnType<typeof checkRounds>>, mails: Awaited<ReturnType<typeof recoverMails>>) => ({
  remindersQueued: rounds.remindersQueued,
  requeued: rounds.requeued + mails.requeued,
  recorded: rounds.recorded + mails.recorded,
  resent: rounds.resent + mails.resent,
});
