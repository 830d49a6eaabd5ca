import { createHash } from 'node:crypto';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { isConditionFailed } from '../db/conditions';
import { transactIfUnchanged, updateIfUnchanged } from '../db/transact';
import { setClauses } from '../db/items';
import { iso } from '../shared/time';
import { LEASE_MS } from './lease';
import type { SendJob } from './queue';
import type { TransactItems } from '../db/transact';
import { eventIdFor, webhookOutbox } from '../webhooks/events';

type Key = { PK: string; SK: string };

/**
 * Claims on the emails that are not an invitation's: an early warning, a summary. A claim is the
 * marker item that makes the email go out once (`status: sending`), holding the job that sends it
 * and a lease in the lease index. If the worker dies, or SES's answer is lost, the recovery sweep
 * settles it from SES's record when the lease runs out: found → `sent`; not found → the claim is
 * given back and the job queued again. SES's record names the email by its reference (`mailRef`):
 * the SES tag `mail` on AWS, a last line of the plain-text part in the local store.
 */
export const mailRef = (key: Key) => createHash('sha256').update(`${key.PK}\u0000${key.SK}`).digest('hex').slice(0, 24);

/** The plain-text part with the reference as its last line (the HTML part is left as it is). */
export const withMailRef = (text: string, ref: string) => `${text.trimEnd()}\n\nRef. ${ref}\n`;

/** The SES tags of a claimed email. */
export const mailTags = (ref: string) => ({ kind: 'mail', mail: ref });

/**
 * The attributes of a marker that claims an email: `sending`, leased, with the job that sends it.
 * `countsOn`: a counter item (a summary run) that counted the claim, counted down if it is given back.
 */
export function mailClaim(key: Key, job: SendJob, now: Date, countsOn?: Key) {
  const ref = mailRef(key);
  return { status: 'sending', claimedAt: iso(now), mailRef: ref, job, ...(countsOn ? { countsOn } : {}), ...keys.mailLease(ref, iso(new Date(now.getTime() + LEASE_MS))) };
}

/** Ends a claim: `sent` or `failed`, out of the lease index. Conditional on the claim (and, for the sweep, on the lease read). */
export function settleMail(db: Db, key: Key, set: Record<string, unknown>, leaseRead?: string, also: TransactItems = []): Promise<boolean> {
  const extra = setClauses(set);
  const update = {
    Key: key,
    UpdateExpression: `SET ${extra.clauses.join(', ')} REMOVE GSI1PK, GSI1SK, job`,
    ConditionExpression: `#status = :sending${leaseRead ? ' AND GSI1SK = :lease' : ''}`,
    ExpressionAttributeNames: { '#status': 'status', ...extra.names },
    ExpressionAttributeValues: { ':sending': 'sending', ...(leaseRead ? { ':lease': leaseRead } : {}), ...extra.values },
  };
  return also.length > 0 ? transactIfUnchanged(db, [{ Update: { TableName: db.table, ...update } }, ...also]) : updateIfUnchanged(db, update);
}

/** A pro summary's marker (`AG#<a>#PRO#<p>#SUM`, the period): its `summary.sent` event is written with the settle. */
const PRO_SUMMARY = /^AG#([^#]+)#PRO#([^#]+)#SUM$/;

/**
 * Settles a claimed email as sent, by the worker or by the recovery sweep from SES's record; a pro
 * summary's `summary.sent` webhook event goes in the same write, so neither path can lose it.
 */
export async function mailSent(db: Db, key: Key, at: Date, messageId: string | null, leaseRead?: string): Promise<boolean> {
  const summary = PRO_SUMMARY.exec(key.PK);
  const also = summary
    ? await webhookOutbox(db, {
        eventId: eventIdFor(at, 'summary.sent', key.PK, key.SK),
        agencyId: summary[1]!,
        type: 'summary.sent',
        timestamp: iso(at),
        data: { proId: summary[2]!, period: key.SK, sentAt: iso(at) },
      })
    : [];
  return settleMail(db, key, { status: 'sent', sentAt: iso(at), ...(messageId ? { messageId } : {}) }, leaseRead, also);
}

export const mailFailed = (db: Db, key: Key, at: Date, failure: string) => settleMail(db, key, { status: 'failed', failedAt: iso(at), failure });

/**
 * Gives a claim back (SES took nothing): the marker goes, counted down where it was counted, so the
 * job, queued again, claims it afresh. False when the claim moved on meanwhile.
 */
export async function releaseMail(db: Db, key: Key, countsOn: Key | undefined, leaseRead?: string): Promise<boolean> {
  const Delete = {
    TableName: db.table,
    Key: key,
    ConditionExpression: `#status = :sending${leaseRead ? ' AND GSI1SK = :lease' : ''}`,
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':sending': 'sending', ...(leaseRead ? { ':lease': leaseRead } : {}) },
  };
  if (countsOn) {
    return transactIfUnchanged(db, [{ Delete }, { Update: { TableName: db.table, Key: countsOn, UpdateExpression: 'ADD settled :minus', ExpressionAttributeValues: { ':minus': -1 } } }]);
  }
  try {
    await db.doc.send(new DeleteCommand(Delete));
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
}
