import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { batchGet } from '../db/batch';
import { addDays, iso } from '../shared/time';
import { listUnsubscribeHeaders, renderInvitation } from '../email/invitation';
import type { MailerError } from '../email/mailer';
import { retryDelaySeconds, sendWithRetry, type RetryDeps } from './retry';
import { addressHash } from '../survey/address';
import { openInvitation, isOpen } from '../survey/response';
import { giveThrottleBack, type Invitation, type Round } from '../survey/round';
import { signInvitationToken } from '../survey/token';
import { counterScope, counterUpdates, deliveredDelta } from '../scores/counters';
import type { SendJob } from './queue';
import { deliverEarlyWarning } from '../warnings/early-warning';
import { deliverAgencySummary, deliverProSummary, queueSummaries } from '../summary/job';
import { settleAnsweredSend, transitionInvitation } from './transition';
import { setAttributes, updateIfUnchanged } from '../db/transact';
import { invitationTags } from './records';
import { closeRound } from '../jobs/expiry';

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
  /** Where a permanent failure is told (a structured log line): ids and the SES error code only. */
  warn?: (message: string, fields: Record<string, string>) => void;
}

/**
 * `retry`: SES did not take the email for now; the invitation is pending again and queued for later.
 * `in-doubt`: the call to SES ended without an answer (a timeout, a reset), so SES may have taken
 * it; the invitation stays `sending` until its lease runs out and the recovery sweep settles it
 * from SES's own record (`SendRecords`). `queued`: a job that queued others.
 */
export type DeliveryOutcome = 'sent' | 'skipped' | 'failed' | 'not-due' | 'retry' | 'in-doubt' | 'closed' | 'queued';


/**
 * How long a claimed send may take before the recovery sweep settles it, and how long a queued
 * invitation may wait in the queue (doubling with each re-queue, see `queueLease`) before it counts as lost.
 */
export const LEASE_MS = 15 * 60_000;

/** The lease of an invitation queued for the `requeues`-th time: 15 minutes, doubling, at most a day. */
export const queueLeaseMs = (requeues: number) => Math.min(24 * 60 * 60_000, LEASE_MS * 2 ** Math.min(requeues, 7));

/** The attributes that hold an invitation in the lease index until `until`. */
export const leaseIndex = (ref: { roundId: string; invitationId: string }, until: Date) => keys.sendLease(ref.roundId, ref.invitationId, iso(until));

const LEAVE_INDEX = ['GSI1PK', 'GSI1SK'] as const;

/** The send worker: one job, one email at most. */
export function deliver(deps: DeliveryDeps, job: SendJob): Promise<DeliveryOutcome> {
  switch (job.kind) {
    case 'invitation':
      return deliverInvitation(deps, job);
    case 'reminder':
      return deliverReminder(deps, job);
    case 'early-warning':
      return deliverEarlyWarning(deps, job);
    case 'close-round':
      return closeRound(deps.db, job.roundId, deps.now()).then((closed) => (closed ? 'closed' : 'not-due'));
    case 'summaries':
      return queueSummaries(deps, job);
    case 'summary':
      return deliverProSummary(deps, job);
    case 'agency-summary':
      return deliverAgencySummary(deps, job);
  }
}

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

/** The attributes that put an invitation in the reminder index, or take it out. */
function reminderIndex(round: Round, invitation: Invitation, dueAt: string | null) {
  return dueAt
    ? { set: { nextReminderAt: dueAt, ...keys.reminderDue(round.roundId, invitation.invitationId, dueAt) }, remove: [] }
    : { set: { nextReminderAt: null }, remove: LEAVE_INDEX };
}

async function isSuppressed(db: Db, round: Round, invitation: Invitation): Promise<boolean> {
  const hash = addressHash(invitation.email);
  return (await batchGet(db, [keys.globalSuppression(hash), keys.agencySuppression(hash, round.agencyId)])).size > 0;
}

