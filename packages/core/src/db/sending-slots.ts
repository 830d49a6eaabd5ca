import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Db } from './client';
import { isConditionFailed } from './conditions';
import { keys } from './keys';

export interface SlotBlock {
  /** Slots wanted, one per job. */
  count: number;
  /** Milliseconds between two slots: 1000 ÷ the sending rate. */
  gapMs: number;
  /** The earliest a slot may be (now, less the burst): time not used before it is lost, not saved up. */
  earliest: number;
  /** The latest a slot may be (now + SQS's longest delay): no block reaching beyond it is reserved. */
  latest: number;
}

/** The block's first slot (epoch ms; none when the block would reach beyond `latest`) and the item's next free slot after the call. */
export interface Reserved {
  first?: number;
  next: number;
}

/**
 * A clock this far behind the item's next slot, beyond `latest`, means the item was written by a
 * clock ahead (one gone wrong, or a test's): it starts again from now rather than hold every
 * sender back until that time.
 */
const CLOCK_SKEW_MS = 60_000;

/** Rounds of writes before giving up: each failed one returns the item, so the next one is the right write unless another sender changed it in between. */
const ATTEMPTS = 4;

/**
 * Reserves a block of consecutive sending slots in the account's one item (`keys.sendingSlots`,
 * `nextSlotAt`: when the next free slot is), with one conditional UpdateItem and nothing read
 * first. Which write depends on where the next slot stands:
 * - ahead of `earliest` (a busy account): `ADD nextSlotAt :block`, the block is the slots just
 *   before the new value (ReturnValues UPDATED_NEW), on the condition that it is not beyond
 *   `latest` already;
 * - behind it, or absent (a quiet spell): `SET nextSlotAt = earliest + block`, the block starts at
 *   `earliest`, on the condition that it still is behind.
 * `seen` (the value the caller last saw) picks the write to try first; a failed condition returns
 * the item (ReturnValuesOnConditionCheckFailure), which picks the next. Either condition holds
 * atomically, so blocks never overlap whatever the number of senders: each starts at or after the
 * previous block's end.
 */
export async function reserveSendingSlots(db: Db, { count, gapMs, earliest, latest }: SlotBlock, seen?: number): Promise<Reserved> {
  const block = Math.ceil(count * gapMs);
  const start = Math.ceil(earliest);
  // The block's first slot may be no later than this for its last to be within `latest`.
  const lastFirst = Math.floor(latest - (count - 1) * gapMs);
  const ceiling = latest + CLOCK_SKEW_MS;
  let next = seen;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const behind = next === undefined || next <= start || next > ceiling;
    if (!behind && next! > lastFirst) return { next: next! };
    try {
      if (behind) {
        await db.doc.send(
          new UpdateCommand({
            TableName: db.table,
            Key: keys.sendingSlots(),
            UpdateExpression: 'SET nextSlotAt = :next, #type = :type',
            ConditionExpression: 'attribute_not_exists(nextSlotAt) OR nextSlotAt <= :start OR nextSlotAt > :ceiling',
            ExpressionAttributeNames: { '#type': 'type' },
            ExpressionAttributeValues: { ':next': start + block, ':start': start, ':ceiling': ceiling, ':type': 'sendingSlots' },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { first: start, next: start + block };
      }
      const { Attributes } = await db.doc.send(
        new UpdateCommand({
          TableName: db.table,
          Key: keys.sendingSlots(),
          UpdateExpression: 'ADD nextSlotAt :block',
          ConditionExpression: 'nextSlotAt > :start AND nextSlotAt <= :lastFirst',
          ExpressionAttributeValues: { ':block': block, ':start': start, ':lastFirst': lastFirst },
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const after = Number(Attributes!.nextSlotAt);
      return { first: after - block, next: after };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      // The error carries the item as it stands, in the low-level attribute-value format.
      const value = error.Item ? unmarshall(error.Item).nextSlotAt : undefined;
      next = typeof value === 'number' ? value : undefined;
    }
  }
  throw new Error(`sending slots: no block reserved after ${ATTEMPTS} attempts (other senders kept changing the item)`);
}
