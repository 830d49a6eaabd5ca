import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { responseOf, storedRelease } from '../survey/response-item';
import { settleHeldAnswers } from '../survey/held-answer';
import type { Db } from '../db/client';
import { keys, ROWS_DUE_PARTITION } from '../db/keys';
import { withoutKeys } from '../db/items';
import { batchGet, itemKey, mapConcurrent } from '../db/batch';
import { isConditionFailed } from '../db/conditions';
import { transactIfUnchanged, type TransactItems } from '../db/transact';
import { queryAll } from '../db/page';
import type { Agency } from '../agency/agency';
import { batchAggregate, counterUpdates } from '../scores/counters';
import { iso, periodOf } from '../shared/time';
import { AUDIENCES, type Audience } from '../survey/instrument';
import { isTestimonial, type SurveyResponse } from '../survey/response';
import { promisedThreshold, type Round } from '../survey/round';
import type { InvitationRef } from '../survey/token';
import { addressHash, mailboxOf } from '../survey/address';
import { newRowKey, poolBatchId, roundBatchId, type Release, type ReleaseBatch } from './batch';
import { presentResponse } from '../responses/listing';
import { unlinkReleasedAnswer } from '../rights/forget';
import { eventIdFor, fitsPayload, webhookOutbox, type WebhookEvent } from '../webhooks/events';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The round item's marker that its answers of an audience went into a batch or the pool. */
const releasedMarker = (audience: Audience) => `released_${audience}`;

/** Every stored answer of a round, read strongly consistent (the round is already closed to answers). */
async function roundResponses(db: Db, roundId: string): Promise<SurveyResponse[]> {
  const found: SurveyResponse[] = [];
  for await (const items of queryAll(db, {
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :rsp)',
    ExpressionAttributeValues: { ':pk': keys.round(roundId).PK, ':rsp': 'RSP#' },
    ConsistentRead: true,
  })) {
    found.push(...items.map((item) => responseOf(item)));
  }
  return found;
}

/**
 * The transaction that releases a batch, exactly once: the batch record (conditional on being
 * absent), its aggregate added to the counters, and `also` (the marker that consumed its answers).
 * The record stays in the rows-due index until every row is marked.
 */
function releaseItems(db: Db, batch: ReleaseBatch, also: TransactItems): TransactItems {
  return [
    ...also,
    {
      Put: {
        TableName: db.table,
        Item: {
          ...keys.batch(batch.batchId),
          ...keys.batchByPro(batch.agencyId, batch.proId, batch.releasedAt, batch.batchId),
          ...keys.batchRowsDue(batch.batchId),
          type: 'batch',
          ...batch,
        },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    },
    ...counterUpdates(db, { agencyId: batch.agencyId, proId: batch.proId, campaignId: batch.campaignId, period: batch.period, audience: batch.audience }, batch.aggregate),
  ];
}

/**
 * Releases the anonymous answers of a closed round: per audience, a group of at least k becomes
 * one batch of the round's campaign and month; a smaller group joins the pro × audience pool,
 * which is released as one batch once it holds k. Safe to run again after a crash: the round's
 * markers say which groups were already taken, and unfinished rows are finished.
 */
export async function releaseRound(db: Db, agency: Agency, roundId: string, now: Date): Promise<number> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.round(roundId), ConsistentRead: true }));
  const round = Item as unknown as Round & Record<string, unknown>;
  if (round.attribution !== 'anonymous') return 0;
  // The k its survey page promised, or the agency's now if that is higher.
  const k = Math.max(promisedThreshold(round), agency.anonymityThreshold);
  // Answers held on their invitations first move to their own items, where the release (and a pool) reads them.
  await settleHeldAnswers(db, roundId);
  const responses = await roundResponses(db, roundId);
  let released = 0;
  for (const audience of AUDIENCES) {
    const group = responses.filter((r) => r.audience === audience);
    if (group.length === 0) continue;
    const marker = releasedMarker(audience);
    if (round[marker] === undefined) {
      // The marker; a round batch also adds to the answers the round shows as released.
      const batched = group.length >= k;
      const take: TransactItems[number] = {
        Update: {
          TableName: db.table,
          Key: keys.round(roundId),
          UpdateExpression: batched ? 'SET #m = :v ADD releasedAnswers :n' : 'SET #m = :v',
          ConditionExpression: 'attribute_not_exists(#m)',
          ExpressionAttributeNames: { '#m': marker },
          ExpressionAttributeValues: batched ? { ':v': roundBatchId(roundId, audience), ':n': group.length } : { ':v': 'pool' },
        },
      };
      if (batched) {
        const batch: ReleaseBatch = {
          batchId: roundBatchId(roundId, audience),
          agencyId: round.agencyId,
          proId: round.proId,
          audience,
          attribution: 'anonymous',
          campaignId: round.campaignId,
          campaignName: round.campaignName,
          period: round.period,
          releasedAt: iso(now),
          k,
          size: group.length,
          aggregate: batchAggregate(group.map((r) => r.answers), k),
          source: { roundId },
        };
        if (await transactIfUnchanged(db, releaseItems(db, batch, [take]))) {
          released++;
          await markRows(db, batch, group);
        }
      } else {
        await transactIfUnchanged(db, [take, poolAppend(db, round, audience, await withPeople(db, group), k)]);
      }
    }
    if (round[marker] === 'pool' || group.length < k) released += await releasePool(db, agency, round.proId, audience, now);
  }
  return released;
}

