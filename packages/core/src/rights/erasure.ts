import * as v from 'valibot';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { movedOff } from '../survey/moved';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { withoutKeys } from '../db/items';
import { isConditionFailed } from '../db/conditions';
import { batchGet, itemKey, mapConcurrent } from '../db/batch';
import { queryPrefix, type PageRequest } from '../db/page';
import { addressHash, normalizeAddress } from '../survey/address';
import type { Round } from '../survey/round';
import { NotFoundError } from '../shared/errors';
import { hashedId, isId } from '../shared/ids';
import { EmailSchema } from '../shared/schemas';
import { iso } from '../shared/time';
import { parseInput } from '../shared/validate';
import {
  closeInvitation,
  collectInvitation,
  collectResponse,
  eraseInvitationIdentity,
  eraseResponse,
  eraseSkipped,
  eraseUnreleasedAnswer,
  invitationWithResponse,
  noTraces,
  redactBody,
  redactIdempotentAnswers,
  redactWebhookBodies,
  staysPublished,
  unlinkInvitation,
  unlinkReleasedAnswer,
} from './forget';

export const ErasureInputSchema = v.object({ email: EmailSchema });

/** The record of an erasure: when, by whom, and of which address's hash — never the address. */
export interface Erasure {
  erasureId: string;
  /** SHA-256 of the lower-cased address: what the suppression that keeps them out is keyed by. */
  addressHash: string;
  /** `pending` while the erasure runs (or after it was cut off: the same request again finishes it); `done` after. */
  status: 'pending' | 'done';
  requestedAt: string;
  /** The API key id (or console member id) that asked. */
  requestedBy: string;
  completedAt: string | null;
  /** What the last run changed: invitations, named responses (anonymous ones are not counted), webhook bodies, idempotent answers. */
  erased: { invitations: number; responses: number; webhookBodies: number; storedAnswers: number } | null;
}

/**
 * Erases a person's data from an agency (DESIGN-NOTES "Data rights"): their name, address and
 * outlet from every invitation and skipped record, their identity and comments from their
 * responses (which are the released rows too) and testimonials, and the copies of any of these in
 * the agency's webhook bodies and stored idempotent answers; the agency's list of suppressions
 * forgets the address. The released counters are anonymous and stay. A suppression keyed by the
 * address's hash, reason `erased`, keeps them from being surveyed again (round creation skips them
 * as `erased`) and cannot be lifted.
 *
 * Runs within the request. Its id follows from the agency and the address's hash, so the record
 * is written first (`pending`) and a request cut off half-way is finished by the same request
 * again: every step sets a fixed state and skips what is done. Asking again later runs it again
 * (catching anything new), keeping the first record's time and author. Whether the record is new.
 */
