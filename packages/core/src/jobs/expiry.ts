import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys, ROUND_CLOSE_PARTITION } from '../db/keys';
import { mapConcurrent } from '../db/batch';
import { isConditionFailed } from '../db/conditions';
import { queryAll } from '../db/page';
import { iso } from '../shared/time';
import { settleAnsweredSend, transitionInvitation } from '../sending/transition';
import { STALLED_AFTER_MS } from './stalled';
import type { Invitation } from '../survey/round';
import { getAgency } from '../agency/agency';
import { releaseRound } from '../release/release';

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
 * becomes `closed` (a cancelled one stays `cancelled`), its anonymous answers are released
 * (`releaseRound`), and it leaves the close index last, so a run that dies half-way is finished
 * by the next. A send still in flight (claimed less than 15
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
    // An answered invitation whose send is still unrecorded settles like an unanswered one.
    const sending = (i: (typeof invitations)[number]) => i.status === 'sending' || (i.status === 'responded' && i.answeredFrom === 'sending');
    inFlight ||= invitations.some((i) => sending(i) && (i.sendingAt ?? '') >= interruptedBefore);
    const open = invitations.filter((i) => i.status === 'sent' || i.status === 'pending' || (sending(i) && (i.sendingAt ?? '') < interruptedBefore));
    // Each transition also updates the round's counts; a little concurrency, conflicts retried.
    await mapConcurrent(open, 2, (i) => {
      switch (i.status) {
        case 'sent':
          return transitionInvitation(db, roundId, i.invitationId, 'sent', 'expired', { set: { nextReminderAt: null }, remove: ['GSI1PK', 'GSI1SK'] });
        case 'pending':
          return transitionInvitation(db, roundId, i.invitationId, 'pending', 'skipped');
        case 'responded':
          return settleAnsweredSend(db, roundId, i.invitationId, 'failed', { set: { failedAt: iso(now), failure: 'Interrupted' } });
        default:
          // A send a dead worker left unfinished (see failInterruptedSends): never sent again.
          return transitionInvitation(db, roundId, i.invitationId, 'sending', 'failed', { set: { failedAt: iso(now), failure: 'Interrupted' } });
      }
    });
  }
  if (inFlight) return false;
  // Closed to answers first (every submit is conditional on an open round), so the release below
  // reads the final answers; the round leaves the close index only once they are released.
  const closeKey = { TableName: db.table, Key: keys.round(roundId) };
  const { Attributes: round } = await db.doc
    .send(
      new UpdateCommand({
        ...closeKey,
        UpdateExpression: 'SET #status = :closed, closedAt = :now',
        ConditionExpression: '#status = :open',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':now': iso(now), ':closed': 'closed', ':open': 'open' },
        ReturnValues: 'ALL_NEW',
      }),
    )
    .catch(async (error) => {
      if (!isConditionFailed(error)) throw error;
      // Cancelled (it stays so) or closed by an earlier run that died before the end.
      return db.doc.send(new UpdateCommand({ ...closeKey, UpdateExpression: 'SET closedAt = if_not_exists(closedAt, :now)', ExpressionAttributeValues: { ':now': iso(now) }, ReturnValues: 'ALL_NEW' }));
    });
  await releaseRound(db, await getAgency(db, round!.agencyId as string), roundId, now);
  await db.doc.send(new UpdateCommand({ ...closeKey, UpdateExpression: 'REMOVE GSI1PK, GSI1SK' }));
  return true;
}
