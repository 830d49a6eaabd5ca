import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Db } from './client';
import { ValidationError } from '../shared/errors';
import { tableDefinition, type IndexName } from './table';
import { keys } from './keys';

export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

/**
 * What a listing's cursors must look like: the key attributes of its table or index, each a
 * non-empty string, the partition it is bound to, and a sort key within its range.
 */
interface CursorShape {
  index?: IndexName | undefined;
  partition: Record<string, string>;
  /** The sort keys the listing reads start with this ('' for the whole partition). */
  sortPrefix: string;
}

/** A key attribute a cursor may carry is at most this long (ids and sort keys are far shorter). */
const MAX_KEY_LENGTH = 1024;

/**
 * Cursors are the query's LastEvaluatedKey, base64url-encoded. On the way back in they must have
 * the shape of a key of this very listing: the same partition (so a crafted cursor cannot reach
 * another tenant), exactly the key attributes of its table or index, none empty, and a sort key
 * the listing reads (so a cursor of another listing of the same partition does not fit). DynamoDB
 * refuses any other start key with a ValidationException; here it is a 400 on `cursor`.
 */
function decodeCursor(cursor: string, shape: CursorShape): Record<string, string> {
  const invalid = ValidationError.field('cursor', 'is not a cursor returned by this list');
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) throw invalid;
  const key = decoded as Record<string, unknown>;
  const attributes = keyAttributesOf(shape.index);
  const names = Object.keys(key);
  if (names.length !== attributes.length || !attributes.every((name) => typeof key[name] === 'string' && key[name] !== '' && (key[name] as string).length <= MAX_KEY_LENGTH)) {
    throw invalid;
  }
  for (const [name, value] of Object.entries(shape.partition)) {
    if (key[name] !== value) throw invalid;
  }
  const sortKey = shape.index ? tableDefinition.globalIndexes[shape.index].sortKey : tableDefinition.sortKey;
  if (!(key[sortKey] as string).startsWith(shape.sortPrefix)) throw invalid;
  return key as Record<string, string>;
}

const encodeCursor = (key: Record<string, unknown>): string => Buffer.from(JSON.stringify(key)).toString('base64url');

const keyAttributesOf = (indexName: IndexName | undefined): string[] => {
  const table = [tableDefinition.partitionKey, tableDefinition.sortKey];
  if (!indexName) return table;
  const index = tableDefinition.globalIndexes[indexName];
  return [...table, index.partitionKey, index.sortKey];
};

/**
 * Reads one page of a single-partition query. `shape` says which keys the query can return
 * (checked against incoming cursors). It reads one item more than asked, so a cursor is returned
 * only when another page really exists, over as many calls as that takes: DynamoDB stops a call at
 * 1 MB, so one call alone would end a page of large items early (and say it was the last), and
 * a page's length would tell the size of what its items hold.
 */
async function queryPage<T>(
  db: Db,
  input: Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey' | 'IndexName'>,
  shape: CursorShape,
  page: PageRequest,
  toItem: (raw: Record<string, unknown>) => T,
): Promise<Page<T>> {
  let startKey: Record<string, unknown> | undefined = page.cursor ? decodeCursor(page.cursor, shape) : undefined;
  const raw: Record<string, unknown>[] = [];
  do {
    const result = await db.doc.send(
      new QueryCommand({ ...input, ...(shape.index ? { IndexName: shape.index } : {}), TableName: db.table, Limit: page.limit + 1 - raw.length, ExclusiveStartKey: startKey }),
    );
    raw.push(...(result.Items ?? []));
    startKey = result.LastEvaluatedKey;
  } while (startKey && raw.length <= page.limit);
  const more = raw.length > page.limit;
  const shown = more ? raw.slice(0, page.limit) : raw;
  const last = shown.at(-1);
  const nextCursor =
    more && last ? encodeCursor(Object.fromEntries(keyAttributesOf(shape.index).map((k) => [k, last[k]]))) : null;
  return { items: shown.map(toItem), nextCursor };
}

