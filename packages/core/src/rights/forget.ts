import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { responseItem, responseOf } from '../survey/response-item';
import { randomUUID } from 'node:crypto';
import { hashedId } from '../shared/ids';
import type { Db } from '../db/client';
import { keys, WEBHOOK_DUE_PARTITIONS } from '../db/keys';
import { isConditionFailed } from '../db/conditions';
import { batchGet, itemKey } from '../db/batch';
import { withoutKeys } from '../db/items';
import { queryAll } from '../db/page';
import { transactIfUnchanged, updateIfUnchanged } from '../db/transact';
import { normalizeAddress } from '../survey/address';
import type { Invitation } from '../survey/round';
import { settleHeldAnswer, splitHeldAnswer } from '../survey/held-answer';
import { isTestimonial, type SurveyResponse } from '../survey/response';
import { namedBatchId, newRowKey } from '../release/batch';
import { iso } from '../shared/time';
import { ConflictError } from '../shared/errors';
import { roundWorkTouch } from '../sending/lease';

/**
 * The writes that remove a person's data from the items that hold it, shared by an erasure
 * (`eraseAddress`) and the retention pass. Each is an update to a fixed state, conditional only on
 * the item being there: doing it twice changes nothing, so a retry after a crash just finishes.
 */

/** What an erased invitation (or skipped record) keeps of its address. */
export const ERASED_EMAIL = '';

/** The strings of a person's that may have been copied into stored bodies (webhooks, idempotent answers). */
export interface Traces {
  /** Lower-cased. */
  emails: Set<string>;
  texts: Set<string>;
}

export const noTraces = (): Traces => ({ emails: new Set(), texts: new Set() });

const addText = (traces: Traces, text: string | null | undefined) => {
  if (text) traces.texts.add(text);
};

/** The strings of an invitation's recipient. */
export function collectInvitation(traces: Traces, invitation: Invitation): void {
  if (invitation.email) traces.emails.add(normalizeAddress(invitation.email));
  addText(traces, invitation.name);
  addText(traces, invitation.outlet);
}

/** The strings of a response that `eraseResponse` with `what` removes. */
export function collectResponse(traces: Traces, response: SurveyResponse, what: { identity: boolean; comment: boolean }): void {
  if (what.identity && response.respondent) {
    traces.emails.add(normalizeAddress(response.respondent.email));
    addText(traces, response.respondent.name);
    addText(traces, response.respondent.outlet);
  }
  if (what.comment) addText(traces, response.answers.improve);
}

/** Marks an invitation erased (`erasedAt`, the first time): its link answers as closed, the sender skips it, a racing submit fails its condition. */
export async function closeInvitation(db: Db, roundId: string, invitationId: string, now: Date): Promise<void> {
  await updateIfThere(db, {
    Key: keys.invitation(roundId, invitationId),
    UpdateExpression: 'SET erasedAt = if_not_exists(erasedAt, :now)',
    ExpressionAttributeValues: { ':now': iso(now) },
  });
}

/** Sets an invitation's name, address and outlet to nothing, once (`erasedAt` stays the first time). Whether it had any. */
export async function eraseInvitationIdentity(db: Db, invitation: Pick<Invitation, 'roundId' | 'invitationId' | 'email' | 'erasedAt'>, now: Date): Promise<boolean> {
  if (invitation.erasedAt !== undefined && invitation.email === ERASED_EMAIL) return false;
  await updateIfThere(db, {
    Key: keys.invitation(invitation.roundId, invitation.invitationId),
    UpdateExpression: 'SET email = :erased, #name = :null, outlet = :null, erasedAt = if_not_exists(erasedAt, :now)',
    ExpressionAttributeNames: { '#name': 'name' },
    ExpressionAttributeValues: { ':erased': ERASED_EMAIL, ':null': null, ':now': iso(now) },
  });
  return true;
}

/**
 * Removes from a response (which is also its released row) the respondent's identity (named
 * rounds) and/or their comment; a testimonial copy goes with the comment, or is rewritten without
 * the identity. The numbers stay: the counters were added up from them already.
 */
