/**
 * One email to send: an invitation's first email, the reminder due at `dueAt` (the worker sends
 * it only if that reminder is still the one due, so a job found twice sends once), or the early
 * warning to the pro about a low answer to that invitation.
 */
export type SendJob =
  | { kind: 'invitation'; roundId: string; invitationId: string }
  | { kind: 'reminder'; roundId: string; invitationId: string; dueAt: string }
  | { kind: 'early-warning'; roundId: string; invitationId: string; attempt?: number }
  /** Not an email: closing a round whose time is up (see `closeRound`), one job per round. */
  | { kind: 'close-round'; roundId: string };

/**
 * Where send jobs go. Locally an in-process queue feeds the worker; on AWS, SQS (with a dead-letter
 * queue) feeds the sender Lambda. Delivery is at least once: the worker makes it once per person.
 */
export interface JobQueue {
  /** `delaySeconds` (up to 900) holds the jobs back that long: a retry's backoff. */
  enqueue(jobs: readonly SendJob[], options?: { delaySeconds?: number }): Promise<void>;
}
