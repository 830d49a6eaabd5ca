import type { Db } from '../db/client';
import { iso } from '../shared/time';
import { retryDelaySeconds, type RetryDeps } from './retry';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { keys } from '../db/keys';
import { withoutKeys } from '../db/items';
import { isConditionFailed } from '../db/conditions';
import { NotFoundError } from '../shared/errors';
import type { InvitationRef } from '../survey/token';
import { isOpen, giveThrottleBack } from '../survey/round-state';
import type { Invitation, Round } from '../survey/round';
import { counterScope, counterUpdates, deliveredDelta } from '../scores/counters';
import { tallied } from '../scores/open-rounds';
import type { SendJob } from './queue';
import type { WebhookDeps } from '../webhooks/delivery';
import { settleAnsweredSend, transitionInvitation } from './transition';
import { LEASE_MS, END_LOOKS, leaseUntil, pullRoundWork } from './lease';
import { nextReminderAt, reminderPlan } from './reminder';
import { noteSendFailure, roundForSending, sendSurveyEmail } from './survey-email';
import type { SendRecords } from './records';
import { movedOff } from '../survey/moved';

export { LEASE_MS, leaseUntil, queueLeaseMs } from './lease';
export { nextReminderAt } from './reminder';

export interface DeliveryDeps extends RetryDeps {
  db: Db;
  linkSecret: string;
  publicUrl: string;
  mailFrom: string;
  now: () => Date;
  /**
   * Queues a job again after a delay: an email SES did not take (throttled, down) is sent later.
   * Without it, the scheduled job's lost-job sweep finds the invitation pending again.
   */
  requeue?: (job: SendJob, delaySeconds: number) => Promise<void>;
  /**
   * SES's record, read before sending again an invitation the recovery sweep queued again: if a
   * claim was ever lost after SES took the email (an engine that loses an acknowledged write, as
   * DynamoDB Local can when killed), the record, not a second email, settles it. A view up to a
   * second old will do: that email was taken before the crash that lost the claim, and the
   * invitation is queued again only after the engine is back. Locally the record is the SES
   * store, which has every email. On AWS it is the `Send` events kept for emails still in doubt
   * (`recordSendEvent`): an outcome the engine lost after acknowledging it would find none, but
   * DynamoDB does not lose acknowledged writes.
   */
  records?: SendRecords;
  /** Where a permanent failure is told (a structured log line): ids and the SES error code only. */
  warn?: (message: string, fields: Record<string, string>) => void;
  /** Webhook delivery settings (`WEBHOOKS_ALLOW_LOOPBACK`, `WEBHOOK_RETRY_SECONDS`); without them, no loopback and the spec's schedule. */
  webhooks?: WebhookDeps['webhooks'];
}

/**
 * `retry`: SES did not take the email for now; the invitation is pending again and queued for later.
 * `in-doubt`: the call to SES ended without an answer (a timeout, a reset), so SES may have taken
 * it; the invitation stays `sending` until its lease runs out and the recovery sweep settles it
 * from SES's own record (`SendRecords`). `queued`: a job that queued others.
 */
export type DeliveryOutcome = 'sent' | 'skipped' | 'failed' | 'not-due' | 'retry' | 'in-doubt' | 'closed' | 'queued';

/**
 * Sends an invitation's first email, exactly once toward the person however often the job runs:
 * the invitation is claimed (pending → sending, with a lease) by one conditional update before SES
 * is called, so a second run finds it taken and does nothing; the update returns the invitation,
 * so nothing is read before it. A send whose worker died after the claim, or whose SES call ended
 * without an answer, stays `sending` until the lease runs out; the recovery sweep then settles it
 * from SES's record (`recoverSends`): never guessed.
 *
 * Nothing of the round is checked in the claim, nor read after it: whatever stops a round's sends
 * takes its pending invitations from `pending` itself before it answers (a cancel, a close, a pro's
 * erasure, a suppression's skip), and an invitation can come back to `pending` only while its round
 * is open and its pro not erased (`returnToQueue`). One claimed before such a skip reached it is a
 * send in flight, which the cancel or close counts in its answer (`sending`). The round's email
 * data is the worker's kept copy (`roundForSending`): its first send of a round reads it.
 */