export async function eraseResponse(db: Db, response: SurveyResponse, what: { identity: boolean; comment: boolean }): Promise<void> {
  const identity = what.identity && response.respondent !== null;
  const comment = what.comment && response.answers.improve !== undefined;
  if (!identity && !comment) return;
  const testimonial = response.release && keys.testimonial(response.agencyId, response.release.rowKey);
  // The testimonial first: the response is what a retry finds it by.
  if (testimonial && comment) await db.doc.send(new DeleteCommand({ TableName: db.table, Key: testimonial }));
  let found = true;
  for (const key of [...(testimonial && !comment ? [testimonial] : []), keys.response(response.roundId, response.invitationId)]) {
    found = await updateIfThere(db, {
      Key: key,
      UpdateExpression: [identity ? 'SET respondent = :null' : '', comment ? 'REMOVE answers.improve' : ''].filter(Boolean).join(' '),
      ...(identity ? { ExpressionAttributeValues: { ':null': null } } : {}),
    });
  }
  // Moved by an erasure since it was read (a retention pass's read): done again where it is now.
  const moved = !found && (await movedRow(db, response));
  if (moved) await eraseResponse(db, moved, what);
}

/**
 * Removes an anonymous answer's comment while it is not released, which nothing then shows, and
 * marks it to be moved off its key when it is (`unlinkOnRelease`: a pool names its members by that
 * key until then): false when a close running alongside released it since it was read. It then
 * stays as published (`unlinkReleasedAnswer`): taking it out of a batch the agency may have read
 * would show which row was the person's.
 */
export async function eraseUnreleasedAnswer(db: Db, response: SurveyResponse): Promise<boolean> {
  return updateIfUnchanged(db, {
    Key: keys.response(response.roundId, response.invitationId),
    UpdateExpression: 'REMOVE answers.improve SET unlinkOnRelease = :yes',
    ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(#release)',
    ExpressionAttributeNames: { '#release': 'release' },
    ExpressionAttributeValues: { ':yes': true },
  });
}

/**
 * An anonymous answer already released is in a published batch: changing it (its comment gone, its
 * testimonial gone) would show which row was the person's, and so their scores, to anyone who read
 * the list before and after. So it stays as published, and only its tie to the person goes: it
 * moves to a random invitation id (its key was derived from their address), in one transaction
 * with its testimonial. Its released copies keep their keys, so no listing changes.
 */
export const staysPublished = (response: SurveyResponse) => response.attribution === 'anonymous' && response.release !== undefined;

export async function unlinkReleasedAnswer(db: Db, response: SurveyResponse): Promise<void> {
  const from = keys.response(response.roundId, response.invitationId);
  for (let attempt = 1; ; attempt++) {
    const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: from, ConsistentRead: true }));
    // Gone: moved by an earlier run of the same erasure.
    if (!Item) return;
    const invitationId = hashedId('inv', 'unlinked', randomUUID());
    const { unlinkOnRelease: _, ...kept } = Item;
    const moved = { ...responseOf(kept), invitationId };
    const moves = await transactIfUnchanged(db, [
      { Put: { TableName: db.table, Item: { ...kept, ...keys.response(response.roundId, invitationId), invitationId }, ConditionExpression: 'attribute_not_exists(PK)' } },
      // Only the row as read: a retention pass removing its comment meanwhile must not see it come back.
      {
        Delete: {
          TableName: db.table,
          Key: from,
          ...(moved.answers.improve === undefined
            ? { ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(answers.improve)' }
            : { ConditionExpression: 'answers.improve = :improve', ExpressionAttributeValues: { ':improve': moved.answers.improve } }),
        },
      },
      // Its testimonial moves with it: a copy still naming the old id would tie it to the
      // person, and a close putting it now checks the old row, so finds it gone and puts nothing.
      ...(moved.release && isTestimonial(moved.answers)
        ? [{ Put: { TableName: db.table, Item: { ...keys.testimonial(moved.agencyId, moved.release.rowKey), type: 'testimonial', ...moved } } }]
        : []),
    ]);
    if (moves) return;
    if (attempt >= MOVE_ATTEMPTS) throw new ConflictError('The answer kept changing while it was being unlinked; try the erasure again');
  }
}

/**
 * Moves read again and retried when what they read changed meanwhile, at most this often: each
 * retry follows a concurrent write, and a move that never lands must end (the erasure is asked
 * again) rather than spin.
 */
const MOVE_ATTEMPTS = 20;

/** What a send, a reminder, a bounce or an answer may change on an invitation while it is being moved. */
const MOVE_GUARD = ['status', 'answeredFrom', 'checkAt', 'reminderSending', 'remindersSent', 'messageId', 'reminderMessageId', 'erasedAt', 'email'] as const;