/** One page of the items of a partition whose sort key starts with `prefix` (all of them for ''), on the table or an index. */
export function queryPrefix<T>(
  db: Db,
  where: { partition: string; prefix: string; index?: IndexName; newestFirst?: boolean },
  page: PageRequest,
  toItem: (raw: Record<string, unknown>) => T,
): Promise<Page<T>> {
  const names = where.index ? tableDefinition.globalIndexes[where.index] : tableDefinition;
  return queryPage(
    db,
    {
      ...(where.newestFirst ? { ScanIndexForward: false } : {}),
      // An empty prefix is the whole partition (DynamoDB refuses begins_with on an empty string).
      ...(where.prefix
        ? {
            KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
            ExpressionAttributeNames: { '#pk': names.partitionKey, '#sk': names.sortKey },
            ExpressionAttributeValues: { ':pk': where.partition, ':prefix': where.prefix },
          }
        : { KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': names.partitionKey }, ExpressionAttributeValues: { ':pk': where.partition } }),
    },
    { index: where.index, partition: { [names.partitionKey]: where.partition }, sortPrefix: where.prefix },
    page,
    toItem,
  );
}

/**
 * One page of groups, from a single-partition query whose items come group after group (`keyOf`
 * names an item's group; `shape` which keys it can return): `limit` groups that `toItem` keeps (null drops one), read over as many
 * calls as it takes (`input.Limit` bounds each call). Like `queryPage`, it reads one kept group
 * more than asked, so a cursor is returned only when another page really exists; the cursor is the
 * key of the page's last item, so the next page starts with the next group.
 */
export async function queryGroupPage<T>(
  db: Db,
  input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey' | 'IndexName'>,
  shape: CursorShape,
  page: PageRequest,
  group: { keyOf: (raw: Record<string, unknown>) => string; toItem: (key: string, raws: Record<string, unknown>[]) => T | null },
): Promise<Page<T>> {
  let startKey: Record<string, unknown> | undefined = page.cursor ? decodeCursor(page.cursor, shape) : undefined;
  const kept: Array<{ item: T; last: Record<string, unknown> }> = [];
  let current: { key: string; raws: Record<string, unknown>[] } | undefined;
  const close = () => {
    const item = current && group.toItem(current.key, current.raws);
    if (current && item !== null && item !== undefined) kept.push({ item, last: current.raws.at(-1)! });
    current = undefined;
  };
  do {
    const result = await db.doc.send(new QueryCommand({ ...input, ...(shape.index ? { IndexName: shape.index } : {}), TableName: db.table, ExclusiveStartKey: startKey }));
    for (const raw of result.Items ?? []) {
      const key = group.keyOf(raw);
      if (current && current.key !== key) close();
      if (kept.length > page.limit) break;
      (current ??= { key, raws: [] }).raws.push(raw);
    }
    startKey = result.LastEvaluatedKey;
  } while (startKey && kept.length <= page.limit);
  // The partition ran out: its last group is whole.
  if (kept.length <= page.limit) close();
  const more = kept.length > page.limit;
  const last = more ? kept[page.limit - 1]!.last : undefined;
  return {
    items: kept.slice(0, page.limit).map((k) => k.item),
    nextCursor: last ? encodeCursor(Object.fromEntries(keyAttributesOf(shape.index).map((k) => [k, last[k]]))) : null,
  };
}

/**
 * Every item of one query, page after page, for jobs (never for a request path: it is unbounded).
 * Yields pages so the caller can work on one while holding no more than it in memory.
 */
export async function* queryAll(
  db: Db,
  input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
): AsyncGenerator<Record<string, unknown>[]> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const result = await db.doc.send(new QueryCommand({ ...input, TableName: db.table, ExclusiveStartKey: startKey }));
    if (result.Items?.length) yield result.Items;
    startKey = result.LastEvaluatedKey;
  } while (startKey);
}

/**
 * How many invitations a Query of a round's invitations reads at most in one call. The largest
 * invitation (about 3.5 KB, an answer held on it included: `invitation-list.test.ts`) times this
 * stays under DynamoDB's 1 MB cut, so how many calls a read of a round's invitations takes, and
 * so its latency, follows how many the round has, never what they hold (`held-answer.ts`: whether
 * one person answered, and what; a helper's attack timed it).
 */
export const INVITATIONS_PER_CALL = 250;

/** The Query of a round's invitations (`RND#<r>` / `INV#`) for `queryAll`, with `extra` (filter, projection, names, values, consistency). */
export function roundInvitationsQuery(roundId: string, extra: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey' | 'KeyConditionExpression' | 'Limit'> = {}) {
  return {
    ...extra,
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :inv)',
    ExpressionAttributeValues: { ...extra.ExpressionAttributeValues, ':pk': keys.round(roundId).PK, ':inv': 'INV#' },
    Limit: INVITATIONS_PER_CALL,
  };
}
