import { deliverInvitation, type DeliveryDeps, type DeliveryOutcome } from './deliver';
import { delayUntil, early, type SendJob } from './queue';
import { deliverReminder } from './reminder';

/**
 * The send worker: one job, at most one SES call (a close or a summary listing makes none); a job
 * that arrived before its time (`notBefore`) goes back to the queue for the rest.
 * Invitations and reminders, nearly every job, are loaded with the worker; the rarer kinds
 * (`rare-jobs.ts`) on the first of them, so a cold sender does not parse them (issue 16). Only the
 * sender and the local worker import this module, never the core's index: esbuild bundles what an
 * `import()` names wherever the module importing it is reached, used or not.
 */
export async function deliver(deps: DeliveryDeps, job: SendJob): Promise<DeliveryOutcome> {
  if (early(job, deps.now())) {
    // Due beyond the queue's longest delay: back for the rest (without `requeue`, the sweep that queued it queues it again).
    await deps.requeue?.(job, delayUntil(job.notBefore!, deps.now()));
    return 'not-due';
  }
  if (job.kind === 'invitation') return deliverInvitation(deps, job);
  if (job.kind === 'reminder') return deliverReminder(deps, job);
  const rare = await import('./rare-jobs');
  switch (job.kind) {
    case 'close-round':
      return (await rare.closeRoundJob(deps, job.roundId)) ? 'closed' : 'not-due';
    case 'early-warning':
      return rare.deliverEarlyWarning(deps, job);
    case 'summaries':
      return rare.queueSummaries(deps, job);
    case 'summary':
      return rare.deliverProSummary(deps, job);
    case 'agency-summary':
      return rare.deliverAgencySummary(deps, job);
    case 'webhook':
      return rare.attemptDelivery({ ...deps, webhooks: deps.webhooks ?? { allowLoopback: false, retrySeconds: rare.STANDARD_RETRY_SECONDS } }, job);
    case 'sign-in':
      return rare.deliverSignIn(deps, job);
    case 'sign-up':
      return rare.deliverSignUp(deps, job);
  }
}
