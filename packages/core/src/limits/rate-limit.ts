import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys, type RateSubject } from '../db/keys';
import { isConditionFailed } from '../db/conditions';
import { RateLimitedError } from '../shared/errors';
import { epochSeconds } from '../shared/time';

/** At most `limit` requests in each fixed window of `windowSeconds`; a limit of 0 is no limit. */
export interface RateLimit {
  limit: number;
  windowSeconds: number;
}

/** Where a window starts and how many seconds are left of it. */
function windowOf({ windowSeconds }: RateLimit, now: Date) {
  const start = Math.floor(epochSeconds(now) / windowSeconds) * windowSeconds;
  return { start, secondsLeft: Math.max(1, start + windowSeconds - epochSeconds(now)) };
}

/**
 * Counts one request of a subject (an API key, a client address, a link, a failed API key) in its
 * fixed window. The count is one conditional ADD on an item per subject and window, so it holds
 * across every Lambda and process; the item expires by TTL an hour after its window. Over the limit
 * it throws RateLimitedError with the seconds left in the window (429 with Retry-After); the
 * refused request is not counted, so a flood costs one failed conditional write per request.
 */
export async function countRequest(db: Db, subject: RateSubject, rate: RateLimit, now: Date, message: string): Promise<void> {
  if (rate.limit === 0) return;
  const { start, secondsLeft } = windowOf(rate, now);
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.rateWindow(subject, start),
        UpdateExpression: 'ADD #n :one SET expiresAt = if_not_exists(expiresAt, :expires), #type = :type',
        ConditionExpression: 'attribute_not_exists(#n) OR #n < :limit',
        ExpressionAttributeNames: { '#n': 'n', '#type': 'type' },
        ExpressionAttributeValues: { ':one': 1, ':limit': rate.limit, ':expires': start + rate.windowSeconds + 3600, ':type': 'rateWindow' },
      }),
    );
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
    throw new RateLimitedError(message, secondsLeft);
  }
}

/**
 * Refuses a request while its subject is over its limit in the current window, without counting
 * it: one eventually consistent read (a tenth of a write's price). A request counted elsewhere (a
 * genuine link's, against its link) is thus still stopped by its client address's limit.
 */
export async function refuseIfOver(db: Db, subject: RateSubject, rate: RateLimit, now: Date, message: string): Promise<void> {
  if (rate.limit === 0) return;
  const { start, secondsLeft } = windowOf(rate, now);
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.rateWindow(subject, start), ProjectionExpression: '#n', ExpressionAttributeNames: { '#n': 'n' } }));
  if (((Item?.n as number | undefined) ?? 0) >= rate.limit) throw new RateLimitedError(message, secondsLeft);
}
