import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { withoutKeys } from '../db/items';
import { isConditionFailed } from '../db/conditions';
import type { TransactItems } from '../db/transact';
import { iso } from '../shared/time';
import { addressHash } from './address';
import type { Invitation, Round } from './round';

/*
 * What the send path needs of a round, apart from round.ts: the send worker's bundle then loads
 * neither round creation nor what it imports (pros, agencies, campaigns, their schemas).
 */

/** A round by its id alone: for the send worker, whose jobs name the round (their agency is the round's). */
export async function roundById(db: Db, roundId: string, { consistent = false } = {}): Promise<Round | undefined> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.round(roundId), ConsistentRead: consistent }));
  return Item && storedRound(Item);
}

/** Rounds stored before counts were tallied on read still hold the counters they had then: not these figures. */
export function storedRound(item: Record<string, unknown>): Round {
  const { counts: _stale, ...round } = withoutKeys<Round & { counts?: unknown }>(item);
  return round;
}

/** Whether a round takes answers and sends at `now`: open, and its closing time not reached. */
export const isOpen = (round: Round, now: Date) => round.status === 'open' && iso(now) < round.closesAt;

/**
 * The update that puts a recipient's throttle dates back as they were before the round, if the
 * round's are still there (a later round that took the address keeps it); null when the round
 * changed nothing of them.
 */
export function throttleRestore(db: Db, round: Round, invitation: Invitation): TransactItems[number] | null {
  const before = invitation.throttleBefore;
  if (!before) return null;
  const restore = { lastAny: before.lastAny, '#audience': before.audience };
  const set = Object.entries(restore).filter(([, v]) => v !== null);
  const remove = Object.entries(restore).filter(([, v]) => v === null);
  const clauses = [
    ...(set.length ? [`SET ${set.map(([name], i) => `${name} = :v${i}`).join(', ')}`] : []),
    ...(remove.length ? [`REMOVE ${remove.map(([name]) => name).join(', ')}`] : []),
  ];
  return {
    Update: {
      TableName: db.table,
      Key: keys.recipientState(round.agencyId, addressHash(invitation.email)),
      UpdateExpression: clauses.join(' '),
      ConditionExpression: 'lastAny = :ours AND #audience = :ours',
      ExpressionAttributeNames: { '#audience': invitation.audience },
      ExpressionAttributeValues: { ':ours': round.createdAt, ...Object.fromEntries(set.map(([, v], i) => [`:v${i}`, v])) },
    },
  };
}

/** Puts a recipient's throttle dates back as they were before the round, if the round's are still there. */
export async function giveThrottleBack(db: Db, round: Round, invitation: Invitation): Promise<void> {
  const restore = throttleRestore(db, round, invitation);
  if (!restore) return;
  try {
    await db.doc.send(new UpdateCommand(restore.Update!));
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
  }
}