/**
 * A pooled answer, with the k its round promised and who gave it (the hash of the address, as
 * throttling keys it): one person answering several small rounds is one person, not several.
 */
type PoolMember = InvitationRef & { k: number; who: string };

/** The answers of a group with the address hash of who gave each (from their invitations). */
async function withPeople(db: Db, group: SurveyResponse[]): Promise<{ response: SurveyResponse; who: string }[]> {
  const found = await batchGet(db, group.map((r) => keys.invitation(r.roundId, r.invitationId)));
  return group.map((response) => {
    const invitation = found.get(itemKey(keys.invitation(response.roundId, response.invitationId)));
    return { response, who: addressHash(mailboxOf(String(invitation?.email ?? response.invitationId))) };
  });
}

function poolAppend(db: Db, round: Round, audience: Audience, group: { response: SurveyResponse; who: string }[], k: number): TransactItems[number] {
  const members: PoolMember[] = group.map(({ response: r, who }) => ({ roundId: r.roundId, invitationId: r.invitationId, k, who }));
  return {
    Update: {
      TableName: db.table,
      Key: keys.pool(round.agencyId, round.proId, audience),
      UpdateExpression: 'SET #type = :type, #members = list_append(if_not_exists(#members, :empty), :new) ADD #size :n',
      ExpressionAttributeNames: { '#type': 'type', '#members': 'members', '#size': 'size' },
      ExpressionAttributeValues: { ':type': 'pool', ':empty': [], ':new': members, ':n': members.length },
    },
  };
}

/**
 * Releases the pool of a pro × audience as one batch when it holds the answers of at least k
 * different people (the agency's k now, or a higher one a member's round promised): attributed
 * to "several campaigns" and the month of release. The pool is emptied in the same transaction,
 * conditional on what was read, so a concurrent close cannot release it twice. Throws when it
 * keeps losing that race, so the close is retried by the next scheduled run.
 */
export async function releasePool(db: Db, agency: Agency, proId: string, audience: Audience, now: Date): Promise<number> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const { Item: pool } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.pool(agency.agencyId, proId, audience), ConsistentRead: true }));
    const members = (pool?.members as PoolMember[] | undefined) ?? [];
    const k = Math.max(agency.anonymityThreshold, ...members.map((m) => m.k));
    if (new Set(members.map((m) => m.who)).size < k) return 0;
    const seq = (pool!.seq as number | undefined) ?? 0;
    const found = await batchGet(db, members.map((m) => keys.response(m.roundId, m.invitationId)));
    const responses = members.map((m) => found.get(itemKey(keys.response(m.roundId, m.invitationId)))).filter((r) => r !== undefined).map((r) => responseOf(r));
    const batch: ReleaseBatch = {
      batchId: poolBatchId(agency.agencyId, proId, audience, seq),
      agencyId: agency.agencyId,
      proId,
      audience,
      attribution: 'anonymous',
      campaignId: null,
      campaignName: null,
      period: periodOf(now, agency.timezone),
      releasedAt: iso(now),
      k,
      size: responses.length,
      aggregate: batchAggregate(responses.map((r) => r.answers), k),
      source: { members: members.map(({ roundId, invitationId }) => ({ roundId, invitationId })) },
    };
    const empty: TransactItems[number] = {
      Update: {
        TableName: db.table,
        Key: keys.pool(agency.agencyId, proId, audience),
        UpdateExpression: 'SET #members = :empty, #size = :zero, #seq = :next',
        ConditionExpression: '#size = :size AND (attribute_not_exists(#seq) OR #seq = :seq)',
        ExpressionAttributeNames: { '#members': 'members', '#size': 'size', '#seq': 'seq' },
        ExpressionAttributeValues: { ':empty': [], ':zero': 0, ':next': seq + 1, ':size': members.length, ':seq': seq },
      },
    };
    if (await transactIfUnchanged(db, releaseItems(db, batch, [empty]))) {
      await markRows(db, batch, responses);
      return 1;
    }
    await sleep(10 * 2 ** attempt + Math.random() * 20);
  }
  throw new Error(`The pool of ${proId} × ${audience} changed under every attempt to release it`);
}