export async function deliverInvitation(deps: DeliveryDeps, job: Extract<SendJob, { kind: 'invitation' }>): Promise<DeliveryOutcome> {
  const { db } = deps;
  const claimedAt = deps.now();
  const invitation = await claimInvitation(db, job, claimedAt);
  if (!invitation) return 'not-due';
  const round = await roundForSending(db, invitation.roundId);

  if (!isOpen(round, claimedAt) || round.closing !== undefined || invitation.erasedAt !== undefined || invitation.suppressedAt !== undefined) {
    // Its closing time passed (the close job has not run yet), or the address said no while it was
    // being sent (a suppression skips the pending invitations it forbids where it is written,
    // `enforceSuppression`), or was erased: claimed only to be skipped. A cancel gives the throttle
    // back to whoever was not emailed.
    const skipped = await transitionInvitation(db, round.roundId, invitation.invitationId, 'sending', 'skipped', { remove: END_LOOKS });
    if (skipped && round.status === 'cancelled') await giveThrottleBack(db, round, invitation);
    return 'skipped';
  }

  if ((invitation.requeues ?? 0) > 0 && deps.records) {
    const messageId = (await deps.records.firstEmails([invitation], { maxAgeMs: 1000 })).get(invitation.invitationId);
    if (messageId) {
      await recordSent(db, round, invitation, messageId, deps.now());
      return 'sent';
    }
  }
  const sent = await sendSurveyEmail(deps, round, invitation, { kind: 'invitation' });
  // Queued again late, its look was a longer lease: the round's check comes for this claim's. After
  // the SES call: nothing but the claim comes between a claim and its email. A worker dying before
  // this line leaves its message to SQS, whose next run pulls (`claimInvitation`).
  if ((invitation.requeues ?? 0) > 0) await pullRoundWork(db, job.roundId, iso(new Date(claimedAt.getTime() + LEASE_MS)));
  if ('error' in sent && sent.error.retryable && sent.error.notAccepted) {
    // Nothing was sent: back to pending, and tried again later, until the round closes.
    const retries = (invitation.retries ?? 0) + 1;
    const delaySeconds = Math.round(retryDelaySeconds(retries));
    if (await returnToQueue(db, invitation, deps.now(), { delaySeconds, retries, lastFailure: sent.error.code })) {
      await deps.requeue?.({ kind: 'invitation', roundId: round.roundId, invitationId: invitation.invitationId }, delaySeconds);
      return 'retry';
    }
    return 'not-due';
  }
  if ('error' in sent && sent.error.retryable) {
    await noteSendFailure(db, invitation, sent.error.code, deps.now());
    return 'in-doubt';
  }
  if ('error' in sent) {
    deps.warn?.('email refused for good', { kind: 'invitation', roundId: round.roundId, invitationId: invitation.invitationId, failure: sent.error.code });
    const failure = { set: { failedAt: iso(deps.now()), failure: sent.error.code }, remove: END_LOOKS };
    if (!(await transitionInvitation(db, round.roundId, invitation.invitationId, 'sending', 'failed', failure))) {
      await settleAnsweredSend(db, round.roundId, invitation.invitationId, 'failed', failure);
    }
    return 'failed';
  }
  await recordSent(db, round, invitation, sent.messageId, deps.now());
  return 'sent';
}

/**
 * Claims a pending invitation to send it (pending → sending, leased until LEASE_MS from now) with
 * one conditional update that answers with the invitation. Null when it was not pending: sent or
 * being sent by another run, skipped, answered; a NotFoundError when there is no such invitation.
 */
