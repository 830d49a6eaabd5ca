import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { transactIfUnchanged, updateIfUnchanged, type TransactItems } from '../db/transact';
import { setClauses } from '../db/items';
import { mapConcurrent } from '../db/batch';
import type { InvitationStatus } from '../survey/round';

/**
 * Moves an invitation from one status to another (and `also`, e.g. the score counters' delivered
 * count), conditional on the status being `from`. Returns false when it was not (someone else
 * moved it first): the caller then does nothing, which is what makes a duplicate job harmless.
 * Nothing else is written: a round's counts are tallied from its invitations when read
 * (`roundProgress`). Alone, it is one conditional UpdateItem; with `roundNotClosing` or `also`, one
 * transaction (the round item only checked, never written, so sends and answers of a round do not
 * queue behind one item), retried when it conflicts.
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
    reminderFlight,
    roundNotClosing = false,
  }: {
    set?: Record<string, unknown>;
    remove?: readonly string[];
    also?: TransactItems;
    /** Only while the invitation still holds this lease (its `checkAt` as read): nobody claimed it since. */
    leaseRead?: string;
    /** Only while the reminder in flight is still this one (its due time), or, null, while none is. */
    reminderFlight?: string | null;
    /**
     * Only while no close or cancel of the round has begun (see `closeRound`) and its pro is not
     * erased (`erasePro`): what an invitation going back to `pending` (claimable) needs.
     */
    roundNotClosing?: boolean;
  } = {},
): Promise<boolean> {
  const extra = setClauses(set);
  const update = {
    Key: keys.invitation(roundId, invitationId),
    UpdateExpression: ['SET #status = :to', ...extra.clauses].join(', ') + removeClause(remove),
    ConditionExpression: [
      '#status = :from',
      ...(leaseRead === undefined ? [] : ['checkAt = :leaseRead']),
      ...(reminderFlight === undefined ? [] : [reminderFlight === null ? 'attribute_not_exists(reminderSending)' : 'reminderSending = :flight']),
    ].join(' AND '),
    ExpressionAttributeNames: { '#status': 'status', ...extra.names, ...removeNames(remove) },
    ExpressionAttributeValues: { ':to': to, ':from': from, ...extra.values, ...(leaseRead === undefined ? {} : { ':leaseRead': leaseRead }), ...(typeof reminderFlight === 'string' ? { ':flight': reminderFlight } : {}) },
  };
  if (!roundNotClosing && also.length === 0) return updateIfUnchanged(db, update);
  return transactIfUnchanged(db, [
    { Update: { TableName: db.table, ...update } },
    ...(roundNotClosing ? [{ ConditionCheck: { TableName: db.table, Key: keys.round(roundId), ConditionExpression: 'attribute_not_exists(closing) AND attribute_not_exists(proErasedAt)' } }] : []),
    ...also,
  ]);
}

/** Updates in flight at once in `transitionMany`. */
const MANY_AT_ONCE = 16;

/**
 * Moves many invitations of one round from `from` to `to`: what closing a big round needs. Each is
 * one conditional UpdateItem (still `from`), several at once; those that moved meanwhile (answered,
 * say) are left as they are. Not a transaction: nothing here needs two items to move together, and
 * a transactional write costs twice the units. Returns how many moved.
 */
export async function transitionMany(
  db: Db,
  roundId: string,
  invitationIds: readonly string[],
  from: InvitationStatus,
  to: InvitationStatus,
  { set = {}, remove = [], unless }: { set?: Record<string, unknown>; remove?: readonly string[]; /** Left out too while this attribute is set. */ unless?: string } = {},
): Promise<number> {
  const extra = setClauses(set);
  let moved = 0;
  await mapConcurrent(invitationIds, MANY_AT_ONCE, async (invitationId) => {
    const done = await updateIfUnchanged(db, {
      Key: keys.invitation(roundId, invitationId),
      UpdateExpression: ['SET #status = :to', ...extra.clauses].join(', ') + removeClause(remove),
      ConditionExpression: unless === undefined ? '#status = :from' : '#status = :from AND attribute_not_exists(#unless)',
      ExpressionAttributeNames: { '#status': 'status', ...extra.names, ...removeNames(remove), ...(unless === undefined ? {} : { '#unless': unless }) },
      ExpressionAttributeValues: { ':to': to, ':from': from, ...extra.values },
    });
    if (done) moved++;
  });
  return moved;
}

/**
 * Moves the delivery status of an invitation answered before its delivery settled. An anonymous
 * round shows an answered invitation under the status it had (`answeredFrom`), so that status
 * must move exactly as an unanswered one's would — `sending` to `sent` when the worker records the
 * email (the respondent was faster), to `failed` when the send is found interrupted or refused,
 * `sent` to `bounced` on a late bounce — or it alone would stay behind and point at who answered.
 * The round's counts, tallied from `answeredFrom` when read, move with it. False when it was not
 * such an invitation.
 */
export function settleAnsweredSend(
  db: Db,
  roundId: string,
  invitationId: string,
  to: InvitationStatus,
  { from = 'sending', set = {}, remove = [], also = [] }: { from?: InvitationStatus; set?: Record<string, unknown>; remove?: readonly string[]; also?: TransactItems } = {},
): Promise<boolean> {
  const extra = setClauses(set);
  const update = {
    Key: keys.invitation(roundId, invitationId),
    UpdateExpression: ['SET answeredFrom = :to', ...extra.clauses].join(', ') + removeClause(remove),
    ConditionExpression: '#status = :responded AND answeredFrom = :from',
    ExpressionAttributeNames: { '#status': 'status', ...extra.names, ...removeNames(remove) },
    ExpressionAttributeValues: { ':to': to, ':responded': 'responded', ':from': from, ...extra.values },
  };
  if (also.length === 0) return updateIfUnchanged(db, update);
  return transactIfUnchanged(db, [{ Update: { TableName: db.table, ...update } }, ...also]);
}

const removeClause = (remove: readonly string[]) => (remove.length ? ` REMOVE ${remove.map((_, i) => `#r${i}`).join(', ')}` : '');
const removeNames = (remove: readonly string[]) => Object.fromEntries(remove.map((k, i) => [`#r${i}`, k]));
