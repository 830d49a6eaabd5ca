import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys, LEASE_PARTITIONS } from '../db/keys';
import { updateIfUnchanged } from '../db/transact';
import { mapConcurrent } from '../db/batch';
import { isConditionFailed } from '../db/conditions';
import { queryAll } from '../db/page';
import { iso } from '../shared/time';
import type { JobQueue, SendJob } from '../sending/queue';
import type { SendRecords } from '../sending/records';
import { leaseIndex, queueLeaseMs, recordSent, returnToQueue } from '../sending/deliver';
import { finishReminder, nextReminderAt, rearmReminder, settleLeftReminder } from '../sending/reminder';
import { LEASE_MS } from '../sending/lease';
import { mailSent, releaseMail } from '../sending/mail-claim';
import { readRound, type Invitation, type Round } from '../survey/round';

export interface RecoveryDeps {
  db: Db;
  queue: JobQueue;
  records: SendRecords;
}

export interface Recovered {
  /** Queued invitations whose job was lost (or is late), queued again. */
  requeued: number;
  /** Sends (first emails and reminders) cut off after SES took the email: recorded from SES's record. */
  recorded: number;
  /** Sends cut off before SES took the email: queued again. */
  resent: number;
}

type Leased = Invitation & { PK: string; SK: string; GSI1SK: string; type?: string; requeues?: number };
/** An early warning due after an answer whose job may have been lost (see `submitResponse`). */
type LeasedDue = { PK: string; SK: string; GSI1SK: string; type: string; job: SendJob };
/** A claimed warning or summary (see `mailClaim`). */
type LeasedMail = { PK: string; SK: string; GSI1SK: string; status: string; mailRef: string; job: SendJob; countsOn?: { PK: string; SK: string } };

/**
 * The recovery sweep: the invitations whose lease ran out by `leasesBefore` (default `now`), found
 * through the sparse lease index, so it reads only what is late, never a whole round.
 * - Queued (`pending`): the job was lost (a stopped local runner, a failed enqueue) or is still
 *   waiting behind a backlog. Queued again with a lease twice as long each time, so a job that is
 *   only slow is queued at most ⌈log2(1 + wait / 15 min)⌉ more times; the worker claims each
 *   invitation once, so a duplicate job sends nothing.
 * - Claimed (`sending`): the worker died mid-send, or its SES call ended without an answer. SES's
 *   record decides: accepted → `sent`; no record → SES never took it, queued again.
 * - A reminder in flight (`sent` with `reminderSending`): the same, for that reminder.
 * - A claimed early warning or summary (`mailClaim`): the same, by its reference.
 * - An early warning due after an answer (`submitResponse`): its job is queued.
 * Each change is conditional on the lease read, so two sweeps at once act once.
 */
export async function recoverSends(deps: RecoveryDeps, now: Date, { leasesBefore = now }: { leasesBefore?: Date } = {}): Promise<Recovered> {
  const total: Recovered = { requeued: 0, recorded: 0, resent: 0 };
  const rounds = new Map<string, Promise<Round>>();
  const roundOf = (i: Invitation) => rounds.get(i.roundId) ?? rounds.set(i.roundId, readRound(deps.db, i.agencyId, i.roundId)).get(i.roundId)!;
  await Promise.all(
    LEASE_PARTITIONS.map(async (partition) => {
      for await (const items of queryAll(deps.db, {
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK < :before',
        ExpressionAttributeValues: { ':pk': partition, ':before': iso(leasesBefore) },
      })) {
        const leased = (items as unknown as Leased[]).filter((i) => i.type === 'invitation');
        const mails = (items as unknown as LeasedMail[]).filter((m) => m.mailRef !== undefined);
        const warningsDue = (items as unknown as LeasedDue[]).filter((d) => d.type === 'warningDue');
        const requeued = (await requeueLost(deps, leased.filter((i) => i.status === 'pending'), now)) + (await queueDue(deps, warningsDue));
        const settled = await settleCutOff(deps, leased.filter(isCutOff), now, roundOf);
        const reminders = await settleCutOffReminders(deps, leased.filter(isReminderCutOff), now, roundOf);
        const claimed = await settleCutOffMails(deps, mails.filter((m) => m.status === 'sending'), now);
        const stale = [...leased.filter((i) => i.status !== 'pending' && !isCutOff(i) && !isReminderCutOff(i)), ...mails.filter((m) => m.status !== 'sending')];
        await Promise.all(stale.map((i) => leaveIndex(deps.db, i)));
        total.requeued += requeued;
        total.recorded += settled.recorded + reminders.recorded + claimed.recorded;
        total.resent += settled.resent + reminders.resent + claimed.resent;
      }
    }),
  );
  return total;
}

const isCutOff = (i: Leased) => i.status === 'sending' || (i.status === 'responded' && i.answeredFrom === 'sending');
const isReminderCutOff = (i: Leased) => (i.status === 'sent' || i.status === 'responded' || i.status === 'bounced') && i.reminderSending !== undefined;

/**
 * Reminders cut off mid-send (see `deliverReminder`): with SES's record of that reminder, its
 * flight ends as the worker would have ended it; without, it is due again and queued. One whose
 * recipient answered meanwhile, or whose address bounced, just ends, counted only if SES took it.
 */