async function claimInvitation(db: Db, ref: InvitationRef, at: Date): Promise<Invitation | null> {
  const lease = leaseUntil(new Date(at.getTime() + LEASE_MS));
  try {
    const { Attributes } = await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.invitation(ref.roundId, ref.invitationId),
        UpdateExpression: 'SET #status = :sending, sendingAt = :at, checkAt = :lease',
        ConditionExpression: '#status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':sending': 'sending', ':pending': 'pending', ':at': iso(at), ':lease': lease.checkAt },
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return withoutKeys<Invitation>(Attributes!);
  } catch (error) {
    // No invitation at all is a job that cannot be done (reported as failed), not a duplicate,
    // unless an erasure moved it off this id: nothing to send then.
    if (isConditionFailed(error)) {
      const old = (error as { Item?: Record<string, AttributeValue> }).Item;
      const found = old ? unmarshall(old) : undefined;
      // A late send's claim whose worker failed before its pull: this run (SQS gave the message back) pulls instead.
      if (found?.status === 'sending' && ((found.requeues as number | undefined) ?? 0) > 0 && typeof found.checkAt === 'string') await pullRoundWork(db, ref.roundId, found.checkAt);
      if (found) return null;
      if (await movedOff(db, ref.roundId, ref.invitationId)) return null;
      throw new NotFoundError('invitation');
    }
    throw error;
  }
}

/**
 * Records that SES accepted an invitation's first email (the worker's answer, or SES's record
 * found by the recovery sweep): `sending` → `sent`, into the reminder index. One conditional
 * UpdateItem: the round's delivered count is tallied from its invitations until its close (which
 * waits for every send) folds it into the counters; only a round from before that is counted here.
 * False when it was recorded already.
 */
export async function recordSent(db: Db, round: Round, invitation: Invitation, messageId: string | null, at: Date): Promise<boolean> {
  const sentAt = iso(at);
  const sent = { sentAt, ...(messageId ? { messageId } : {}) };
  const index = reminderPlan(nextReminderAt(round, invitation, sentAt, 0));
  // Delivered invitations are the response rate's denominator.
  const delivered = tallied(round) ? [] : counterUpdates(db, counterScope(round, invitation), deliveredDelta(1));
  if (await transitionInvitation(db, round.roundId, invitation.invitationId, 'sending', 'sent', { set: { ...sent, ...index.set }, remove: index.remove, also: delivered })) {
    return true;
  }
  // Answered before this write: the send still settles as `sent` (a named answer counted its delivery already).
  return settleAnsweredSend(db, round.roundId, invitation.invitationId, 'sent', {
    set: sent,
    remove: END_LOOKS,
    also: round.attribution === 'anonymous' ? delivered : [],
  });
}

/**
 * Puts a claimed invitation SES never took back in the queue: `sending` → `pending`, leased for
 * the time it waits plus a queue lease, only while no close or cancel of its round has begun (the
 * claim checks nothing of the round: a pending invitation is one its round may send). False when
 * it moved on meanwhile (answered, say), or, given `leaseRead`, when it no longer holds that lease:
 * the recovery sweep's view is stale (another sweep queued it again and a worker claimed it since,
 * and may be sending it now); or when its round is closing or cancelled, or its pro erased (the
 * worker's copy of the round may hold their name): then it is skipped, as the job run again would
 * have (a cancel gives its throttle back).
 */
export async function returnToQueue(
  db: Db,
  invitation: Invitation,
  now: Date,
  { delaySeconds, retries, lastFailure, leaseRead }: { delaySeconds: number; retries?: number; lastFailure: string; leaseRead?: string },
): Promise<boolean> {
  const queuedAt = new Date(now.getTime() + delaySeconds * 1000);
  const lease = leaseUntil(new Date(queuedAt.getTime() + LEASE_MS));
  const lastLease = leaseRead !== undefined ? { leaseRead } : {};
  const returned = await transitionInvitation(db, invitation.roundId, invitation.invitationId, 'sending', 'pending', {
    set: { ...(retries !== undefined ? { retries } : {}), lastFailure, lastFailureAt: iso(now), queuedAt: iso(queuedAt), requeues: 0, ...lease },
    ...lastLease,
    roundNotClosing: true,
  });
  if (returned) return true;
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.round(invitation.roundId), ConsistentRead: true }));
  if (Item?.closing === undefined && Item?.proErasedAt === undefined) return false;
  const round = withoutKeys<Round>(Item);
  if (await transitionInvitation(db, invitation.roundId, invitation.invitationId, 'sending', 'skipped', { set: { lastFailure, lastFailureAt: iso(now) }, remove: END_LOOKS, ...lastLease })) {
    if (round.status === 'cancelled') await giveThrottleBack(db, round, invitation);
  }
  return false;
}
