import type { Db } from '../db/client';
import { ROUND_CLOSE_PARTITION, keys } from '../db/keys';
import { queryAll } from '../db/page';
import { iso } from '../shared/time';
import type { JobQueue } from '../sending/queue';
import type { Round } from '../survey/round';
import { settleAnsweredSend, transitionInvitation } from '../sending/transition';

/** How long a round's invitations may wait in the queue before they count as lost. */
export const STALLED_AFTER_MS = 15 * 60_000;

/**
 * Queues again the invitations of open rounds still `pending` well after the round began: their
 * jobs were lost (the local runner stopped with a queue, or enqueueing failed after the round was
 * written). The open rounds are the close index's entries, so no Scan. A job that was only slow
 * is harmless to queue twice: the worker claims each invitation once. `olderThanMs` 0 takes every
 * pending invitation: the local runner does that as it starts, when its new queue holds nothing.
 */
export async function requeueStalledInvitations(db: Db, queue: JobQueue, now: Date, { olderThanMs = STALLED_AFTER_MS } = {}): Promise<number> {
  const stalledBefore = iso(new Date(now.getTime() - olderThanMs));
  let queued = 0;
  for await (const rounds of queryAll(db, {
    IndexName: 'GSI1',
    KeyConditionExpression: 'GSI1PK = :pk',
    FilterExpression: '#counts.pending > :zero AND createdAt <= :before AND #status = :open',
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

/**
 * Marks `failed` (failure `Interrupted`) the invitations left `sending` for 15 minutes: a worker
 * died between claiming one and recording the send. Whether that email went out is unknown, so it
 * is never sent again (a duplicate is worse than a loss); `failed` makes it visible in the counts.
 */
export async function failInterruptedSends(db: Db, now: Date): Promise<number> {
  const before = iso(new Date(now.getTime() - STALLED_AFTER_MS));
  let failed = 0;
  for await (const rounds of queryAll(db, {
    IndexName: 'GSI1',
    KeyConditionExpression: 'GSI1PK = :pk',
    // A send answered before it was recorded still has to settle (see settleAnsweredSend).
    FilterExpression: '#counts.sending > :zero OR answeredFrom_sending > :zero',
    ExpressionAttributeNames: { '#counts': 'counts' },
    ExpressionAttributeValues: { ':pk': ROUND_CLOSE_PARTITION, ':zero': 0 },
  })) {
    for (const { roundId } of rounds as unknown as Round[]) {
      for await (const invitations of queryAll(db, {
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :inv)',
        FilterExpression: '(#status = :sending OR (#status = :responded AND answeredFrom = :sending)) AND sendingAt < :before',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pk': keys.round(roundId).PK, ':inv': 'INV#', ':sending': 'sending', ':responded': 'responded', ':before': before },
      })) {
        for (const i of invitations) {
          const set = { failedAt: iso(now), failure: 'Interrupted' };
          const settled =
            i.status === 'responded'
              ? await settleAnsweredSend(db, roundId, i.invitationId as string, 'failed', { set })
              : await transitionInvitation(db, roundId, i.invitationId as string, 'sending', 'failed', { set });
          if (settled) failed++;
        }
      }
    }
  }
  return failed;
}