async function settleCutOffReminders(deps: RecoveryDeps, invitations: Leased[], now: Date, roundOf: (i: Invitation) => Promise<Round>) {
  const settled = { recorded: 0, resent: 0 };
  if (invitations.length === 0) return settled;
  const accepted = await deps.records.reminders(invitations.map((i) => ({ roundId: i.roundId, invitationId: i.invitationId, reminder: i.remindersSent })));
  const resend: SendJob[] = [];
  for (const i of invitations) {
    const dueAt = i.reminderSending!;
    if (i.status !== 'sent') {
      const taken = accepted.has(i.invitationId);
      if ((await settleLeftReminder(deps.db, i, dueAt, { taken, leaseRead: i.GSI1SK })) && taken) settled.recorded++;
    } else if (accepted.has(i.invitationId)) {
      // The next reminder is planned as the worker would have (its claim counted this one).
      const round = await roundOf(i);
      if (await finishReminder(deps.db, round, i, dueAt, nextReminderAt(round, i, i.sentAt!, i.remindersSent), { leaseRead: i.GSI1SK })) settled.recorded++;
    } else if (await rearmReminder(deps.db, i, dueAt, { lastFailure: 'Interrupted', now, queuedUntil: new Date(now.getTime() + LEASE_MS), leaseRead: i.GSI1SK })) {
      resend.push({ kind: 'reminder', roundId: i.roundId, invitationId: i.invitationId, dueAt });
    }
  }
  await deps.queue.enqueue(resend);
  settled.resent = resend.length;
  return settled;
}

async function requeueLost(deps: RecoveryDeps, invitations: Leased[], now: Date): Promise<number> {
  const jobs: SendJob[] = [];
  // A page of leases at a time, a few writes at once: after a crash there may be tens of thousands.
  await mapConcurrent(invitations, 8, async (i) => {
    const requeues = (i.requeues ?? 0) + 1;
    const lease = leaseIndex(i, new Date(now.getTime() + queueLeaseMs(requeues)));
    const taken = await updateIfUnchanged(deps.db, {
      Key: keys.invitation(i.roundId, i.invitationId),
      UpdateExpression: 'SET queuedAt = :now, requeues = :requeues, GSI1SK = :lease',
      ConditionExpression: '#status = :pending AND GSI1SK = :read',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':now': iso(now), ':requeues': requeues, ':lease': lease.GSI1SK, ':pending': 'pending', ':read': i.GSI1SK },
    });
    if (taken) jobs.push({ kind: 'invitation', roundId: i.roundId, invitationId: i.invitationId });
  });
  // Leased first, queued after: if queuing fails, the new lease runs out and the next sweep tries again.
  await deps.queue.enqueue(jobs);
  return jobs.length;
}

async function settleCutOff(deps: RecoveryDeps, invitations: Leased[], now: Date, roundOf: (i: Invitation) => Promise<Round>) {
  const settled = { recorded: 0, resent: 0 };
  if (invitations.length === 0) return settled;
  const accepted = await deps.records.firstEmails(invitations);
  const resend: SendJob[] = [];
  for (const i of invitations) {
    const messageId = accepted.get(i.invitationId);
    if (messageId) {
      if (await recordSent(deps.db, await roundOf(i), i, messageId, now)) settled.recorded++;
    } else if (i.status === 'responded') {
      // Answered through the link the email carried: it arrived, whatever the record says.
      if (await recordSent(deps.db, await roundOf(i), i, null, now)) settled.recorded++;
    } else if (await returnToQueue(deps.db, i, now, { delaySeconds: 0, lastFailure: 'Interrupted', leaseRead: i.GSI1SK })) {
      resend.push({ kind: 'invitation', roundId: i.roundId, invitationId: i.invitationId });
    }
  }
  await deps.queue.enqueue(resend);
  settled.resent = resend.length;
  return settled;
}

/**
 * Early warnings due whose lease ran out: their job is queued (again, maybe: the worker's claim
 * makes a warning already sent a no-op), then the due item goes. Queued first, deleted after: a
 * failure in between queues it once more, never loses it.
 */
async function queueDue(deps: RecoveryDeps, due: LeasedDue[]): Promise<number> {
  await deps.queue.enqueue(due.map((d) => d.job));
  await Promise.all(
    due.map((d) =>
      deps.db.doc
        .send(new DeleteCommand({ TableName: deps.db.table, Key: { PK: d.PK, SK: d.SK }, ConditionExpression: 'GSI1SK = :read', ExpressionAttributeValues: { ':read': d.GSI1SK } }))
        .catch((error) => {
          if (!isConditionFailed(error)) throw error;
        }),
    ),
  );
  return due.length;
}

/**
 * Warnings and summaries cut off mid-send (see `mailClaim`): with SES's record, `sent`; without,
 * the claim is given back and its job queued again.
 */
async function settleCutOffMails(deps: RecoveryDeps, claims: LeasedMail[], now: Date) {
  const settled = { recorded: 0, resent: 0 };
  if (claims.length === 0) return settled;
  const accepted = await deps.records.mails(claims.map((m) => m.mailRef));
  const resend: SendJob[] = [];
  for (const m of claims) {
    const key = { PK: m.PK, SK: m.SK };
    if (accepted.has(m.mailRef)) {
      if (await mailSent(deps.db, key, now, null, m.GSI1SK)) settled.recorded++;
    } else if (await releaseMail(deps.db, key, m.countsOn, m.GSI1SK)) {
      resend.push(m.job);
    }
  }
  await deps.queue.enqueue(resend);
  settled.resent = resend.length;
  return settled;
}

/** An item that moved on without leaving the lease index: taken out, unless it moved again. */
async function leaveIndex(db: Db, i: { PK: string; SK: string; GSI1SK: string }): Promise<void> {
  await db.doc
    .send(
      new UpdateCommand({
        TableName: db.table,
        Key: { PK: i.PK, SK: i.SK },
        UpdateExpression: 'REMOVE GSI1PK, GSI1SK',
        ConditionExpression: 'GSI1SK = :read',
        ExpressionAttributeValues: { ':read': i.GSI1SK },
      }),
    )
    .catch((error) => {
      if (!isConditionFailed(error)) throw error;
    });
}
