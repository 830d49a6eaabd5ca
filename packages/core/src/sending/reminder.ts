import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { updateIfUnchanged } from '../db/transact';
import { addDays, iso } from '../shared/time';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { isConditionFailed } from '../db/conditions';
import { setClauses, withoutKeys } from '../db/items';
import type { InvitationRef } from '../survey/token';
import { isOpen } from '../survey/round-state';
import type { Invitation, Round } from '../survey/round';
import type { DeliveryDeps, DeliveryOutcome } from './deliver';
import { LEASE_MS, END_LOOKS, leaseUntil, pullRoundWork } from './lease';
import type { SendJob } from './queue';
import { retryDelaySeconds } from './retry';
import { mayStillSend, noteSendFailure, roundForSending, sendSurveyEmail } from './survey-email';

/**
 * When the reminder after the first `sent` ones is due: days after the invitation went out, per
 * the round's plan, and only if that is before the round closes.
 */
export function nextReminderAt(round: Round, invitation: Pick<Invitation, 'audience'>, sentAt: string, sent: number): string | null {
  const day = round.reminderDays[invitation.audience][sent];
  if (day === undefined) return null;
  const due = iso(addDays(sentAt, day));
  return due < round.closesAt ? due : null;
}

/** The attributes that plan an invitation's next reminder (its round's check looks at it then), or end its looks. */
export function reminderPlan(dueAt: string | null) {
  return dueAt
    ? { set: { nextReminderAt: dueAt, reminderQueues: 0, checkAt: dueAt }, remove: [] as readonly string[] }
    : { set: { nextReminderAt: null }, remove: END_LOOKS as readonly string[] };
}

/**
 * Sends the reminder due at `job.dueAt` to someone who has not answered, once however often the
 * job runs. The claim is one conditional update (still `sent`, the reminder still due at that
 * time, none in flight) that counts it and holds the invitation in the lease index with
 * `reminderSending` while SES is called, answering with the invitation (nothing is read before
 * it but the worker's kept round, `roundForSending`, to stop one past the round's close without a
 * flight): if the worker dies before writing down SES's answer, the recovery sweep settles the
 * reminder from SES's record (`settleCutOffReminder`). The round is read after the claim
 * (`mayStillSend`): a cancel, a close or an erasure since stops it there; a suppression or a
 * person's erasure marked the invitation (`suppressedAt`, `erasedAt`), which the claim returns.
 * The next reminder is planned when this one ends (`finishReminder`).
 */
