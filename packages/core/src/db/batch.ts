import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './client';

type Key = { PK: string; SK: string };
const BATCH_GET_LIMIT = 100;

/**
 * Reads many items by key (BatchGetItem, 100 keys a call), retrying what DynamoDB leaves
 * unprocessed. Returns the items found, keyed by `PK|SK`.
 */
export async function batchGet(db: Db, keys: Key[]): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  const unique = [...new Map(keys.map((k) => [`${k.PK}|${k.SK}`, k])).values()];
  for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) {
    let pending: Key[] = unique.slice(i, i + BATCH_GET_LIMIT);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
      const result = await db.doc.send(new BatchGetCommand({ RequestItems: { [db.table]: { Keys: pending } } }));
      for (const item of result.Responses?.[db.table] ?? []) found.set(`${item.PK}|${item.SK}`, item);
      pending = (result.UnprocessedKeys?.[db.table]?.Keys as Key[] | undefined) ?? [];
    }
  }
  return found;
}

export const itemKey = (key: Key) => `${key.PK}|${key.SK}`;

/** Runs `task` over `items` with at most `limit` in flight, keeping results in order. */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
