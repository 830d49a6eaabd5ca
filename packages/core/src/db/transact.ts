import { TransactWriteCommand, UpdateCommand, type TransactWriteCommandInput, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Db } from './client';
import { failedConditions, isConditionFailed, isTransactionConflict } from './conditions';

export type TransactItems = NonNullable<TransactWriteCommandInput['TransactItems']>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs a transaction whose conditions guard a state change. False when a condition failed:
 * someone else moved first, and the caller does nothing (what makes a duplicate job harmless).
 * A transaction cancelled only because another one touched the same items is retried with backoff.
 */
export async function transactIfUnchanged(db: Db, items: TransactItems, attempts = 9): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.doc.send(new TransactWriteCommand({ TransactItems: items }));
      return true;
    } catch (error) {
      const failed = failedConditions(error);
      if (failed === undefined) throw error;
      if (failed.length > 0) return false;
      if (!isTransactionConflict(error) || attempt >= attempts) throw error;
      await sleep(10 * 2 ** attempt + Math.random() * 20);
    }
  }
}

/** One conditional update: false when its condition failed (someone else moved first). */
export async function updateIfUnchanged(db: Db, input: Omit<UpdateCommandInput, 'TableName'>): Promise<boolean> {
  try {
    await db.doc.send(new UpdateCommand({ ...input, TableName: db.table }));
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
}

