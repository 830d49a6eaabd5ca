import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { isConditionFailed } from '../db/conditions';
import { epochSeconds } from '../shared/time';
import { fingerprint } from '../shared/hash';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/** What a replay gives back: the first answer, as it was sent. */
export interface StoredResponse {
  status: number;
  body: string;
  contentType: string;
  /** The `Location` header of a 201 or 202, so that a replay points at what the first answer created. */
  location?: string;
}

export type IdempotencyClaim =
  | { outcome: 'claimed' }
  | { outcome: 'replay'; response: StoredResponse }
  | { outcome: 'mismatch' }
  | { outcome: 'in-progress' };

/** Keys are remembered this long, as Stripe does: retries come within minutes, rarely days. */
const RETENTION_SECONDS = 24 * 60 * 60;
/** A claim whose request died (e.g. the process crashed) may be taken over after this. */
const LOCK_SECONDS = 60;

export { fingerprint };

const itemKey = (agencyId: string, key: string) => keys.idempotency(agencyId, fingerprint(key));

/**
 * Claims an Idempotency-Key for a request. The claim is a conditional put, so of two concurrent
 * requests with one key exactly one runs; the other learns that it is in progress, or, once the
 * first completed, gets its stored answer. The same key with another request is a mismatch.
 */
export async function claimIdempotencyKey(
  db: Db,
  agencyId: string,
  key: string,
  requestHash: string,
  now: Date,
): Promise<IdempotencyClaim> {
  const nowSeconds = epochSeconds(now);
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: {
          ...itemKey(agencyId, key),
          ...keys.idempotencyByAgency(agencyId, fingerprint(key)),
          type: 'idempotency',
          requestHash,
          state: 'pending',
          lockedUntil: nowSeconds + LOCK_SECONDS,
          expiresAt: nowSeconds + RETENTION_SECONDS,
        },
        // An expired item may still be present until TTL removes it; treat it as absent.
        ConditionExpression: 'attribute_not_exists(PK) OR expiresAt < :now OR (#state = :pending AND lockedUntil < :now AND requestHash = :hash)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':now': nowSeconds, ':pending': 'pending', ':hash': requestHash },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { outcome: 'claimed' };
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
    // The error carries the old item in the low-level attribute-value format.
    const existing = error.Item
      ? (unmarshall(error.Item) as { requestHash?: string; state?: string; response?: StoredResponse })
      : undefined;
    if (!existing) return { outcome: 'in-progress' };
    if (existing.requestHash !== requestHash) return { outcome: 'mismatch' };
    if (existing.state === 'done' && existing.response) return { outcome: 'replay', response: existing.response };
    return { outcome: 'in-progress' };
  }
}

export async function completeIdempotencyKey(db: Db, agencyId: string, key: string, response: StoredResponse): Promise<void> {
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: itemKey(agencyId, key),
      UpdateExpression: 'SET #state = :done, #response = :response REMOVE lockedUntil',
      ExpressionAttributeNames: { '#state': 'state', '#response': 'response' },
      ExpressionAttributeValues: { ':done': 'done', ':response': response },
    }),
  );
}

/**
 * Unlocks the claim of a request that failed on our side, so the client's retry with the same key
 * and body runs at once. The key is kept, never released: the failed request may have written
 * part of its work, which only the same request may resume (another body with the key stays a
 * mismatch).
 */
export async function unlockIdempotencyKey(db: Db, agencyId: string, key: string): Promise<void> {
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: itemKey(agencyId, key),
        UpdateExpression: 'SET lockedUntil = :unlocked',
        ConditionExpression: '#state = :pending',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':unlocked': 0, ':pending': 'pending' },
      }),
    );
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
  }
}