/**
 * An erased invitation's id is a hash of its round and the address (no secret): whoever knows the
 * address could find, by it, the invitation in the round's listing and, on a named round, which
 * answer (with its scores) was the person's. So the invitation moves to a random id, and with it,
 * in the same transaction, its named answer (released at once: it keeps its place in time, under a
 * new batch id and row key, since the old batch id is a hash of the old invitation id) and that
 * answer's batch. An anonymous answer moves on its own (`unlinkReleasedAnswer`, or on release).
 * The invitation's status, answer times and next look (`checkAt`: a send lease, a reminder due) come
 * along, so the round's counts do not change and its check and the reminders still settle it
 * (as erased: skipped, dropped); once a close has begun, it moves as the close leaves it. A
 * `GONE#` marker under the old id, holding nothing else, tells a send job still naming it that
 * there is nothing to send. Conditional on what a send or a bounce may change being as read:
 * otherwise read again.
 */
export async function unlinkInvitation(db: Db, roundId: string, invitationId: string): Promise<void> {
  const fromInvitation = keys.invitation(roundId, invitationId);
  const fromResponse = keys.response(roundId, invitationId);
  for (let attempt = 1; ; attempt++) {
    const found = await batchGet(db, [fromInvitation, fromResponse, keys.round(roundId)], { consistent: true });
    const invitation = found.get(itemKey(fromInvitation));
    // Gone: moved by an earlier run, or never there.
    if (!invitation) return;
    const response = found.get(itemKey(fromResponse));
    const named = response?.attribution === 'named' && response.release ? responseOf(response) : undefined;
    const to = hashedId('inv', 'unlinked', randomUUID());
    // Once a close or a cancel has begun (`closing`, never taken back), it may have read its pages
    // of invitations: moved to where it read already, the invitation would stay `pending` or `sent`
    // in a closed round. So it moves as that close would leave it (skipped, expired); a send or a
    // reminder in flight stays for the sweep, which the close waits for. Before, the move is
    // conditional on none having begun: a close marked after it reads the new id.
    const stopping = found.get(itemKey(keys.round(roundId)))?.closing !== undefined;
    // A close folding the round's deliveries into the counters tallies them from its pages, which
    // the move may cross (counted twice, or not at all): its entry changes with it, so the fold tallies again.
    const openRound = keys.openRound(invitation.agencyId as string, roundId);
    const { Item: open } = await db.doc.send(new GetCommand({ TableName: db.table, Key: openRound, ConsistentRead: true }));
    const settled = stopping ? settledByClose(invitation) : undefined;
    const { checkAt, ...kept } = invitation;
    // Still looked at by its round's check: the move tells it (`touchRoundWork`), since a check
    // reading the round's pages across the move could see it under neither id.
    const looked = settled === undefined && checkAt !== undefined;
    const guard = Object.fromEntries(MOVE_GUARD.map((name, i) => [name, i]));
    const present = MOVE_GUARD.filter((name) => invitation[name] !== undefined);
    const items: NonNullable<Parameters<typeof transactIfUnchanged>[1]> = [
      { Put: { TableName: db.table, Item: { ...kept, ...settled, ...keys.invitation(roundId, to), ...(looked ? { checkAt } : {}), invitationId: to }, ConditionExpression: 'attribute_not_exists(PK)' } },
      {
        Delete: {
          TableName: db.table,
          Key: fromInvitation,
          ConditionExpression: MOVE_GUARD.map((name) => (invitation[name] === undefined ? `attribute_not_exists(#g${guard[name]})` : `#g${guard[name]} = :g${guard[name]}`)).join(' AND '),
          ExpressionAttributeNames: Object.fromEntries(MOVE_GUARD.map((name) => [`#g${guard[name]}`, name])),
          ...(present.length ? { ExpressionAttributeValues: Object.fromEntries(present.map((name) => [`:g${guard[name]}`, invitation[name]])) } : {}),
        },
      },
      { Put: { TableName: db.table, Item: { ...keys.movedInvitation(roundId, invitationId), type: 'movedInvitation' } } },
      ...(stopping ? [] : [{ ConditionCheck: { TableName: db.table, Key: keys.round(roundId), ConditionExpression: 'attribute_not_exists(closing)' } }]),
      ...(looked ? [roundWorkTouch(db, roundId)] : []),
      ...(open ? [{ Update: { TableName: db.table, Key: openRound, UpdateExpression: 'ADD changes :one', ConditionExpression: 'attribute_exists(PK)', ExpressionAttributeValues: { ':one': 1 } } }] : []),
    ];
    if (named) {
      const { release } = named;
      const batchId = namedBatchId(roundId, to);
      const rowKey = newRowKey(release!.releasedAt, batchId);
      const moved = { ...named, invitationId: to, release: { ...release!, batchId, rowKey } };
      const { Item: batch } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.batch(release!.batchId), ConsistentRead: true }));
      items.push(
        {
          Put: {
            TableName: db.table,
            Item: { ...keys.response(roundId, to), ...keys.releasedByAgency(named.agencyId, rowKey), ...keys.releasedByPro(named.agencyId, named.proId, rowKey), type: 'response', ...responseItem(moved) },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        { Delete: { TableName: db.table, Key: fromResponse, ConditionExpression: 'revision = :revision', ExpressionAttributeValues: { ':revision': named.revision } } },
      );
      if (batch) {
        items.push(
          { Put: { TableName: db.table, Item: { ...withoutKeys(batch), ...keys.batch(batchId), ...keys.batchByPro(named.agencyId, named.proId, batch.releasedAt as string, batchId), type: 'batch', batchId } } },
          { Delete: { TableName: db.table, Key: keys.batch(release!.batchId) } },
        );
      }
    }
    if (await transactIfUnchanged(db, items)) return;
    if (attempt >= MOVE_ATTEMPTS) throw new ConflictError('The invitation kept changing while it was being unlinked; try the erasure again');
  }
}

