import * as v from 'valibot';
import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { failedConditions, isConditionFailed } from '../db/conditions';
import { transactIfUnchanged, updateIfUnchanged } from '../db/transact';
import { eventIdFor, webhookOutbox } from '../webhooks/events';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { withoutKeys } from '../db/items';
import { queryAll, queryPrefix, type PageRequest } from '../db/page';
import { ConflictError, NotFoundError } from '../shared/errors';
import { batchGet, itemKey, mapConcurrent } from '../db/batch';
import { transitionInvitation } from '../sending/transition';
import { END_LOOKS } from '../sending/lease';
import { hashedId } from '../shared/ids';
import type { Invitation } from './round';
import { EmailSchema } from '../shared/schemas';
import { iso } from '../shared/time';
import { parseInput } from '../shared/validate';
import { addressHash } from './address';
import { ERASED_EMAIL, eraseInvitationIdentity } from '../rights/forget';

/** `erased`: the agency erased the address's data (`eraseAddress`); agency scope, never listed, never lifted. */
export type SuppressionReason = 'bounced' | 'complained' | 'unsubscribed' | 'erased';

/**
 * `global` holds for every agency; `agencyId` on a global one names the agency whose survey led to
 * it (its bounce, its complaint, its "stop all" link), which lists it among its own suppressions.
 */
export type SuppressionScope = { global: true; agencyId?: string | undefined } | { agencyId: string };

/** How long an unsubscribe can be undone from the link that made it. */
export const UNDO_UNSUBSCRIBE_HOURS = 24;

/** One suppression in an agency's list (`listSuppressions`). */
export interface ListedSuppression {
  email: string;
  reason: SuppressionReason;
  /** `agency`: this agency's surveys only, and the agency may lift it; `global`: every agency's, for good. */
  scope: 'agency' | 'global';
  at: string;
  /** Who added it by hand (a member id or an API key id); absent when the recipient or SES made it. */
  addedBy?: string;
}

const isGlobal = (scope: SuppressionScope): scope is { global: true; agencyId?: string } => 'global' in scope;

const keyOf = (email: string, scope: SuppressionScope) => {
  const hash = addressHash(email);
  return isGlobal(scope) ? keys.globalSuppression(hash) : keys.agencySuppression(hash, scope.agencyId);
};

const listingKeyOf = (agencyId: string, email: string, scope: SuppressionScope) => keys.suppressionListing(agencyId, email, isGlobal(scope) ? 'global' : 'agency');

/**
 * Stops mail to an address. `global` (a bounce, a complaint, or "stop all Rapport surveys") holds
 * for every agency; otherwise only for the agency named. The first reason recorded stays: a
 * complaint is not turned into an unsubscribe by a later click. `via` is the invitation whose
 * unsubscribe link made it, so that link (and only it) can undo it for a while (`unsuppress`).
 * With an agency in the scope, the agency's list gets an entry, and the agency hears of it by
 * webhook (`recipient.<reason>`), both in the same transaction as the suppression: only a new
 * suppression is told, and always (an address already suppressed is listed as first recorded).
 * Whether the suppression is new.
 */
export async function suppress(
  db: Db,
  email: string,
  reason: Exclude<SuppressionReason, 'erased'>,
  scope: SuppressionScope,
  now: Date,
  options: { via?: string | undefined; addedBy?: string | undefined } = {},
): Promise<boolean> {
  const recorded = await recordSuppression(db, email, reason, scope, now, options);
  // Also when it was recorded before: a run cut off after the write has its sends stopped by the next.
  await enforceSuppression(db, addressHash(email), isGlobal(scope) ? 'global' : scope.agencyId, now);
  return recorded;
}

async function recordSuppression(
  db: Db,
  email: string,
  reason: Exclude<SuppressionReason, 'erased'>,
  scope: SuppressionScope,
  now: Date,
  { via, addedBy }: { via?: string | undefined; addedBy?: string | undefined } = {},
): Promise<boolean> {
  const item = { ...keyOf(email, scope), type: 'suppression', reason, at: iso(now), ...(via ? { via } : {}) };
  const put = { Put: { TableName: db.table, Item: item, ConditionExpression: 'attribute_not_exists(PK)' } };
  const agencyId = scope.agencyId;
  // An address the agency erased is not written down by it again: no list entry, no event.
  if (agencyId && (await erasedBy(db, email, agencyId))) {
    if (isGlobal(scope)) return recordSuppression(db, email, reason, { global: true }, now, { via });
    return false;
  }
  if (!agencyId) {
    try {
      await db.doc.send(new PutCommand(put.Put));
      return true;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      return false;
    }
  }
  const listing = (recorded: { reason: SuppressionReason; at: string }) => ({
    ...listingKeyOf(agencyId, email, scope),
    type: 'suppressionListing',
    email: email.trim(),
    reason: recorded.reason,
    scope: isGlobal(scope) ? 'global' : 'agency',
    at: recorded.at,
    ...(addedBy ? { addedBy } : {}),
  });
  const event = await webhookOutbox(db, {
    eventId: eventIdFor(now, 'recipient', agencyId, addressHash(email), isGlobal(scope) ? 'global' : 'agency'),
    agencyId,
    type: `recipient.${reason}`,
    timestamp: iso(now),
    data: { email, reason, scope: isGlobal(scope) ? 'all-agencies' : 'agency', at: iso(now) },
  });
  if (await transactIfUnchanged(db, [put, { Put: { TableName: db.table, Item: listing({ reason, at: item.at }) } }, ...event])) return true;
  // Suppressed already (by another agency's survey, say): listed here too, as it was recorded.
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keyOf(email, scope), ConsistentRead: true }));
  if (Item) await putIfAbsent(db, listing(Item as { reason: SuppressionReason; at: string }));
  return false;
}