/** In place: a uniformly random order (rows appear in it while they are marked). */
function shuffle<T>(list: T[]): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

export const releaseOf = (batch: ReleaseBatch): Omit<Release, 'rowKey'> => ({
  batchId: batch.batchId,
  releasedAt: batch.releasedAt,
  campaignId: batch.campaignId,
  campaignName: batch.campaignName,
  period: batch.period,
  k: batch.k,
});

/**
 * Publishes a released batch's rows: each answer gets the batch's attributes and a random place in
 * the released lists (agency and pro), and a testimonial copy when it is one; in random order, each
 * conditional on not being released yet. The batch then leaves the rows-due index, in one write
 * with its `responses.released` webhook event: a run that dies before is finished by the next
 * (`finishReleases`), which writes the event then (its id follows from the batch: written once).
 */
async function markRows(db: Db, batch: ReleaseBatch, responses: SurveyResponse[]): Promise<void> {
  const rows: SurveyResponse[] = [];
  await mapConcurrent(shuffle([...responses]), 4, (r) => markRow(db, batch, r, rows));
  const done = { Update: { TableName: db.table, Key: keys.batch(batch.batchId), UpdateExpression: 'REMOVE GSI2PK, GSI2SK', ConditionExpression: 'attribute_exists(PK)' } };
  await transactIfUnchanged(db, [done, ...(await webhookOutbox(db, releasedEvent(batch, rows)))]);
}

/** One row of `markRows`: marked (once), its testimonial put, and moved off its key if its respondent was erased before. */
async function markRow(db: Db, batch: ReleaseBatch, r: SurveyResponse, rows: SurveyResponse[]): Promise<void> {
  const row = await markedRow(db, batch, r);
  if (!row) return;
  rows.push(row);
  if (row.unlinkOnRelease) await unlinkReleasedAnswer(db, row);
  else await putTestimonial(db, row);
}