/** What a close (or a cancel, for a pending one) makes of an invitation with no send in flight; undefined when it leaves it as it is. */
function settledByClose(invitation: Record<string, unknown>): Record<string, unknown> | undefined {
  if (invitation.status === 'pending') return { status: 'skipped' };
  if (invitation.status === 'sent' && invitation.reminderSending === undefined) return { status: 'expired', nextReminderAt: null };
  return undefined;
}

/**
 * Where a released anonymous row is now if an erasure moved it (`unlinkReleasedAnswer`) since it
 * was read: in its round, under its place in the released lists.
 */
async function movedRow(db: Db, response: SurveyResponse): Promise<SurveyResponse | undefined> {
  if (response.attribution !== 'anonymous' || !response.release) return undefined;
  for await (const items of queryAll(db, {
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :rsp)',
    FilterExpression: '#release.rowKey = :rowKey',
    ExpressionAttributeNames: { '#release': 'release' },
    ExpressionAttributeValues: { ':pk': keys.round(response.roundId).PK, ':rsp': 'RSP#', ':rowKey': response.release.rowKey },
    ConsistentRead: true,
  })) {
    if (items[0]) return responseOf(items[0]);
  }
  return undefined;
}

/** A round's skipped records of the addresses given (lower-cased; all when `null`): their address is set to nothing. */
export async function eraseSkipped(db: Db, roundId: string, emails: Set<string> | null): Promise<void> {
  for await (const items of queryAll(db, {
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :skp)',
    ExpressionAttributeValues: { ':pk': keys.round(roundId).PK, ':skp': 'SKP#' },
  })) {
    for (const item of items) {
      const email = item.email as string;
      if (!email || (emails && !emails.has(normalizeAddress(email)))) continue;
      await updateIfThere(db, { Key: { PK: item.PK as string, SK: item.SK as string }, UpdateExpression: 'SET email = :erased', ExpressionAttributeValues: { ':erased': ERASED_EMAIL } });
    }
  }
}

/**
 * An invitation and its response, read together. An answer held on the invitation moves to its
 * own item first, where an erasure deals with it; none is held after that, as the erasure marked
 * the invitation (`closeInvitation`) before.
 */
export async function invitationWithResponse(db: Db, roundId: string, invitationId: string) {
  const read = () => batchGet(db, [keys.invitation(roundId, invitationId), keys.response(roundId, invitationId)], { consistent: true });
  let found = await read();
  const item = found.get(itemKey(keys.invitation(roundId, invitationId)));
  const { held } = item ? splitHeldAnswer(item) : { held: null };
  if (held) {
    await settleHeldAnswer(db, held);
    found = await read();
  }
  const invitation = found.get(itemKey(keys.invitation(roundId, invitationId)));
  const response = found.get(itemKey(keys.response(roundId, invitationId)));
  return {
    invitation: invitation && withoutKeys<Invitation>(splitHeldAnswer(invitation).invitation),
    response: response && responseOf(response),
  };
}

/**
 * Replaces, in a JSON body, every string that is one of the traces (an address compared
 * lower-cased) by null, and removes an address from within longer strings (a name or a comment is
 * replaced only whole: a short name may be part of other words). Whether anything changed, and the
 * new body.
 */
