import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys, WORK_PARTITIONS } from '../db/keys';
import { updateIfUnchanged } from '../db/transact';
import { mapConcurrent } from '../db/batch';
import { queryAll, roundInvitationsQuery } from '../db/page';
import { iso } from '../shared/time';
import type { SendJob } from '../sending/queue';
import { leaseUntil, queueLeaseMs, recordSent, returnToQueue } from '../sending/deliver';
import { finishReminder, nextReminderAt, rearmReminder, settleLeftReminder } from '../sending/reminder';
import { CREATION_WINDOW_MS, END_LOOKS, LEASE_MS } from '../sending/lease';
import { checkCreatedInvitations, readRound, type Invitation, type Round } from '../survey/round';
import type { Recovered, RecoveryDeps } from './recovery';

/**
 * No invitation is in any index (an index entry moved on every claim and record would cost more
 * than the writes themselves). An invitation holds its next look in `checkAt` (a queue or send
 * lease's end, a reminder's due time), and its round's WORK item sits in the index (keys.ts 13)
 * at the earliest time any of the round's invitations may need one. The scheduled job looks at
 * each round due (`checkRound`): it reads the round's invitations, does what is due, and moves the
 * WORK item on, or out once no invitation has a `checkAt`.
 *
 * Every write that gives an invitation a `checkAt` moves it later or ends it, except these, which
 * tell the WORK item (`touches`, see ../sending/lease.ts): a creation writing new invitations
 * (`touchRoundWork`), an erasure moving one to another id (`roundWorkTouch`), and a worker taking
 * on a send or reminder that had waited for a longer look (`pullRoundWork`). A check moves the
 * WORK item only if no touch came since it read it, so a view that missed a change is not
 * written down; and for a while after a creation's touch it keeps looking soon
 * (`CREATION_WINDOW_MS`), as that creation may still be writing invitations its view could not see.
 */


export type RoundChecks = Recovered & { remindersQueued: number };

/** A run on its own (`npm run job`, a test) looks this far back and ahead (reminders due since the last run, closes before the next). */
export const ONE_OFF_MS = 5 * 60_000;

/**
 * Looks at every round whose WORK item is due by `leasesBefore` (default `now`), a few at once:
 * what the old per-invitation lease and reminder indexes found, read per round.
 * - Queued (`pending`) past its queue lease: the job was lost (a stopped local runner, a failed
 *   enqueue) or is still waiting behind a backlog. Queued again with a lease twice as long each
 *   time, so a job that is only slow is queued at most ⌈log2(1 + wait / 15 min)⌉ more times; the
 *   worker claims each invitation once, so a duplicate job sends nothing.
 * - Claimed (`sending`) past its lease: the worker died mid-send, or its SES call ended without
 *   an answer. SES's record decides: accepted → `sent`; no record → SES never took it, queued again.
 * - A reminder in flight past its lease: the same, for that reminder.
 * - A reminder due by `now`: queued. One that came due since the last run (`sinceMs`: the
 *   scheduled job's period) is queued as it is, with no write: its claim, a moment later, moves
 *   its `checkAt`, so the run after finds it only if its job is late or lost. One found again
 *   moves its look to the end of a queue lease (15 minutes, doubling with each time it is queued
 *   again), so a backlog is not queued again every run; its due time (`nextReminderAt`, what the
 *   worker's claim checks) stays.
 * Each change is conditional on the `checkAt` read, so two checks at once act once.
 */
export async function checkRounds(
  deps: RecoveryDeps,
  now: Date,
  { leasesBefore = now, sinceMs = ONE_OFF_MS, reminders = true }: { leasesBefore?: Date; sinceMs?: number; /** False: leases only (`recoverSends`). */ reminders?: boolean } = {},
): Promise<RoundChecks> {
  const total: RoundChecks = { requeued: 0, recorded: 0, resent: 0, remindersQueued: 0 };
  await Promise.all(
    WORK_PARTITIONS.map(async (partition) => {
      for await (const items of queryAll(deps.db, {
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK < :before',
        ExpressionAttributeValues: { ':pk': partition, ':before': iso(leasesBefore) },
      })) {
        await mapConcurrent(items, 4, async (item) => {
          const checked = await checkRound(deps, item.roundId as string, now, { leasesBefore, sinceMs, reminders });
          for (const k of Object.keys(total) as (keyof RoundChecks)[]) total[k] += checked[k];
        });
      }
    }),
  );
  return total;
}

