import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { updateIfUnchanged } from '../db/transact';
import { iso } from '../shared/time';

/**
 * How long a claimed send may take before its round's check settles it, and how long a queued
 * invitation may wait in the queue (doubling with each re-queue, see `queueLeaseMs`) before it counts as lost.
 */
export const LEASE_MS = 15 * 60_000;

/** The lease of an invitation queued for the `requeues`-th time: 15 minutes, doubling, at most a day. */
export const queueLeaseMs = (requeues: number) => Math.min(24 * 60 * 60_000, LEASE_MS * 2 ** Math.min(requeues, 7));

/**
 * The attribute that holds an invitation's next look by its round's check (`checkRounds`): a
 * lease's end while it is queued or being sent, a reminder's due time. An attribute, not an index
 * key: the claims and records that move it are attribute-only writes of an item in no index.
 */
export const leaseUntil = (until: Date) => ({ checkAt: iso(until) });

/** What ends an invitation's looks: nothing more to send, settle or remind. */
export const END_LOOKS = ['checkAt'] as const;

/** How long a creation call may still be writing invitations after it began: longer than any call runs. */
export const CREATION_WINDOW_MS = 15 * 60_000;

/**
 * A creation call is about to write invitations: the round is looked at within a lease, whatever
 * its WORK item said (`checkRounds`), and a check that read the WORK item before does not move it.
 */
export async function touchRoundWork(db: Db, roundId: string, now: Date): Promise<void> {
  const due = keys.roundWorkDue(roundId, iso(new Date(now.getTime() + LEASE_MS)));
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: keys.roundWork(roundId),
      UpdateExpression: 'SET #type = :type, roundId = :round, GSI1PK = :pk, GSI1SK = :sk, touchedAt = :now ADD touches :one',
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: { ':type': 'roundWork', ':round': roundId, ':pk': due.GSI1PK, ':sk': due.GSI1SK, ':now': iso(now), ':one': 1 },
    }),
  );
}

/** The touch alone, as part of a transaction that moves an invitation with a `checkAt` to another id. */
export const roundWorkTouch = (db: Db, roundId: string) => ({
  Update: {
    TableName: db.table,
    Key: keys.roundWork(roundId),
    // Whole even if it is the first write of the item: a check reads `roundId` from the index.
    UpdateExpression: 'SET #type = :type, roundId = :round ADD touches :one',
    ExpressionAttributeNames: { '#type': 'type' },
    ExpressionAttributeValues: { ':type': 'roundWork', ':round': roundId, ':one': 1 },
  },
});

/**
 * A worker gave an invitation a look (`at`) that may come before its round's WORK item: a claim
 * or a next reminder after a send that had waited for a longer look (queued again late). The WORK
 * item comes as early. Touched first, so a check that read the invitation before cannot move it
 * back. Two writes, only for sends that were late.
 */
export async function pullRoundWork(db: Db, roundId: string, at: string): Promise<void> {
  await db.doc.send(new UpdateCommand(roundWorkTouch(db, roundId).Update));
  const due = keys.roundWorkDue(roundId, at);
  await updateIfUnchanged(db, {
    Key: keys.roundWork(roundId),
    UpdateExpression: 'SET GSI1PK = :pk, GSI1SK = :sk',
    ConditionExpression: 'attribute_not_exists(GSI1SK) OR GSI1SK > :sk',
    ExpressionAttributeValues: { ':pk': due.GSI1PK, ':sk': due.GSI1SK },
  });
}