/**
 * Sends an invitation's first email, exactly once toward the person however often the job runs:
 * the invitation is claimed (pending → sending, with a lease) by a conditional write before SES is
 * called, so a second run finds it taken and does nothing. A send whose worker died after the
 * claim, or whose SES call ended without an answer, stays `sending` until the lease runs out; the
 * recovery sweep then settles it from SES's record (`recoverSends`): never guessed.
 */
async function deliverInvitation(deps: DeliveryDeps, job: Extract<SendJob, { kind: 'invitation' }>): Promise<DeliveryOutcome> {
  const { db } = deps;
  const { round, invitation } = await openInvitation(db, job);
  if (invitation.status !== 'pending') return 'not-due';

  if (!isOpen(round, deps.now()) || (await isSuppressed(db, round, invitation))) {
    // Cancelled or closed since, or the address said no since the round was created. A cancel
    // gives the throttle back to whoever was not emailed; this job may get there before it.
    const skipped = await transitionInvitation(db, round.roundId, invitation.invitationId, 'pending', 'skipped', { remove: LEAVE_INDEX });
    if (skipped && round.status === 'cancelled') await giveThrottleBack(db, round, invitation);
    return 'skipped';
  }
  const claimedAt = deps.now();
  const lease = leaseIndex(invitation, new Date(claimedAt.getTime() + LEASE_MS));
  if (!(await transitionInvitation(db, round.roundId, invitation.invitationId, 'pending', 'sending', { set: { sendingAt: iso(claimedAt), ...lease } }))) {
    return 'not-due';
  }

  const sent = await send(deps, round, invitation, 'invitation');
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
    await noteFailure(db, invitation, sent.error.code, deps.now());
    return 'in-doubt';
  }
  if ('error' in sent) {
    deps.warn?.('email refused for good', { kind: 'invitation', roundId: round.roundId, invitationId: invitation.invitationId, failure: sent.error.code });
    const failure = { set: { failedAt: iso(deps.now()), failure: sent.error.code }, remove: LEAVE_INDEX };
    if (!(await transitionInvitation(db, round.roundId, invitation.invitationId, 'sending', 'failed', failure))) {
      await settleAnsweredSend(db, round.roundId, invitation.invitationId, 'failed', failure);
    }
    return 'failed';
  }
  await recordSent(db, round, invitation, sent.messageId, deps.now());
  return 'sent';
}

/**
 * Records that SES accepted an invitation's first email (the worker's answer, or SES's record
 * found by the recovery sweep): `sending` → `sent`, into the reminder index, counted delivered.
 * False when it was recorded already.
 */
export async function recordSent(db: Db, round: Round, invitation: Invitation, messageId: string | null, at: Date): Promise<boolean> {
  const sentAt = iso(at);
  const sent = { sentAt, ...(messageId ? { messageId } : {}) };
  const index = reminderIndex(round, invitation, nextReminderAt(round, invitation, sentAt, 0));
  // Delivered invitations are the response rate's denominator.
  const delivered = counterUpdates(db, counterScope(round, invitation), deliveredDelta(1));
  if (await transitionInvitation(db, round.roundId, invitation.invitationId, 'sending', 'sent', { set: { ...sent, ...index.set }, remove: index.remove, also: delivered })) {
    return true;
  }
  // Answered before this write: the send still settles as `sent` (a named answer counted its delivery already).
  return settleAnsweredSend(db, round.roundId, invitation.invitationId, 'sent', {
    set: sent,
    remove: LEAVE_INDEX,
    also: round.attribution === 'anonymous' ? delivered : [],
  });
}

/**
 * Puts a claimed invitation SES never took back in the queue: `sending` → `pending`, leased for
 * the time it waits plus a queue lease. False when it moved on meanwhile (answered, say), or,
 * given `leaseRead`, when it no longer holds that lease: the recovery sweep's view is stale (another
 * sweep queued it again and a worker claimed it since, and may be sending it now).
 */
