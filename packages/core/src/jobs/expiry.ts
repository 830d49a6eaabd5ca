import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys, ROUND_CLOSE_PARTITION } from '../db/keys';
import { mapConcurrent } from '../db/batch';
import { isConditionFailed } from '../db/conditions';
import { queryAll } from '../db/page';
import { iso } from '../shared/time';
import { transitionInvitation } from '../sending/transition';
import { STALLED_AFTER_MS } from './stalled';
import type { Invitation } from '../survey/round';

/** Closes every round whose time is up, found through the sparse close index. Returns how many. */
export async function closeDueRounds(db: Db, now: Date): Promise<number> {
  let closed = 0;
  for await (const rounds of queryAll(db, {
    IndexName: 'GSI1',
    KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK < :now',
    ExpressionAttributeValues: { ':pk': ROUND_CLOSE_PARTITION, ':now': iso(now) },
  })) {
    for (const round of rounds) {
      if (await closeRound(db, round.roundId as string, now)) closed++;
    }
  }
  return closed;
}

/**
 * Ends a round: invitations still unanswered become `expired` (and leave the reminder index),
 * ones never sent become `skipped`, sends left unfinished for 15 minutes `failed`, the round
 * becomes `closed` (a cancelled one stays `cancelled`) and leaves the close index last, so a run
 * that dies half-way is finished by the next. A send still in flight (claimed less than 15
 * minutes ago) keeps the round open until a later run: it may yet be recorded as sent. Returns
 * whether the round closed.
 */
export async function closeRound(db: Db, roundId: string, now: Date): Promise<boolean> {
  const interruptedBefore = iso(new Date(now.getTime() - STALLED_AFTER_MS));
  let inFlight = false;
  for await (const items of queryAll(db, {
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :inv)',
    ExpressionAttributeValues: { ':pk': keys.round(roundId).PK, ':inv': 'INV#' },
  })) {
    const invitations = items as unknown as (Invitation & { sendingAt?: string })[];
    inFlight ||= invitations.some((i) => i.status === 'sending' && (i.sendingAt ?? '') >= interruptedBefore);
    const open = invitations.filter((i) => i.status === 'sent' || i.status === 'pending' || (i.status === 'sending' && (i.sendingAt ?? '') < interruptedBefore));
    // Each transition also updates the round's counts; a little concurrency, conflicts retried.
    await mapConcurrent(open, 2, (i) => {
      switch (i.status) {
        case 'sent':
          return transitionInvitation(db, roundId, i.invitationId, 'sent', 'expired', { set: { nextReminderAt: null }, remove: ['GSI1PK', 'GSI1SK'] });
        case 'pending':
          return transitionInvitation(db, roundId, i.invitationId, 'pending', 'skipped');
        default:
          // A send a dead worker left unfinished (see failInterruptedSends): never sent again.
          return transitionInvitation(db, roundId, i.invitationId, 'sending', 'failed', { set: { failedAt: iso(now), failure: 'Interrupted' } });
      }
    });
  }
  if (inFlight) return false;
  const leaveIndex = { TableName: db.table, Key: keys.round(roundId), ExpressionAttributeValues: { ':now': iso(now) } };
  try {
    await db.doc.send(
      new UpdateCommand({
        ...leaveIndex,
        UpdateExpression: 'SET #status = :closed, closedAt = :now REMOVE GSI1PK, GSI1SK',
        ConditionExpression: '#status = :open',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':now': iso(now), ':closed': 'closed', ':open': 'open' },
      }),
    );
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
    await db.doc.send(new UpdateCommand({ ...leaveIndex, UpdateExpression: 'SET closedAt = :now REMOVE GSI1PK, GSI1SK' }));
  }
  return true;
}
