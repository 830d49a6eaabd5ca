/**
 * One email to send: an invitation's first email, the reminder due at `dueAt` (the worker sends
 * it only if that reminder is still the one due, so a job found twice sends once), or the early
 * warning to the pro about a low answer to that invitation. The summaries of an agency's period
 * (`summary/job.ts`): `summaries` lists a page of its pros and queues a `summary` for each not yet
 * settled (`page` names the listing and where the page starts; none for the first), `summary` is
 * one pro's, `agency-summary` the admins'. `retries` counts the times SES did not take it.
 */
export type SendJob = (
  | { kind: 'invitation'; roundId: string; invitationId: string }
  | { kind: 'reminder'; roundId: string; invitationId: string; dueAt: string }
  | { kind: 'early-warning'; roundId: string; invitationId: string; retries?: number }
  /** Not an email: closing a round whose time is up (see `closeRound`), one job per round. */
  | { kind: 'close-round'; roundId: string }
  | { kind: 'summaries'; agencyId: string; period: string; page?: { listing: string; cursor: string } }
  | { kind: 'summary'; agencyId: string; proId: string; period: string; retries?: number }
  /** Without `admin`, queues one job per admin address (`admin`: the address's hash; jobs carry ids only). */
  | { kind: 'agency-summary'; agencyId: string; period: string; admin?: string; retries?: number }
  /** Not an email: one attempt of a webhook delivery (`webhooks/delivery.ts`). */
  | { kind: 'webhook'; webhookId: string; deliveryId: string }
  /**
   * A console sign-in email to whoever signs in with the address whose hash is `login` (nobody: no
   * email); `next` is the local page to open after, `invite` the admin who invited them.
   */
  | { kind: 'sign-in'; login: string; next?: string; invite?: { agencyId: string; by: string }; retries?: number }
  /** The email with the link that finishes a sign-up: `request` names what was asked (the job carries no address). */
  | { kind: 'sign-up'; request: string; retries?: number }
) & {
  /**
   * Not before this time: a job due further off than the queue's longest delay (SQS: 15 minutes)
   * is queued with that delay and, arriving early, queued again for the rest (`enqueueAt`).
   * Only for jobs that need no sending slot (a close, a webhook attempt).
   */
  notBefore?: string;
};

/** The jobs of an invitation: its first email, a reminder, an early warning. */
export type InvitationJob = Extract<SendJob, { invitationId: string }>;

/** Whether a job may call SES; the others (a close, a summary listing, a webhook, an agency summary's fan-out) need no sending slot. */
export const mayEmail = (job: SendJob): boolean =>
  !(job.kind === 'close-round' || job.kind === 'summaries' || job.kind === 'webhook' || (job.kind === 'agency-summary' && job.admin === undefined));

/**
 * Where send jobs go. Locally an in-process queue feeds the worker; on AWS, SQS (with a dead-letter
 * queue) feeds the sender Lambda. Delivery is at least once: the worker makes it once per person.
 */
export interface JobQueue {
  /** `delaySeconds` (up to 900) holds the jobs back that long: a retry's backoff. */
  enqueue(jobs: readonly SendJob[], options?: { delaySeconds?: number }): Promise<void>;
}

/** The longest a queue holds a job back (SQS's `DelaySeconds`). */
export const MAX_QUEUE_DELAY_SECONDS = 900;

/** The delay that brings a job to `at`, or as near as the queue allows: whole seconds, rounded up. */
export const delayUntil = (at: string, now: Date) => Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(0, Math.ceil((Date.parse(at) - now.getTime()) / 1000)));

/** Whether a job arrived before its time (`notBefore`), and goes back to the queue for the rest. */
export const early = (job: SendJob, now: Date) => job.notBefore !== undefined && Date.parse(job.notBefore) > now.getTime();

/** Queues jobs to run at `at`, however far off: the worker queues a job that arrives early again (`early`). */
export function enqueueAt(queue: JobQueue, jobs: readonly SendJob[], at: string, now: Date): Promise<void> {
  if (Date.parse(at) <= now.getTime()) return queue.enqueue(jobs);
  return queue.enqueue(jobs.map((job) => ({ ...job, notBefore: at })), { delaySeconds: delayUntil(at, now) });
}