/** The row marked as the batch's (now, or by an earlier run), as stored: undefined if it is not there. */
async function markedRow(db: Db, batch: ReleaseBatch, r: SurveyResponse): Promise<SurveyResponse | undefined> {
  const release: Release = r.release ?? { ...releaseOf(batch), rowKey: newRowKey(batch.releasedAt, batch.batchId) };
  if (!r.release) {
    try {
      // The row as it is now, not as read: an erasure may have removed its comment since.
      const { Attributes } = await db.doc.send(
        new UpdateCommand({
          TableName: db.table,
          Key: keys.response(r.roundId, r.invitationId),
          UpdateExpression: 'SET #release = :release, GSI1PK = :g1pk, GSI1SK = :g1sk, GSI2PK = :g2pk, GSI2SK = :g2sk',
          ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(#release)',
          ExpressionAttributeNames: { '#release': 'release' },
          ExpressionAttributeValues: {
            ':release': storedRelease(release, r),
            ':g1pk': keys.releasedByAgency(batch.agencyId, release.rowKey).GSI1PK,
            ':g1sk': release.rowKey,
            ':g2pk': keys.releasedByPro(batch.agencyId, batch.proId, release.rowKey).GSI2PK,
            ':g2sk': release.rowKey,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return responseOf(Attributes!);
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      // Marked by an earlier run: its testimonial must use the stored place.
      const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.response(r.roundId, r.invitationId), ConsistentRead: true }));
      return Item?.release ? responseOf(Item) : undefined;
    }
  }
  return r;
}

/**
 * `responses.released`: the batch and its rows exactly as `GET /v1/responses` lists them, in its
 * order; a batch too large for one body carries `rowsUrl` instead, the listing narrowed to it
 * (the batch's pro and audience, released at its instant), with `rows: null`.
 */
export function releasedEvent(batch: ReleaseBatch, rows: SurveyResponse[]): WebhookEvent {
  const at = new Date(batch.releasedAt);
  const base = {
    batchId: batch.batchId,
    proId: batch.proId,
    audience: batch.audience,
    campaignId: batch.campaignId,
    campaignName: batch.campaignName,
    period: batch.period,
    releasedAt: batch.releasedAt,
    k: batch.k,
    size: batch.size,
  };
  const sorted = [...rows].sort((a, b) => (a.release!.rowKey < b.release!.rowKey ? -1 : 1)).map(presentResponse);
  const event = { eventId: eventIdFor(at, 'responses.released', batch.batchId), agencyId: batch.agencyId, type: 'responses.released' as const, timestamp: batch.releasedAt };
  const full = { ...event, data: { ...base, rows: sorted, rowsUrl: null } };
  if (fitsPayload(full)) return full;
  const until = new Date(at.getTime() + 1).toISOString();
  const query = new URLSearchParams({ proId: batch.proId, audience: batch.audience, since: batch.releasedAt, until });
  return { ...event, data: { ...base, rows: null, rowsUrl: `/v1/responses?${query}` } };
}

/**
 * The testimonial copy of a released row, only while the row still holds the comment copied: a
 * retention pass or an erasure removing it between the read and this put deletes the copies it
 * finds first (`eraseResponse`), so no copy may come after.
 */
async function putTestimonial(db: Db, r: SurveyResponse): Promise<void> {
  if (!r.release || !isTestimonial(r.answers)) return;
  await transactIfUnchanged(db, [
    { Put: { TableName: db.table, Item: { ...keys.testimonial(r.agencyId, r.release.rowKey), type: 'testimonial', ...r } } },
    {
      ConditionCheck: {
        TableName: db.table,
        Key: keys.response(r.roundId, r.invitationId),
        ConditionExpression: 'answers.improve = :improve',
        ExpressionAttributeValues: { ':improve': r.answers.improve },
      },
    },
  ]);
}

/** The answers a released batch holds. */
async function batchResponses(db: Db, batch: ReleaseBatch): Promise<SurveyResponse[]> {
  if ('roundId' in batch.source) return (await roundResponses(db, batch.source.roundId)).filter((r) => r.audience === batch.audience);
  const members = batch.source.members;
  const found = await batchGet(db, members.map((m) => keys.response(m.roundId, m.invitationId)), { consistent: true });
  const rows = [...found.values()].map((item) => responseOf(item));
  // A member an erasure moved since it was marked (`unlinkReleasedAnswer`): in its round, under
  // another id. Left out, the batch's event would lack one listed row: the person's.
  const gone = new Set(members.filter((m) => !found.has(itemKey(keys.response(m.roundId, m.invitationId)))).map((m) => m.roundId));
  for (const roundId of gone) {
    const listed = new Set(rows.map((r) => `${r.roundId}|${r.invitationId}`));
    rows.push(...(await roundResponses(db, roundId)).filter((r) => r.release?.batchId === batch.batchId && !listed.has(`${r.roundId}|${r.invitationId}`)));
  }
  return rows;
}

/** Finishes the rows of batches a crashed run released but did not finish publishing. Returns how many. */
export async function finishReleases(db: Db): Promise<number> {
  let finished = 0;
  for await (const items of queryAll(db, {
    IndexName: 'GSI2',
    KeyConditionExpression: 'GSI2PK = :pk',
    ExpressionAttributeValues: { ':pk': ROWS_DUE_PARTITION },
  })) {
    for (const item of items) {
      const batch = withoutKeys<ReleaseBatch>(item);
      await markRows(db, batch, await batchResponses(db, batch));
      finished++;
    }
  }
  return finished;
}

/** Every item of one index partition whose sort key is in [from, to], in order. */
async function indexRange<T>(db: Db, index: 'GSI1' | 'GSI2', partition: string, from: string, to: string): Promise<T[]> {
  const found: T[] = [];
  for await (const items of queryAll(db, {
    IndexName: index,
    KeyConditionExpression: `${index}PK = :pk AND ${index}SK BETWEEN :from AND :to`,
    ExpressionAttributeValues: { ':pk': partition, ':from': from, ':to': to },
  })) {
    found.push(...items.map((item) => withoutKeys<T>(item)));
  }
  return found;
}

/** A pro's batches released in [from, to), oldest first: what summaries add up. */
export const batchesReleased = (db: Db, agencyId: string, proId: string, from: string, to: string) =>
  indexRange<ReleaseBatch>(db, 'GSI1', keys.batchByPro(agencyId, proId, '', '').GSI1PK, from, to);

/** Whether a pro had any batch released in [from, to): one query that reads one key at most (the summary job's quiet check). */
export async function anyBatchReleased(db: Db, agencyId: string, proId: string, from: string, to: string): Promise<boolean> {
  const { Items = [] } = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': keys.batchByPro(agencyId, proId, '', '').GSI1PK, ':from': from, ':to': to },
      ProjectionExpression: 'PK',
      Limit: 1,
    }),
  );
  return Items.length > 0;
}

/** A pro's released rows in [from, to), by release (comments in summaries). */
export const rowsReleased = async (db: Db, agencyId: string, proId: string, from: string, to: string) =>
  (await indexRange<Record<string, unknown>>(db, 'GSI2', keys.releasedByPro(agencyId, proId, '').GSI2PK, from, to)).map(responseOf);