/**
 * Stops the emails a suppression forbids, where the suppression is written: the sender reads no
 * suppression before it sends. Every invitation of the address in the agency (`global`: in each
 * agency that surveyed it: its recipient states sit beside the suppression, keys.ts 10c) found by the recipient state's `rounds` (keys.ts 45)
 * that is still `pending` is skipped; one being sent or sent gets `suppressedAt`: if SES did not
 * take that email, its next claim skips it, and its reminders stop. Reads are consistent and follow
 * the suppression's write, and a round being created reads the suppressions again after writing its
 * invitations (`skipSuppressedInvitations`): of a suppression and a round created at the same
 * moment, one sees the other.
 */
export async function enforceSuppression(db: Db, hash: string, scope: 'global' | string, now: Date): Promise<void> {
  // A global one: every agency's state of the address (its partition, keys.ts 10c).
  const states: Record<string, unknown>[] = [];
  if (scope === 'global') {
    const surveyed = queryAll(db, {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :rcp)',
      ExpressionAttributeValues: { ':pk': keys.globalSuppression(hash).PK, ':rcp': 'RCP#' },
      ConsistentRead: true,
    });
    for await (const page of surveyed) states.push(...page);
  } else {
    states.push(...(await batchGet(db, [keys.recipientState(scope, hash)], { consistent: true })).values());
  }
  const invitations = states.flatMap((state) => [...((state.rounds as Set<string> | undefined) ?? [])].map((roundId) => keys.invitation(roundId, hashedId('inv', roundId, hash))));
  const found = await batchGet(db, invitations, { consistent: true });
  await mapConcurrent([...found.values()], 4, (invitation) => stopSend(db, invitation as unknown as Invitation, now));
}

/** Skips a pending invitation of a suppressed address, or marks one being sent or sent (`suppressedAt`). */
async function stopSend(db: Db, invitation: Pick<Invitation, 'roundId' | 'invitationId' | 'status'>, now: Date): Promise<void> {
  const { roundId, invitationId } = invitation;
  const at = iso(now);
  if (invitation.status === 'pending' && (await transitionInvitation(db, roundId, invitationId, 'pending', 'skipped', { set: { suppressedAt: at }, remove: END_LOOKS }))) return;
  if (!['pending', 'sending', 'sent'].includes(invitation.status)) return;
  // Being sent (claimed meanwhile, perhaps): if SES does not take it, it comes back to `pending`
  // and its next claim finds the mark; once sent, its reminders find it.
  await updateIfUnchanged(db, {
    Key: keys.invitation(roundId, invitationId),
    UpdateExpression: 'SET suppressedAt = :at',
    ConditionExpression: '#status IN (:sending, :sent)',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':at': at, ':sending': 'sending', ':sent': 'sent' },
  });
}

/**
 * After a round wrote its invitations and skipped records, the suppressions of their addresses
 * read again (consistent): a suppression written between the round's first read and its writes did
 * not see the round in the recipient states, so the round skips those invitations itself
 * (`enforceSuppression`). `also`: the addresses of its skipped records. Returns the hashes the
 * agency erased meanwhile (reason `erased`): the erasure did not find the round's copies of them;
 * their invitations' identities are erased here, before any is skipped.
 */
export async function skipSuppressedInvitations(db: Db, agencyId: string, invitations: readonly Invitation[], now: Date, also: readonly string[] = []): Promise<Set<string>> {
  const hashes = invitations.map((i) => addressHash(i.email));
  const all = [...new Set([...hashes, ...also.map(addressHash)])];
  const found = await batchGet(db, all.flatMap((h) => [keys.globalSuppression(h), keys.agencySuppression(h, agencyId)]), { consistent: true });
  const erased = new Set(all.filter((h) => found.get(itemKey(keys.agencySuppression(h, agencyId)))?.reason === 'erased'));
  // An erased address's identity goes before its invitation is skipped: a skipped invitation has no
  // look left (`checkAt`), so a run cut off between the two would leave the address for good.
  await mapConcurrent(
    invitations.filter((invitation, i) => invitation.email !== ERASED_EMAIL && erased.has(hashes[i]!)),
    4,
    (invitation) => eraseInvitationIdentity(db, invitation, now),
  );
  const suppressed = invitations.filter((_, i) => found.has(itemKey(keys.globalSuppression(hashes[i]!))) || found.has(itemKey(keys.agencySuppression(hashes[i]!, agencyId))));
  await mapConcurrent(suppressed, 4, (invitation) => stopSend(db, invitation, now));
  return erased;
}

