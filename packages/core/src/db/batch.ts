import { BatchExecuteStatementCommand, BatchGetCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './client';

type Key = { PK: string; SK: string };
const BATCH_GET_LIMIT = 100;
const BATCH_WRITE_LIMIT = 25;
/** Statements in one BatchExecuteStatement, at most. */
export const STATEMENT_LIMIT = 25;

/**
 * Reads many items by key (BatchGetItem, 100 keys a call), retrying what DynamoDB leaves
 * unprocessed. Returns the items found, keyed by `PK|SK`. `consistent` reads strongly (twice the
 * read units), for a read a conditional write is about to depend on.
 */
export async function batchGet(db: Db, keys: Key[], { consistent = false } = {}): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  const unique = [...new Map(keys.map((k) => [`${k.PK}|${k.SK}`, k])).values()];
  for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) {
    let pending: Key[] = unique.slice(i, i + BATCH_GET_LIMIT);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
      const result = await db.doc.send(new BatchGetCommand({ RequestItems: { [db.table]: { Keys: pending, ...(consistent ? { ConsistentRead: true } : {}) } } }));
      for (const item of result.Responses?.[db.table] ?? []) found.set(`${item.PK}|${item.SK}`, item);
      pending = (result.UnprocessedKeys?.[db.table]?.Keys as Key[] | undefined) ?? [];
    }
  }
  return found;
}

/** Writes many whole items (BatchWriteItem, 25 a call), retrying what DynamoDB leaves unprocessed. */
export async function batchPut(db: Db, items: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH_WRITE_LIMIT) {
    let pending = items.slice(i, i + BATCH_WRITE_LIMIT).map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
      const result = await db.doc.send(new BatchWriteCommand({ RequestItems: { [db.table]: pending } }));
      pending = (result.UnprocessedItems?.[db.table] as typeof pending | undefined) ?? [];
    }
  }
}

/**
 * Writes items only where none exists yet, 25 a call: each a PartiQL INSERT in one
 * BatchExecuteStatement, a conditional write of its own (billed as a PutItem is), not a transaction.
 * Says, per item, whether it was written. One that was not (the item exists, or its statement was
 * refused, throttled say) is the caller's to write singly, which tells why. A failed call throws,
 * with some of its items possibly written, as a failed PutItem may have been.
 */
export async function insertAbsent(db: Db, items: readonly Record<string, unknown>[]): Promise<boolean[]> {
  const written: boolean[] = [];
  for (let i = 0; i < items.length; i += STATEMENT_LIMIT) {
    const chunk = items.slice(i, i + STATEMENT_LIMIT);
    const { Responses = [] } = await db.doc.send(new BatchExecuteStatementCommand({ Statements: chunk.map((item) => insertStatement(db.table, item)) }));
    chunk.forEach((_, j) => written.push(Responses[j] !== undefined && Responses[j].Error === undefined));
  }
  return written;
}

/** `INSERT INTO "table" VALUE {'name': ?, …}`, the key first; an attribute left undefined is left out, as the document client does. */
function insertStatement(table: string, item: Record<string, unknown>) {
  const { PK, SK, ...rest } = item;
  const entries = Object.entries({ PK, SK, ...rest }).filter(([, value]) => value !== undefined);
  const quoted = (name: string) => `'${name.replaceAll("'", "''")}'`;
  return { Statement: `INSERT INTO "${table}" VALUE {${entries.map(([name]) => `${quoted(name)}: ?`).join(', ')}}`, Parameters: entries.map(([, value]) => value) };
}

export const itemKey = (key: Key) => `${key.PK}|${key.SK}`;

/**
 * Runs `task` over `items` with at most `limit` in flight, keeping results in order. After a task
 * fails no other starts, and the call fails once those in flight have settled: its caller must not
 * answer while its work goes on unseen.
 */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !failed) {
      const index = next++;
      try {
        results[index] = await task(items[index]!, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;
  return results;
}
