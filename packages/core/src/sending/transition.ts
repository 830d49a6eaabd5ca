import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { setAttributes, transactIfUnchanged, type TransactItems } from '../db/transact';
import { failedConditions, isTransactionConflict } from '../db/conditions';
import type { InvitationStatus } from '../survey/round';

/**
 * Moves an invitation from one status to another, and the round's counts with it (and `also`,
 * e.g. the score counters' delivered count), in one transaction conditional on the status being
 * `from`. Returns false when it was not (someone else moved it first): the caller then does
 * nothing, which is what makes a duplicate job harmless. Transactions touching the same round
 * may conflict; those are retried.
 */
export function transitionInvitation(
  db: Db,
  roundId: string,
  invitationId: string,
  from: InvitationStatus,
  to: InvitationStatus,
  {
    set = {},
    remove = [],
    also = [],
    leaseRead,
    roundNotClosing = false,
  }: {
    set?: Record<string, unknown>;
    remove?: readonly string[];
    also?: TransactItems;
    /** Only while the invitation still holds this lease (its `GSI1SK` as read): nobody claimed it since. */
    leaseRead?: string;
    /** Only while no close of the round has begun (see `closeRound`): what a claim to send needs. */
    roundNotClosing?: boolean;
  } = {},
): Promise<boolean> {
  const extra = setAttributes(set);
  return transactIfUnchanged(db, [
    {
      Update: {
        TableName: db.table,
        Key: keys.invitation(roundId, invitationId),
        UpdateExpression: ['SET #status = :to', ...extra.clauses].join(', ') + removeClause(remove),
        ConditionExpression: leaseRead === undefined ? '#status = :from' : '#status = :from AND GSI1SK = :leaseRead',
        ExpressionAttributeNames: { '#status': 'status', ...extra.names, ...removeNames(remove) },
        ExpressionAttributeValues: { ':to': to, ':from': from, ...extra.values, ...(leaseRead === undefined ? {} : { ':leaseRead': leaseRead }) },
      },
    },
    {
      Update: {
        TableName: db.table,
        Key: keys.round(roundId),
        UpdateExpression: 'ADD #counts.#from :minus, #counts.#to :one',
        ...(roundNotClosing ? { ConditionExpression: 'attribute_not_exists(closing)' } : {}),
        ExpressionAttributeNames: { '#counts': 'counts', '#from': from, '#to': to },
        ExpressionAttributeValues: { ':minus': -1, ':one': 1 },
      },
    },
    ...also,
  ]);
}

/** Invitations per transaction in `transitionMany`: with the round's counts, 100 items, DynamoDB's limit. */
const MANY = 99;

/**
 * Moves many invitations of one round from `from` to `to`, 99 to a transaction with one update of
 * the round's counts: what closing a big round needs (one transaction per invitation takes minutes
 * for tens of thousands). Each is conditional on still being `from`; those that moved meanwhile
 * (answered, say) are left out and the rest written again. Returns how many moved.
 */
export async function transitionMany(
  db: Db,
  roundId: string,
  invitationIds: readonly string[],
  from: InvitationStatus,
  to: InvitationStatus,
  { set = {}, remove = [] }: { set?: Record<string, unknown>; remove?: readonly string[] } = {},
): Promise<number> {
  const extra = setAttributes(set);
  let moved = 0;
  for (let start = 0; start < invitationIds.length; start += MANY) {
    let group = invitationIds.slice(start, start + MANY);
    for (let attempt = 1; group.length > 0; attempt++) {
      const items: TransactItems = group.map((invitationId) => ({
        Update: {
          TableName: db.table,
          Key: keys.invitation(roundId, invitationId),
          UpdateExpression: ['SET #status = :to', ...extra.clauses].join(', ') + removeClause(remove),
          ConditionExpression: '#status = :from',
          ExpressionAttributeNames: { '#status': 'status', ...extra.names, ...removeNames(remove) },
          ExpressionAttributeValues: { ':to': to, ':from': from, ...extra.values },
        },
      }));
      items.push({
        Update: {
          TableName: db.table,
          Key: keys.round(roundId),
          UpdateExpression: 'ADD #counts.#from :minus, #counts.#to :n',
          ExpressionAttributeNames: { '#counts': 'counts', '#from': from, '#to': to },
          ExpressionAttributeValues: { ':minus': -group.length, ':n': group.length },
        },
      });
      try {
        await db.doc.send(new TransactWriteCommand({ TransactItems: items }));
        moved += group.length;
        break;
      } catch (error) {
        const failed = failedConditions(error);
        if (failed === undefined) throw error;
        if (failed.length > 0) group = group.filter((_, i) => !failed.includes(i));
        else if (!isTransactionConflict(error) || attempt >= 9) throw error;
        else await new Promise((r) => setTimeout(r, 10 * 2 ** attempt + Math.random() * 20));
      }
    }
  }
  return moved;
}

/**
 * Moves the delivery status of an invitation answered before its delivery settled. An anonymous
 * round shows an answered invitation under the status it had (`answeredFrom`), so that status
 * must move exactly as an unanswered one's would — `sending` to `sent` when the worker records the
 * email (the respondent was faster), to `failed` when the send is found interrupted or refused,
 * `sent` to `bounced` on a late bounce — or it alone would stay behind and point at who answered.
 * The round's `answeredFrom_<status>` tallies move with it. False when it was not such an invitation.
 */
export function settleAnsweredSend(
  db: Db,
  roundId: string,
  invitationId: string,
  to: InvitationStatus,
  { from = 'sending', set = {}, remove = [], also = [] }: { from?: InvitationStatus; set?: Record<string, unknown>; remove?: readonly string[]; also?: TransactItems } = {},
): Promise<boolean> {
  const extra = setAttributes(set);
  return transactIfUnchanged(db, [
    {
      Update: {
        TableName: db.table,
        Key: keys.invitation(roundId, invitationId),
        UpdateExpression: ['SET answeredFrom = :to', ...extra.clauses].join(', ') + removeClause(remove),
        ConditionExpression: '#status = :responded AND answeredFrom = :from',
        ExpressionAttributeNames: { '#status': 'status', ...extra.names, ...removeNames(remove) },
        ExpressionAttributeValues: { ':to': to, ':responded': 'responded', ':from': from, ...extra.values },
      },
    },
    {
      Update: {
        TableName: db.table,
        Key: keys.round(roundId),
        UpdateExpression: 'ADD #from :minus, #to :one',
        ExpressionAttributeNames: { '#from': `answeredFrom_${from}`, '#to': `answeredFrom_${to}` },
        ExpressionAttributeValues: { ':minus': -1, ':one': 1 },
      },
    },
    ...also,
  ]);
}

const removeClause = (remove: readonly string[]) => (remove.length ? ` REMOVE ${remove.map((_, i) => `#r${i}`).join(', ')}` : '');
const removeNames = (remove: readonly string[]) => Object.fromEntries(remove.map((k, i) => [`#r${i}`, k]));