export async function eraseAddress(db: Db, agencyId: string, input: unknown, requestedBy: string, now: Date): Promise<{ erasure: Erasure; created: boolean }> {
  const { email } = parseInput(ErasureInputSchema, input);
  const hash = addressHash(email);
  const erasureId = hashedId('era', agencyId, hash);
  const record: Erasure = { erasureId, addressHash: hash, status: 'pending', requestedAt: iso(now), requestedBy, completedAt: null, erased: null };
  let created = true;
  try {
    await db.doc.send(new PutCommand({ TableName: db.table, Item: { ...keys.erasure(agencyId, erasureId), type: 'erasure', ...record }, ConditionExpression: 'attribute_not_exists(PK)' }));
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
    created = false;
  }
  // First the suppression: no round takes the address while (or after) its data goes.
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: keys.agencySuppression(hash, agencyId),
      UpdateExpression: 'SET #type = :type, reason = :erased, #at = if_not_exists(#at, :now) REMOVE via',
      ExpressionAttributeNames: { '#type': 'type', '#at': 'at' },
      ExpressionAttributeValues: { ':type': 'suppression', ':erased': 'erased', ':now': iso(now) },
    }),
  );
  const traces = noTraces();
  traces.emails.add(normalizeAddress(email));
  const erased = { invitations: 0, responses: 0, webhookBodies: 0, storedAnswers: 0 };

  // Read everything first, then rewrite the copies (webhook bodies, stored answers), then the
  // originals: a run cut off anywhere leaves the originals to find the copies by on the retry.
  const { Item: state } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.recipientState(agencyId, hash), ConsistentRead: true }));
  const rounds = [...((state?.rounds as Set<string> | undefined) ?? [])];
  const ours = (
    await mapConcurrent(rounds, 4, async (roundId) => {
      const { Item: round } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.round(roundId) }));
      return round && (round as Round).agencyId === agencyId ? [roundId] : [];
    })
  ).flat();
  // Each invitation is closed to answers before it is read (`erasedAt`, which a submit's
  // transaction checks): an answer racing the erasure either landed before, and is read here, or is refused.
  await mapConcurrent(ours, 4, (roundId) => closeInvitation(db, roundId, hashedId('inv', roundId, hash), now));
  const found = await mapConcurrent(ours, 4, async (roundId) => ({ roundId, ...(await invitationWithResponse(db, roundId, hashedId('inv', roundId, hash))) }));
  for (const { invitation, response } of found) {
    if (invitation) collectInvitation(traces, invitation);
    // The ids its address gives, which an event body quotes (a named answer's invitation and batch):
    // whoever knows the address could tell the body by them.
    if (invitation) traces.texts.add(invitation.invitationId);
    if (response?.attribution === 'named' && response.release) traces.texts.add(response.release.batchId);
    // Only a named answer's comment can be in a copy (its `response.created` event): an anonymous
    // one released stays as published (`unlinkReleasedAnswer`), and one not yet released is in no
    // copy. Looked for, it would null others' published comments that read the same, and the count
    // of bodies changed would tell the agency whether, and what, the person answered.
    if (response?.attribution === 'named') collectResponse(traces, response, { identity: true, comment: true });
  }
  erased.webhookBodies = await redactWebhookBodies(db, agencyId, traces);
  erased.storedAnswers = await redactIdempotentAnswers(db, agencyId, traces);
  // The agency's list entries name the address (in their SK): they go; the hashed suppressions stay.
  for (const scope of ['agency', 'global'] as const) {
    await db.doc.send(new DeleteCommand({ TableName: db.table, Key: keys.suppressionListing(agencyId, email, scope) }));
  }
  await mapConcurrent(found, 4, async ({ roundId, invitation, response }) => {
    if (invitation) {
      await eraseInvitationIdentity(db, invitation, now);
      erased.invitations++;
    } else if (await movedOff(db, roundId, hashedId('inv', roundId, hash))) {
      // Moved by an earlier run (`unlinkInvitation`): counted as then, or where a run was cut off
      // (one more write for one who answered) would tell whether the person answered.
      erased.invitations++;
    }
    if (response?.attribution === 'named') {
      await eraseResponse(db, response, { identity: true, comment: true });
      erased.responses++;
    } else if (response) {
      // Anonymous, released (or released since it was read, by a close running alongside): it
      // stays as published. Not yet released, it is erased too, uncounted: the count would tell
      // the agency who answered.
      if (staysPublished(response) || !(await eraseUnreleasedAnswer(db, response))) await unlinkReleasedAnswer(db, response);
    }
    await eraseSkipped(db, roundId, new Set([normalizeAddress(email)]));
    // Last: a run cut off before finds the invitation (and its named answer) where its address gives it.
    await unlinkInvitation(db, roundId, hashedId('inv', roundId, hash));
  });

  const { Attributes } = await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: keys.erasure(agencyId, erasureId),
      UpdateExpression: 'SET #status = :done, completedAt = :now, erased = :erased',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':done': 'done', ':now': iso(now), ':erased': erased },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return { erasure: withoutKeys<Erasure>(Attributes!), created };
}

/** What may be an address in a body: the erased ones are found by their hash. */
const ADDRESS_LIKE = /[^\s"\\<>(),;:@]+@[^\s"\\<>(),;:@]+/g;

/**
 * An idempotent answer without the addresses the agency has erased, read after it was stored: an
 * erasure writes its suppression before it rewrites the stored answers, so an answer stored after
 * that rewrite (a round created while the erasure ran: its 202 lists the address as skipped) is
 * found here instead. The body as it was when it names no erased address.
 */
export async function withoutErasedAddresses(db: Db, agencyId: string, body: string): Promise<string> {
  const addresses = [...new Set((body.match(ADDRESS_LIKE) ?? []).map(normalizeAddress))];
  if (addresses.length === 0) return body;
  const found = await batchGet(db, addresses.map((a) => keys.agencySuppression(addressHash(a), agencyId)), { consistent: true });
  const erased = addresses.filter((a) => found.get(itemKey(keys.agencySuppression(addressHash(a), agencyId)))?.reason === 'erased');
  if (erased.length === 0) return body;
  return redactBody(body, { ...noTraces(), emails: new Set(erased) }).body;
}

/** A record of the agency's; another agency's is "not found", like a missing one. */
export async function getErasure(db: Db, agencyId: string, erasureId: string): Promise<Erasure> {
  if (!isId('era', erasureId)) throw new NotFoundError('erasure');
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.erasure(agencyId, erasureId) }));
  if (!Item) throw new NotFoundError('erasure');
  return withoutKeys<Erasure>(Item);
}

/** The agency's erasures, by id (their ids follow from the address, so the order says nothing of it). */
export function listErasures(db: Db, agencyId: string, page: PageRequest) {
  return queryPrefix(db, { partition: keys.agency(agencyId).PK, prefix: 'ERA#' }, page, (item) => withoutKeys<Erasure>(item));
}