export async function deliverReminder(deps: DeliveryDeps, job: Extract<SendJob, { kind: 'reminder' }>): Promise<DeliveryOutcome> {
  const { db } = deps;
  const now = deps.now();
  // Past its close by the worker's copy of the round (`roundForSending`): no flight at all, which
  // would keep a close running beside this job from closing the round.
  if (!isOpen(await roundForSending(db, job.roundId), now)) return (await stopReminder(db, job, job.dueAt)) ? 'skipped' : 'not-due';
  const lease = leaseUntil(new Date(now.getTime() + LEASE_MS));
  const invitation = await claimReminder(db, job, job.dueAt, { reminderSending: job.dueAt, lastReminderAt: iso(now), ...lease });
  if (!invitation) return 'not-due';
  // Claimed only to be dropped: uncounted, out of the indexes.
  if (invitation.suppressedAt !== undefined || invitation.erasedAt !== undefined) return (await dropReminder(db, invitation, job.dueAt)) ? 'skipped' : 'not-due';
  const current = await mayStillSend(db, invitation, now);
  if (!current.sendable) {
    await dropReminder(db, invitation, job.dueAt);
    return 'skipped';
  }
  const { round } = current;
  const reminder = invitation.remindersSent;
  const next = nextReminderAt(round, invitation, invitation.sentAt!, reminder);

  const sent = await sendSurveyEmail(deps, round, invitation, { kind: 'reminder', reminder });
  // Queued again late, its look was a longer lease: the round's check comes for this claim's, and
  // for the next reminder. After the SES call: nothing but the claim comes between a claim and its
  // email. A worker dying before this line leaves its message to SQS, whose next run pulls (`claimReminder`).
  const late = (invitation.reminderQueues ?? 0) > 0;
  if (late) await pullRoundWork(db, job.roundId, lease.checkAt);
  if ('error' in sent && sent.error.retryable && sent.error.notAccepted) {
    // SES took nothing: the reminder is due again (unless an answer came in meanwhile), later.
    const retries = (invitation.reminderRetries ?? 0) + 1;
    const delaySeconds = Math.round(retryDelaySeconds(retries));
    if (await rearmReminder(db, invitation, job.dueAt, { lastFailure: sent.error.code, now, queuedUntil: new Date(now.getTime() + delaySeconds * 1000 + LEASE_MS) })) {
      await deps.requeue?.(job, delaySeconds);
      return 'retry';
    }
    // Answered or bounced meanwhile: the flight ends here, uncounted.
    await settleLeftReminder(db, invitation, job.dueAt, { taken: false, leaseRead: lease.checkAt });
    return 'not-due';
  }
  if ('error' in sent && sent.error.retryable) {
    // SES may have taken it: the lease runs out and SES's record settles it.
    await noteSendFailure(db, invitation, sent.error.code, now);
    return 'in-doubt';
  }
  if ('error' in sent) {
    // The invitation itself was delivered; only this reminder is lost, and it says why.
    deps.warn?.('email refused for good', { kind: 'reminder', roundId: round.roundId, invitationId: invitation.invitationId, failure: sent.error.code });
    if (!(await finishReminder(db, round, invitation, job.dueAt, next, { extra: { reminderFailure: sent.error.code } }))) await settleLeftReminder(db, invitation, job.dueAt, { taken: false, leaseRead: lease.checkAt });
    else if (late && next !== null) await pullRoundWork(db, job.roundId, next);
    return 'failed';
  }
  // Answered or bounced meanwhile: the flight ends here rather than by the recovery sweep a lease
  // later, so that a close waiting for it need not wait.
  if (!(await finishReminder(db, round, invitation, job.dueAt, next, { extra: { reminderMessageId: sent.messageId } }))) await settleLeftReminder(db, invitation, job.dueAt, { taken: true, leaseRead: lease.checkAt });
  else if (late && next !== null) await pullRoundWork(db, job.roundId, next);
  return 'sent';
}

/**
 * Ends a reminder's flight once SES took it (or refused it for good): the invitation goes into the
 * reminder index for the next one, or out. Conditional on that flight (and, for the recovery
 * sweep, on the lease it read), and on no answer since: an answer took it out of every index.
 */
export function finishReminder(
  db: Db,
  round: Round,
  invitation: Pick<Invitation, 'roundId' | 'invitationId'>,
  dueAt: string,
  next: string | null,
  { extra = {}, leaseRead }: { extra?: Record<string, unknown>; leaseRead?: string } = {},
): Promise<boolean> {
  const index = reminderPlan(next);
  const set = setClauses({ ...index.set, ...extra });
  return updateIfUnchanged(db, {
    Key: keys.invitation(invitation.roundId, invitation.invitationId),
    UpdateExpression: `SET ${set.clauses.join(', ')} REMOVE ${['reminderSending', ...index.remove].join(', ')}`,
    ConditionExpression: `#status = :sent AND reminderSending = :due${leaseRead ? ' AND checkAt = :lease' : ''}`,
    ExpressionAttributeNames: { '#status': 'status', ...set.names },
    ExpressionAttributeValues: { ':sent': 'sent', ':due': dueAt, ...(leaseRead ? { ':lease': leaseRead } : {}), ...set.values },
  });
}

/**
 * Undoes a reminder's claim when SES did not take it: due again at `dueAt`, not counted as sent,
 * back in the reminder index at `queuedUntil` (the job queued again with it runs before; the
 * reminder sweep queues it once more only if that job is lost). Conditional on that flight (and on
 * the lease read, for the sweep), so a response in between keeps it cancelled.
 */
export function rearmReminder(
  db: Db,
  invitation: Pick<Invitation, 'roundId' | 'invitationId'>,
  dueAt: string,
  { lastFailure, now, queuedUntil, leaseRead }: { lastFailure: string; now: Date; queuedUntil: Date; leaseRead?: string },
): Promise<boolean> {
  return updateIfUnchanged(db, {
    Key: keys.invitation(invitation.roundId, invitation.invitationId),
    UpdateExpression:
      'SET nextReminderAt = :due, checkAt = :look, remindersSent = remindersSent - :one, lastFailure = :code, lastFailureAt = :now ADD reminderRetries :one REMOVE reminderSending',
    ConditionExpression: `#status = :sent AND reminderSending = :due${leaseRead ? ' AND checkAt = :lease' : ''}`,
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':due': dueAt, ':look': iso(queuedUntil), ':one': 1, ':code': lastFailure, ':now': iso(now), ':sent': 'sent', ...(leaseRead ? { ':lease': leaseRead } : {}) },
  });
}