export function returnToQueue(
  db: Db,
  invitation: Invitation,
  now: Date,
  { delaySeconds, retries, lastFailure, leaseRead }: { delaySeconds: number; retries?: number; lastFailure: string; leaseRead?: string },
): Promise<boolean> {
  const queuedAt = new Date(now.getTime() + delaySeconds * 1000);
  const lease = leaseIndex(invitation, new Date(queuedAt.getTime() + LEASE_MS));
  return transitionInvitation(db, invitation.roundId, invitation.invitationId, 'sending', 'pending', {
    set: { ...(retries !== undefined ? { retries } : {}), lastFailure, lastFailureAt: iso(now), queuedAt: iso(queuedAt), requeues: 0, ...lease },
    ...(leaseRead !== undefined ? { leaseRead } : {}),
  });
}

/** Notes why a send is in doubt, leaving its status and lease as they are. */
async function noteFailure(db: Db, invitation: Invitation, code: string, now: Date): Promise<void> {
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: keys.invitation(invitation.roundId, invitation.invitationId),
      UpdateExpression: 'SET lastFailure = :code, lastFailureAt = :now',
      ExpressionAttributeValues: { ':code': code, ':now': iso(now) },
    }),
  );
}

/**
 * Sends the reminder due at `job.dueAt` to someone who has not answered. The claim is one
 * conditional update: still `sent` (a response would have made it `responded`) and still due at
 * that time (the claim moves it on to the next reminder or out of the index), so a reminder job
 * found twice by the scheduler, or run twice, reminds once.
 */
async function deliverReminder(deps: DeliveryDeps, job: Extract<SendJob, { kind: 'reminder' }>): Promise<DeliveryOutcome> {
  const { db } = deps;
  const { round, invitation } = await openInvitation(db, job);
  if (invitation.status !== 'sent' || invitation.nextReminderAt !== job.dueAt) return 'not-due';

  const stop = !isOpen(round, deps.now()) || (await isSuppressed(db, round, invitation));
  const index = reminderIndex(round, invitation, stop ? null : nextReminderAt(round, invitation, invitation.sentAt!, invitation.remindersSent + 1));
  const claimed = await claimReminder(db, invitation, job.dueAt, {
    set: { ...index.set, ...(stop ? {} : { lastReminderAt: iso(deps.now()) }) },
    remove: index.remove,
    remindersAdded: stop ? 0 : 1,
  });
  if (!claimed) return 'not-due';
  if (stop) return 'skipped';

  const sent = await send(deps, round, invitation, 'reminder');
  if ('error' in sent && sent.error.retryable && sent.error.notAccepted) {
    // SES took nothing: the reminder is due again (unless an answer came in meanwhile), later.
    if (await rearmReminder(db, invitation, job.dueAt, (index.set.nextReminderAt as string | null) ?? null, sent.error.code, deps.now())) {
      const retries = (invitation.reminderRetries ?? 0) + 1;
      await deps.requeue?.(job, Math.round(retryDelaySeconds(retries)));
      return 'retry';
    }
    return 'not-due';
  }
  if ('error' in sent) {
    // The invitation itself was delivered; only this reminder is lost, and it says why.
    deps.warn?.('email refused for good', { kind: 'reminder', roundId: round.roundId, invitationId: invitation.invitationId, failure: sent.error.code });
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.invitation(invitation.roundId, invitation.invitationId),
        UpdateExpression: 'SET reminderFailure = :code',
        ExpressionAttributeValues: { ':code': sent.error.code },
      }),
    );
    return 'failed';
  }
  return 'sent';
}

/**
 * Undoes a reminder's claim when SES did not take it: due again at `dueAt`, in the reminder index,
 * not counted as sent. Conditional on the claim being the last change (still `sent`, and the next
 * reminder still the one the claim planned), so a response in between keeps it cancelled.
 */