async function checkRound(deps: RecoveryDeps, roundId: string, now: Date, { leasesBefore, sinceMs, reminders: withReminders }: { leasesBefore: Date; sinceMs: number; reminders: boolean }): Promise<RoundChecks> {
  const done: RoundChecks = { requeued: 0, recorded: 0, resent: 0, remindersQueued: 0 };
  // Read before the invitations: a touch after this read is one the view below may have missed.
  const { Item: work } = await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.roundWork(roundId), ConsistentRead: true }));
  if (typeof work?.GSI1SK !== 'string' || work.GSI1SK >= iso(leasesBefore)) return done;
  const looked = await invitationsLookedAt(deps.db, roundId);
  let round: Promise<Round> | undefined;
  const roundOf = () => (round ??= readRound(deps.db, looked[0]!.agencyId, roundId));
  const leaseOver = (i: Leased) => i.checkAt < iso(leasesBefore);
  const planned = (i: Leased) => i.status === 'sent' && i.reminderSending === undefined && i.nextReminderAt != null;
  const requeue = looked.filter((i) => i.status === 'pending' && leaseOver(i));
  const cutOff = looked.filter((i) => isCutOff(i) && leaseOver(i));
  const reminderCutOff = looked.filter((i) => isReminderCutOff(i) && leaseOver(i));
  const reminders = withReminders ? looked.filter((i) => planned(i) && i.checkAt < iso(now)) : [];
  const stale = looked.filter((i) => leaseOver(i) && i.status !== 'pending' && !isCutOff(i) && !isReminderCutOff(i) && !planned(i));

  done.requeued = await requeueLost(deps, roundId, requeue, now);
  const settled = await settleCutOff(deps, cutOff, now, roundOf);
  const settledReminders = await settleCutOffReminders(deps, reminderCutOff, now, roundOf);
  done.remindersQueued = await queueReminders(deps, reminders, now, sinceMs);
  await mapConcurrent(stale, 8, (i) => endLooks(deps.db, i));
  done.recorded = settled.recorded + settledReminders.recorded;
  done.resent = settled.resent + settledReminders.resent;

  // Where each invitation acted on went, read again: the earliest look of all is the round's next.
  const after = requeue.length + cutOff.length + reminderCutOff.length + reminders.length + stale.length > 0 ? await invitationsLookedAt(deps.db, roundId) : looked;
  let next = after.reduce<string | undefined>((min, i) => (min === undefined || i.checkAt < min ? i.checkAt : min), undefined);
  const touchedAt = work.touchedAt as string | undefined;
  if (touchedAt !== undefined && now.getTime() < Date.parse(touchedAt) + CREATION_WINDOW_MS) {
    const creation = iso(new Date(Date.parse(touchedAt) + CREATION_WINDOW_MS + LEASE_MS));
    if (next === undefined || creation < next) next = creation;
  }
  await moveRoundWork(deps.db, roundId, next, work.touches as number | undefined);
  return done;
}

/** The round's invitations with a look planned (`checkAt`). */
async function invitationsLookedAt(db: Db, roundId: string): Promise<Leased[]> {
  const looked: Leased[] = [];
  for await (const items of queryAll(
    db,
    roundInvitationsQuery(roundId, {
      FilterExpression: 'attribute_exists(checkAt)',
      // Strongly consistent: a new invitation the view missed would be missed for good.
      ConsistentRead: true,
    }),
  )) {
    looked.push(...(items as unknown as Leased[]));
  }
  return looked;
}

/** The WORK item to its next look, or out of the index: only if no creation or move touched it since it was read. */
async function moveRoundWork(db: Db, roundId: string, next: string | undefined, touches: number | undefined): Promise<void> {
  const due = next === undefined ? undefined : keys.roundWorkDue(roundId, next);
  await updateIfUnchanged(db, {
    Key: keys.roundWork(roundId),
    UpdateExpression: due ? 'SET GSI1PK = :pk, GSI1SK = :sk' : 'REMOVE GSI1PK, GSI1SK',
    ConditionExpression: touches === undefined ? 'attribute_not_exists(touches)' : 'touches = :touches',
    ...(due || touches !== undefined
      ? { ExpressionAttributeValues: { ...(due ? { ':pk': due.GSI1PK, ':sk': due.GSI1SK } : {}), ...(touches === undefined ? {} : { ':touches': touches }) } }
      : {}),
  });
}

/** Queues the reminders due (see `checkRounds`): one due since the last run as it is, a late one with a longer look. */
async function queueReminders(deps: RecoveryDeps, invitations: Leased[], now: Date, sinceMs: number): Promise<number> {
  const jobs: SendJob[] = [];
  await mapConcurrent(invitations, 8, async (i) => {
    const due = i.nextReminderAt!;
    const job: SendJob = { kind: 'reminder', roundId: i.roundId, invitationId: i.invitationId, dueAt: due };
    const queues = (i.reminderQueues ?? 0) + 1;
    if (queues === 1 && due > iso(new Date(now.getTime() - sinceMs))) return void jobs.push(job);
    const taken = await updateIfUnchanged(deps.db, {
      Key: keys.invitation(i.roundId, i.invitationId),
      UpdateExpression: 'SET checkAt = :look, reminderQueues = :queues',
      ConditionExpression: 'checkAt = :read AND nextReminderAt = :due',
      ExpressionAttributeValues: { ':look': iso(new Date(now.getTime() + queueLeaseMs(queues - 1))), ':queues': queues, ':read': i.checkAt, ':due': due },
    });
    if (taken) jobs.push(job);
  });
  // Looked at later first, queued after: if queuing fails, the look comes and the next run tries again.
  await deps.queue.enqueue(jobs);
  return jobs.length;
}