export function redactBody(body: string, traces: Traces): { changed: boolean; body: string } {
  if (!mentions(body, traces)) return { changed: false, body };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { changed: true, body: '' };
  }
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      if (traces.emails.has(value.trim().toLowerCase()) || traces.texts.has(value)) return null;
      return [...traces.emails].reduce((s, email) => s.replace(new RegExp(escapeRegExp(email), 'gi'), ''), value);
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  const next = JSON.stringify(walk(parsed));
  return { changed: next !== body, body: next };
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether a body holds any trace, as written or as JSON writes it. */
function mentions(body: string, traces: Traces): boolean {
  const lower = body.toLowerCase();
  return [...traces.emails].some((e) => lower.includes(e)) || [...traces.texts].some((t) => body.includes(t) || body.includes(JSON.stringify(t).slice(1, -1)));
}

/**
 * The agency's webhook deliveries (kept 30 days) and outbox events not yet fanned out whose body
 * holds a trace: rewritten without it. A redelivery then sends the redacted body. Reads the
 * agency's endpoints' delivery logs and the four due-index partitions; no Scan. How many changed.
 */
export async function redactWebhookBodies(db: Db, agencyId: string, traces: Traces): Promise<number> {
  let changed = 0;
  const redact = async (item: Record<string, unknown>) => {
    const next = redactBody(item.body as string, traces);
    if (!next.changed) return;
    await updateIfThere(db, { Key: { PK: item.PK as string, SK: item.SK as string }, UpdateExpression: 'SET body = :body', ExpressionAttributeValues: { ':body': next.body } });
    changed++;
  };
  // The outbox events before the deliveries: a fan-out running alongside reads its event again
  // after writing its deliveries, so either it sees the rewrite or its deliveries are found below.
  for (const partition of WEBHOOK_DUE_PARTITIONS) {
    for await (const items of queryAll(db, {
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :pk',
      FilterExpression: '#type = :event AND agencyId = :agency',
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: { ':pk': partition, ':event': 'webhookEvent', ':agency': agencyId },
    })) {
      for (const item of items) await redact(item);
    }
  }
  // The endpoints, and those deleted whose log has not expired yet (their tombstones).
  const hooks: Record<string, unknown>[] = [];
  for (const prefix of ['HOOK#', 'HOOKGONE#']) {
    for await (const items of queryAll(db, {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.agency(agencyId).PK, ':prefix': prefix },
      ProjectionExpression: 'webhookId',
    })) {
      hooks.push(...items);
    }
  }
  for (const hook of hooks) {
    for await (const items of queryAll(db, {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :dlv)',
      ExpressionAttributeValues: { ':pk': `HOOK#${hook.webhookId as string}`, ':dlv': 'DLV#' },
      // Strongly consistent: a delivery a fan-out wrote a moment ago, from the body before the rewrite.
      ConsistentRead: true,
    })) {
      for (const item of items) await redact(item);
    }
  }
  return changed;
}

/** The agency's stored idempotent answers (kept 24 hours) that quote a trace: rewritten without it. How many changed. */
export async function redactIdempotentAnswers(db: Db, agencyId: string, traces: Traces): Promise<number> {
  let changed = 0;
  for await (const items of queryAll(db, {
    IndexName: 'GSI1',
    KeyConditionExpression: 'GSI1PK = :pk',
    ExpressionAttributeValues: { ':pk': keys.idempotencyByAgency(agencyId, '').GSI1PK },
  })) {
    for (const item of items) {
      const stored = item.response as { body?: string } | undefined;
      if (!stored?.body) continue;
      const next = redactBody(stored.body, traces);
      if (!next.changed) continue;
      await updateIfThere(db, {
        Key: { PK: item.PK as string, SK: item.SK as string },
        UpdateExpression: 'SET #response.body = :body',
        ExpressionAttributeNames: { '#response': 'response' },
        ExpressionAttributeValues: { ':body': next.body },
      });
      changed++;
    }
  }
  return changed;
}

/** An update of an item that may have gone meanwhile (TTL, a testimonial withdrawn): then nothing. */
async function updateIfThere(db: Db, input: { Key: { PK: string; SK: string }; UpdateExpression: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> }): Promise<boolean> {
  try {
    await db.doc.send(new UpdateCommand({ TableName: db.table, ...input, ConditionExpression: 'attribute_exists(PK)' }));
    return true;
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
    return false;
  }
}
