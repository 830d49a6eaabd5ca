import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { LEASE_PARTITIONS } from '../db/keys';
import { isConditionFailed } from '../db/conditions';
import { queryAll } from '../db/page';
import { iso } from '../shared/time';
import type { JobQueue, SendJob } from '../sending/queue';
import type { SendRecords } from '../sending/records';
import { mailSent, releaseMail } from '../sending/mail-claim';
import { checkRounds } from './round-work';

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

/** An early warning due after an answer whose job may have been lost (see `submitResponse`). */
type LeasedDue = { PK: string; SK: string; GSI1SK: string; type: string; job: SendJob };
/** A claimed warning or summary (see `mailClaim`). */
type LeasedMail = { PK: string; SK: string; GSI1SK: string; status: string; mailRef: string; job: SendJob; countsOn?: { PK: string; SK: string } };

/**
 * The recovery sweep: every send whose lease ran out by `leasesBefore` (default `now`).
 * - Invitations are found per round (`checkRounds`, here without queuing the reminders due).
 * - A claimed early warning or summary (`mailClaim`), found through the sparse lease index: SES's
 *   record decides, as for an invitation.
 * - An early warning due after an answer (`submitResponse`): its job is queued.
 * Each change is conditional on the lease read, so two sweeps at once act once.
 */
export async function recoverSends(deps: RecoveryDeps, now: Date, { leasesBefore = now }: { leasesBefore?: Date } = {}): Promise<Recovered> {
  const [mails, rounds] = await Promise.all([recoverMails(deps, now, leasesBefore), checkRounds(deps, now, { leasesBefore, reminders: false })]);
  return { requeued: mails.requeued + rounds.requeued, recorded: mails.recorded + rounds.recorded, resent: mails.resent + rounds.resent };
}

/** Warnings and summaries whose lease ran out, and early warnings due whose job may be lost. */
export async function recoverMails(deps: RecoveryDeps, now: Date, leasesBefore: Date): Promise<Recovered> {
  const total: Recovered = { requeued: 0, recorded: 0, resent: 0 };
  await Promise.all(
    LEASE_PARTITIONS.map(async (partition) => {
      for await (const items of queryAll(deps.db, {
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK < :before',
        ExpressionAttributeValues: { ':pk': partition, ':before': iso(leasesBefore) },
      })) {
        const mails = (items as unknown as LeasedMail[]).filter((m) => m.mailRef !== undefined);
        const warningsDue = (items as unknown as LeasedDue[]).filter((d) => d.type === 'warningDue');
        total.requeued += await queueDue(deps, warningsDue);
        const claimed = await settleCutOffMails(deps, mails.filter((m) => m.status === 'sending'), now);
        await Promise.all(mails.filter((m) => m.status !== 'sending').map((m) => leaveIndex(deps.db, m)));
        total.recorded += claimed.recorded;
        total.resent += claimed.resent;
      }
    }),
  );
  return total;
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