async function rearmReminder(db: Db, invitation: Invitation, dueAt: string, claimedNext: string | null, code: string, now: Date): Promise<boolean> {
  const due = keys.reminderDue(invitation.roundId, invitation.invitationId, dueAt);
  return updateIfUnchanged(db, {
    Key: keys.invitation(invitation.roundId, invitation.invitationId),
    UpdateExpression:
      'SET nextReminderAt = :due, GSI1PK = :pk, GSI1SK = :sk, remindersSent = remindersSent - :one, lastFailure = :code, lastFailureAt = :now ADD reminderRetries :one',
    ConditionExpression: '#status = :sent AND nextReminderAt = :claimed',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':due': dueAt, ':pk': due.GSI1PK, ':sk': due.GSI1SK, ':one': 1, ':code': code, ':now': iso(now), ':sent': 'sent', ':claimed': claimedNext },
  });
}

/**
 * Claims the reminder due at `dueAt` of a `sent` invitation with one conditional update; false
 * when another run claimed it first or a response came in.
 */
async function claimReminder(
  db: Db,
  invitation: Invitation,
  dueAt: string,
  change: { set: Record<string, unknown>; remove: readonly string[]; remindersAdded: number },
): Promise<boolean> {
  const extra = setAttributes(change.set);
  return updateIfUnchanged(db, {
    Key: keys.invitation(invitation.roundId, invitation.invitationId),
    UpdateExpression:
      ['SET remindersSent = remindersSent + :added', ...extra.clauses].join(', ') + (change.remove.length ? ` REMOVE ${change.remove.join(', ')}` : ''),
    ConditionExpression: '#status = :sent AND nextReminderAt = :due',
    ExpressionAttributeNames: { '#status': 'status', ...extra.names },
    ExpressionAttributeValues: { ':sent': 'sent', ':due': dueAt, ':added': change.remindersAdded, ...extra.values },
  });
}

/**
 * Composes the email for an invitation and hands it to SES (retrying, see `sendWithRetry`). On
 * success it records which invitation the SES message id belongs to: bounce and complaint
 * notifications name only that id.
 */
async function send(deps: DeliveryDeps, round: Round, invitation: Invitation, kind: 'invitation' | 'reminder'): Promise<{ messageId: string } | { error: MailerError }> {
  const token = signInvitationToken(deps.linkSecret, invitation);
  const unsubscribeUrl = `${deps.publicUrl}/u/${token}`;
  const content = renderInvitation({
    proName: round.proName,
    campaignName: round.campaignName,
    recipientName: invitation.name ?? undefined,
    audience: invitation.audience,
    attribution: round.attribution,
    surveyUrl: `${deps.publicUrl}/s/${token}`,
    unsubscribeUrl,
    kind,
    commitment: round.commitment?.text,
  });
  const message = {
    from: { name: `${round.proName} via Rapport`, address: deps.mailFrom },
    to: { name: invitation.name ?? undefined, address: invitation.email },
    // Reminders go only to those who have not answered: on an anonymous round, a reply (or an
    // auto-reply) to one would tell the pro who had not. The first email goes to everyone.
    ...(kind === 'reminder' && round.attribution === 'anonymous' ? {} : { replyTo: { name: round.proName, address: round.proEmail } }),
    ...content,
    headers: listUnsubscribeHeaders(unsubscribeUrl),
  };

  const sent = await sendWithRetry(deps, { ...message, tags: invitationTags(invitation, kind) });
  if ('error' in sent) return sent;
  // Outside the retry loop: a failure to record this must never send the email again.
  await rememberMessage(deps.db, sent.messageId, invitation, kind);
  return sent;
}

/** Which invitation an SES message id belongs to: bounce and complaint notifications name only the id. */
export async function rememberMessage(db: Db, messageId: string, ref: { roundId: string; invitationId: string }, kind: 'invitation' | 'reminder'): Promise<void> {
  await db.doc.send(
    new PutCommand({ TableName: db.table, Item: { ...keys.sesMessage(messageId), type: 'messageRef', roundId: ref.roundId, invitationId: ref.invitationId, kind } }),
  );
}

