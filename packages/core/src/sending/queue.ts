/** One email to send: an invitation's first email or a reminder. */
export interface SendJob {
  kind: 'invitation' | 'reminder';
  roundId: string;
  invitationId: string;
}

/**
 * Where send jobs go. Locally an in-process queue feeds the worker; on AWS, SQS (with a dead-letter
 * queue) feeds the sender Lambda. Delivery is at least once: the worker makes it once per person.
 */
export interface JobQueue {
  enqueue(jobs: readonly SendJob[]): Promise<void>;
}