/**
 * Ends the flight of a reminder whose invitation left `sent` meanwhile, answered or bounced (either
 * left the flight its lease): no reminder follows either way, and one SES never took no longer
 * counts in `remindersSent`. Conditional on that flight and on its lease (the worker's own, or the
 * one the recovery sweep read).
 */
export function settleLeftReminder(
  db: Db,
  invitation: Pick<Invitation, 'roundId' | 'invitationId'>,
  dueAt: string,
  { taken, leaseRead }: { taken: boolean; leaseRead: string },
): Promise<boolean> {
  return updateIfUnchanged(db, {
    Key: keys.invitation(invitation.roundId, invitation.invitationId),
    UpdateExpression: `${taken ? '' : 'SET remindersSent = remindersSent - :one '}REMOVE reminderSending, checkAt`,
    ConditionExpression: '#status IN (:responded, :bounced) AND reminderSending = :due AND checkAt = :lease',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':responded': 'responded', ':bounced': 'bounced', ':due': dueAt, ':lease': leaseRead, ...(taken ? {} : { ':one': 1 }) },
  });
}

/**
 * Undoes a reminder's claim for good (its round is ending, or the address said no): not counted,
 * no reminder after it, out of the lease index. An answer since keeps the flight for the recovery
 * sweep, which finds no email in SES's record and ends it the same way.
 */
function dropReminder(db: Db, invitation: Pick<Invitation, 'roundId' | 'invitationId'>, dueAt: string): Promise<boolean> {
  return updateIfUnchanged(db, {
    Key: keys.invitation(invitation.roundId, invitation.invitationId),
    UpdateExpression: `SET nextReminderAt = :none, remindersSent = remindersSent - :one REMOVE reminderSending, ${END_LOOKS.join(', ')}`,
    ConditionExpression: '#status = :sent AND reminderSending = :due',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':none': null, ':one': 1, ':sent': 'sent', ':due': dueAt },
  });
}

/** Takes a reminder that will not be sent out of the reminder index, unclaimed: none follows it. */
function stopReminder(db: Db, ref: InvitationRef, dueAt: string): Promise<boolean> {
  return updateIfUnchanged(db, {
    Key: keys.invitation(ref.roundId, ref.invitationId),
    UpdateExpression: `SET nextReminderAt = :none REMOVE ${END_LOOKS.join(', ')}`,
    ConditionExpression: '#status = :sent AND nextReminderAt = :due AND attribute_not_exists(reminderSending)',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':none': null, ':sent': 'sent', ':due': dueAt },
  });
}

/**
 * Claims the reminder due at `dueAt` of a `sent` invitation with one conditional update that
 * counts it and answers with the invitation; null when another run claimed it first or a response
 * came in (or there is no such invitation: a job left from a deleted one has nothing to send).
 */
async function claimReminder(db: Db, ref: InvitationRef, dueAt: string, set: Record<string, unknown>): Promise<Invitation | null> {
  const extra = setClauses(set);
  try {
    const { Attributes } = await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.invitation(ref.roundId, ref.invitationId),
        UpdateExpression: ['SET remindersSent = remindersSent + :one', ...extra.clauses].join(', '),
        ConditionExpression: '#status = :sent AND nextReminderAt = :due AND attribute_not_exists(reminderSending)',
        ExpressionAttributeNames: { '#status': 'status', ...extra.names },
        ExpressionAttributeValues: { ':sent': 'sent', ':due': dueAt, ':one': 1, ...extra.values },
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return withoutKeys<Invitation>(Attributes!);
  } catch (error) {
    if (isConditionFailed(error)) {
      const old = (error as { Item?: Record<string, AttributeValue> }).Item;
      const found = old ? unmarshall(old) : undefined;
      // This reminder's late claim, whose worker failed before its pull: this run (SQS gave the message back) pulls instead.
      if (found?.reminderSending === dueAt && ((found.reminderQueues as number | undefined) ?? 0) > 0 && typeof found.checkAt === 'string') await pullRoundWork(db, ref.roundId, found.checkAt);
      return null;
    }
    throw error;
  }
}
