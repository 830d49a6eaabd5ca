import type { Db } from '../db/client';
import { ROUND_CLOSE_PARTITION, keys } from '../db/keys';
import { queryAll } from '../db/page';
import { iso } from '../shared/time';
import type { JobQueue } from '../sending/queue';
import type { Round } from '../survey/round';

/** How long a round's invitations may wait in the queue before they count as lost. */
export const STALLED_AFTER_MS = 15 * 60_000;

/**
 * Queues again the invitations of open rounds still `pending` well after the round began: their
 * jobs were lost (the local runner stopped with a queue, or enqueueing failed after the round was
 * written). The open rounds are the close index's entries, so no Scan. A job that was only slow
 * is harmless to queue twice: the worker claims each invitation once.
 */
export async function requeueStalledInvitations(db: Db, queue: JobQueue, now: Date): Promise<number> {
  const stalledBefore = iso(new Date(now.getTime() - STALLED_AFTER_MS));
  let queued = 0;
  for await (const rounds of queryAll(db, {
    IndexName: 'GSI1',
    KeyConditionExpression: 'GSI1PK = :pk',
    FilterExpression: '#counts.pending > :zero AND createdAt < :before AND #status = :open',
    ExpressionAttributeNames: { '#counts': 'counts', '#status': 'status' },
    ExpressionAttributeValues: { ':pk': ROUND_CLOSE_PARTITION, ':zero': 0, ':before': stalledBefore, ':open': 'open' },
  })) {
    for (const { roundId } of rounds as unknown as Round[]) {
      for await (const invitations of queryAll(db, {
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :inv)',
        FilterExpression: '#status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pk': keys.round(roundId).PK, ':inv': 'INV#', ':pending': 'pending' },
      })) {
        await queue.enqueue(invitations.map((i) => ({ kind: 'invitation', roundId, invitationId: i.invitationId as string })));
        queued += invitations.length;
      }
    }
  }
  return queued;
}
