import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { iso } from '../shared/time';
import { addressHash } from './address';

export type SuppressionReason = 'bounced' | 'complained' | 'unsubscribed';

/**
 * Stops mail to an address. `global` (a bounce, a complaint, or "stop all Rapport surveys") holds
 * for every agency; otherwise only for the agency named. The first reason recorded stays: a
 * complaint is not turned into an unsubscribe by a later click.
 */
export async function suppress(
  db: Db,
  email: string,
  reason: SuppressionReason,
  scope: { global: true } | { agencyId: string },
  now: Date,
): Promise<void> {
  const hash = addressHash(email);
  const key = 'global' in scope ? keys.globalSuppression(hash) : keys.agencySuppression(hash, scope.agencyId);
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: { ...key, type: 'suppression', reason, at: iso(now) },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
  }
}
