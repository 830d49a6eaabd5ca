/**
 * One email to send: an invitation's first email, the reminder due at `dueAt` (the worker sends
 * it only if that reminder is still the one due, so a job found twice sends once), or the early
 * warning to the pro about a low answer to that invitation. The summaries of an agency's period
 * (`summary/job.ts`): `summaries` lists a page of its pros and queues a `summary` for each not yet
 * settled (`page` names the listing and where the page starts; none for the first), `summary` is
 * one pro's, `agency-summary` the admins'. `retries` counts the times SES did not take it.
 */
export type SendJob =
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
  | { kind: 'sign-up'; request: string; retries?: number };

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