/** An invitation with nothing more to send, settle or remind whose look was left: ended, unless it moved again. */
async function endLooks(db: Db, i: Leased): Promise<void> {
  await updateIfUnchanged(db, {
    Key: keys.invitation(i.roundId, i.invitationId),
    UpdateExpression: `REMOVE ${END_LOOKS.join(', ')}`,
    ConditionExpression: 'checkAt = :read',
    ExpressionAttributeValues: { ':read': i.checkAt },
  });
}

/** An invitation its round's check found with its look due (`checkAt`, the lease it read). */
export type Leased = Invitation & { checkAt: string; requeues?: number; reminderQueues?: number };

const isCutOff = (i: Invitation) => i.status === 'sending' || (i.status === 'responded' && i.answeredFrom === 'sending');
const isReminderCutOff = (i: Invitation) => (i.status === 'sent' || i.status === 'responded' || i.status === 'bounced') && i.reminderSending !== undefined;

/**
 * Reminders cut off mid-send (see `deliverReminder`): with SES's record of that reminder, its
 * flight ends as the worker would have ended it; without, it is due again and queued. One whose
 * recipient answered meanwhile, or whose address bounced, just ends, counted only if SES took it.
 */
async function settleCutOffReminders(deps: RecoveryDeps, invitations: Leased[], now: Date, roundOf: () => Promise<Round>) {
  const settled = { recorded: 0, resent: 0 };
  if (invitations.length === 0) return settled;
  const accepted = await deps.records.reminders(invitations.map((i) => ({ roundId: i.roundId, invitationId: i.invitationId, reminder: i.remindersSent })));
  const resend: SendJob[] = [];
  for (const i of invitations) {
    const dueAt = i.reminderSending!;
    if (i.status !== 'sent') {
      const taken = accepted.has(i.invitationId);
      if ((await settleLeftReminder(deps.db, i, dueAt, { taken, leaseRead: i.checkAt })) && taken) settled.recorded++;
    } else if (accepted.has(i.invitationId)) {
      // The next reminder is planned as the worker would have (its claim counted this one).
      const round = await roundOf();
      if (await finishReminder(deps.db, round, i, dueAt, nextReminderAt(round, i, i.sentAt!, i.remindersSent), { leaseRead: i.checkAt })) settled.recorded++;
    } else if (await rearmReminder(deps.db, i, dueAt, { lastFailure: 'Interrupted', now, queuedUntil: new Date(now.getTime() + LEASE_MS), leaseRead: i.checkAt })) {
      resend.push({ kind: 'reminder', roundId: i.roundId, invitationId: i.invitationId, dueAt });
    }
  }
  await deps.queue.enqueue(resend);
  settled.resent = resend.length;
  return settled;
}

async function requeueLost(deps: RecoveryDeps, roundId: string, invitations: Leased[], now: Date): Promise<number> {
  const jobs: SendJob[] = [];
  // Never queued again: its creation may have died before its own checks, which a stop or an
  // erasure since its first read relied on. Once queued again, any stop or erasure finds it.
  await checkCreatedInvitations(deps.db, roundId, invitations.filter((i) => i.requeues === undefined), now);
  // A page of leases at a time, a few writes at once: after a crash there may be tens of thousands.
  await mapConcurrent(invitations, 8, async (i) => {
    const requeues = (i.requeues ?? 0) + 1;
    const lease = leaseUntil(new Date(now.getTime() + queueLeaseMs(requeues)));
    const taken = await updateIfUnchanged(deps.db, {
      Key: keys.invitation(i.roundId, i.invitationId),
      UpdateExpression: 'SET queuedAt = :now, requeues = :requeues, checkAt = :lease',
      ConditionExpression: '#status = :pending AND checkAt = :read',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':now': iso(now), ':requeues': requeues, ':lease': lease.checkAt, ':pending': 'pending', ':read': i.checkAt },
    });
    if (taken) jobs.push({ kind: 'invitation', roundId: i.roundId, invitationId: i.invitationId });
  });
  // Leased first, queued after: if queuing fails, the new lease runs out and the next sweep tries again.
  await deps.queue.enqueue(jobs);
  return jobs.length;
}

async function settleCutOff(deps: RecoveryDeps, invitations: Leased[], now: Date, roundOf: () => Promise<Round>) {
  const settled = { recorded: 0, resent: 0 };
  if (invitations.length === 0) return settled;
  const accepted = await deps.records.firstEmails(invitations);
  const resend: SendJob[] = [];
  for (const i of invitations) {
    const messageId = accepted.get(i.invitationId);
    if (messageId) {
      if (await recordSent(deps.db, await roundOf(), i, messageId, now)) settled.recorded++;
    } else if (i.status === 'responded') {
      // Answered through the link the email carried: it arrived, whatever the record says.
      if (await recordSent(deps.db, await roundOf(), i, null, now)) settled.recorded++;
    } else if (await returnToQueue(deps.db, i, now, { delaySeconds: 0, lastFailure: 'Interrupted', leaseRead: i.checkAt })) {
      resend.push({ kind: 'invitation', roundId: i.roundId, invitationId: i.invitationId });
    }
  }
  await deps.queue.enqueue(resend);
  settled.resent = resend.length;
  return settled;
}

