import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { isConditionFailed } from '../db/conditions';
import { DomainError } from '../shared/errors';
import { epochSeconds } from '../shared/time';

export class RateLimitedError extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many requests for this API key; try again in ${retryAfterSeconds} s`);
  }
}

const WINDOW_SECONDS = 60;

/**
 * Counts one request of an API key against its limit per minute (a fixed window). The count is
 * one conditional ADD on an item per key and minute, so it holds across every Lambda and process;
 * the item expires by TTL. Over the limit it throws RateLimitedError with the seconds left in the
 * window, which the API answers as 429 with Retry-After.
 */
export async function countRequest(db: Db, keyId: string, limitPerMinute: number, now: Date): Promise<void> {
  const window = Math.floor(epochSeconds(now) / WINDOW_SECONDS) * WINDOW_SECONDS;
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.rateWindow(keyId, window),
        UpdateExpression: 'ADD #n :one SET expiresAt = if_not_exists(expiresAt, :expires), #type = :type',
        ConditionExpression: 'attribute_not_exists(#n) OR #n < :limit',
        ExpressionAttributeNames: { '#n': 'n', '#type': 'type' },
        ExpressionAttributeValues: { ':one': 1, ':limit': limitPerMinute, ':expires': window + WINDOW_SECONDS + 3600, ':type': 'rateWindow' },
      }),
    );
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
    throw new RateLimitedError(Math.max(1, window + WINDOW_SECONDS - epochSeconds(now)));
  }
}
