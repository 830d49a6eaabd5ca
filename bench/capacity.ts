import type { Db } from '@rapport/core';

/**
 * Counts the capacity DynamoDB reports for every call made through `db`: each request asks for
 * `ReturnConsumedCapacity: TOTAL` and the units of the answers are added up. DynamoDB Local
 * reports them like the service (except that it counts a transactional write as 1 unit per item,
 * where the service charges 2).
 */
export function meterCapacity(db: Db) {
  let units = 0;
  let calls = 0;
  db.client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { ReturnConsumedCapacity?: string };
      input.ReturnConsumedCapacity ??= 'TOTAL';
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }).ConsumedCapacity;
      for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) units += c.CapacityUnits ?? 0;
      calls++;
      return result;
    },
    { step: 'initialize', name: 'meterCapacity' },
  );
  return {
    /** Units and calls since the last reset. */
    read: () => ({ units, calls }),
    reset: () => {
      units = 0;
      calls = 0;
    },
  };
}

/** The value below which `p` of the samples fall (nearest rank). */
export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