async function erasedBy(db: Db, email: string, agencyId: string): Promise<boolean> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.agencySuppression(addressHash(email), agencyId) }));
  return Item?.reason === 'erased';
}

async function putIfAbsent(db: Db, item: Record<string, unknown>) {
  try {
    await db.doc.send(new PutCommand({ TableName: db.table, Item: item, ConditionExpression: 'attribute_not_exists(PK)' }));
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
  }
}

/**
 * Undoes an unsubscribe, from the link that made it, within UNDO_UNSUBSCRIBE_HOURS: the delete is
 * conditional on the item being an unsubscribe made `via` that invitation since then. A bounce or a
 * complaint is never lifted, nor an unsubscribe made by another link or earlier. The agency's list
 * entry goes with it. Whether it was lifted.
 */
export async function unsuppress(db: Db, email: string, scope: SuppressionScope, via: string, now: Date): Promise<boolean> {
  try {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Delete: {
              TableName: db.table,
              Key: keyOf(email, scope),
              ConditionExpression: 'reason = :unsubscribed AND via = :via AND #at >= :since',
              ExpressionAttributeNames: { '#at': 'at' },
              ExpressionAttributeValues: { ':unsubscribed': 'unsubscribed', ':via': via, ':since': iso(new Date(now.getTime() - UNDO_UNSUBSCRIBE_HOURS * 3_600_000)) },
            },
          },
          ...(scope.agencyId ? [{ Delete: { TableName: db.table, Key: listingKeyOf(scope.agencyId, email, scope) } }] : []),
        ],
      }),
    );
    return true;
  } catch (error) {
    if (!failedConditions(error)?.includes(0)) throw error;
    return false;
  }
}

export const SuppressionInputSchema = v.object({ email: EmailSchema });

/**
 * An agency suppresses an address by hand (someone asked by phone, say): an unsubscribe from the
 * agency's surveys, listed with who added it. An address suppressed already stays as recorded.
 */
export async function addSuppression(db: Db, agencyId: string, input: unknown, addedBy: string, now: Date): Promise<{ suppression: ListedSuppression; created: boolean }> {
  const { email } = parseInput(SuppressionInputSchema, input);
  const created = await suppress(db, email, 'unsubscribed', { agencyId }, now, { addedBy });
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: listingKeyOf(agencyId, email, { agencyId }), ConsistentRead: true }));
  return { suppression: withoutKeys<ListedSuppression>(Item!), created };
}

/**
 * An agency's suppressions, by address: its own unsubscribes, and the global ones its surveys led
 * to. One query on the agency's partition (`SUP#` entries), never a scan of the suppressions.
 */
export function listSuppressions(db: Db, agencyId: string, page: PageRequest) {
  return queryPrefix(db, { partition: keys.agency(agencyId).PK, prefix: 'SUP#' }, page, (item) => withoutKeys<ListedSuppression>(item));
}

/**
 * Lifts an agency's unsubscribe of an address (the recipient asked to be surveyed again, or it was
 * added in error). Only the agency's own: a bounce, a complaint or a "stop all" holds for every
 * agency and no agency lifts it, nor the suppression an erasure keeps (both a ConflictError); an
 * address the agency has not suppressed is a NotFoundError.
 */
export async function liftSuppression(db: Db, agencyId: string, email: string): Promise<void> {
  const scope = { agencyId };
  try {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Delete: {
              TableName: db.table,
              Key: keyOf(email, scope),
              ConditionExpression: 'attribute_exists(PK) AND reason <> :erased',
              ExpressionAttributeValues: { ':erased': 'erased' },
            },
          },
          { Delete: { TableName: db.table, Key: listingKeyOf(agencyId, email, scope) } },
        ],
      }),
    );
  } catch (error) {
    if (!failedConditions(error)?.includes(0)) throw error;
    const found = await batchGet(db, [keyOf(email, scope), keyOf(email, { global: true })], { consistent: true });
    if (found.get(itemKey(keyOf(email, scope)))?.reason === 'erased') {
      throw new ConflictError('This address’s data was erased at the person’s request: it is not surveyed again', 'email');
    }
    if (found.has(itemKey(keyOf(email, { global: true })))) {
      throw new ConflictError('This address bounced, complained or stopped all surveys: that holds for every agency and cannot be lifted', 'email');
    }
    throw new NotFoundError('suppression');
  }
}
