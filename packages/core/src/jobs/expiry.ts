import { END_LOOKS } from '../sending/lease';
import { responseOf } from '../survey/response-item';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys, ROUND_CLOSE_PARTITION } from '../db/keys';
import { isConditionFailed } from '../db/conditions';
import { queryAll, roundInvitationsQuery } from '../db/page';
import { iso } from '../shared/time';
import { ConflictError } from '../shared/errors';
import { transitionMany } from '../sending/transition';
import { enqueueAt, MAX_QUEUE_DELAY_SECONDS, type JobQueue, type SendJob } from '../sending/queue';
import { getRound, readRound, type Invitation, type RoundWithProgress } from '../survey/round';
import { getAgency } from '../agency/agency';
import { releaseRound } from '../release/release';
import { batchGet } from '../db/batch';
import { withoutKeys } from '../db/items';
import { transactIfUnchanged, updateIfUnchanged } from '../db/transact';
import { batchAggregate, readCounter, SCORED_ITEMS } from '../scores/counters';
import { foldDelivered } from '../scores/open-rounds';
import { AUDIENCES, type Audience } from '../survey/instrument';
import type { SurveyResponse } from '../survey/response';
import type { ReleaseBatch } from '../release/batch';
import { eventIdFor, wanted, webhookOutbox, type WebhookEvent } from '../webhooks/events';

/**
 * Queues a close job for every round whose time is up, or comes before the next run (`aheadMs`,
 * the time between runs), found through the sparse close index: a round closing before the next
 * run is queued now to run at its time (`enqueueAt`), so it closes on time however seldom the
 * job runs. Each round closes in a job of its own (`closeRound`), so one big round holds up
 * neither the others nor the reminder and recovery sweeps. Returns how many were queued; a round
 * still closing when the next sweep runs is queued again, which is harmless.
 */
export async function enqueueDueCloses(db: Db, queue: JobQueue, now: Date, aheadMs = 0): Promise<number> {
  let queued = 0;
  for await (const rounds of queryAll(db, {
    IndexName: 'GSI1',
    KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK < :until',
    ExpressionAttributeValues: { ':pk': ROUND_CLOSE_PARTITION, ':until': iso(new Date(now.getTime() + aheadMs)) },
  })) {
    const due = rounds.filter((r) => (r.closesAt as string) <= iso(now));
    if (due.length > 0) await queue.enqueue(due.map((r) => ({ kind: 'close-round', roundId: r.roundId as string })));
    for (const r of rounds.filter((r) => (r.closesAt as string) > iso(now))) await enqueueAt(queue, [{ kind: 'close-round', roundId: r.roundId as string }], r.closesAt as string, now);
    queued += rounds.length;
  }
  return queued;
}

/**
 * Ends a round: invitations still unanswered become `expired` (and leave the reminder index),
 * ones never sent become `skipped`, the round becomes `closed` (a cancelled one stays
 * `cancelled`), its anonymous answers are released (`releaseRound`), and it leaves the close index
 * last, in one write with its `round.closed` webhook event, so a run that dies half-way is finished
 * by the next, event included. A send not yet settled (claimed, or
 * cut off and waiting for the recovery sweep to read SES's record; a first email or a reminder)
 * keeps the round open until a later try (`closeRoundJob` queues one): it may yet be `sent`.
 * Returns whether the round closed.
 */
export async function closeRound(db: Db, roundId: string, now: Date): Promise<boolean> {
  return (await tryClose(db, roundId, now)) === 'closed';
}

/**
 * How soon to try again a close kept open by a send in flight: as long as it has been kept open
 * (30 s to 15 minutes), so a send settling in seconds keeps it open seconds, not until the next
 * scheduled run (hourly on AWS). Past an hour, none: the scheduled run queues it each run.
 */
export function closeRetrySeconds(closesAt: string, now: Date): number | null {
  const since = (now.getTime() - Date.parse(closesAt)) / 1000;
  return since >= CLOSE_RETRIES_FOR_SECONDS ? null : Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(30, Math.ceil(since)));
}
const CLOSE_RETRIES_FOR_SECONDS = 3600;

/** The close job: `closeRound`, and one kept open by a send in flight is queued again (`closeRetrySeconds`). */
export async function closeRoundJob(deps: { db: Db; now: () => Date; requeue?: ((job: SendJob, delaySeconds: number) => Promise<void>) | undefined }, roundId: string): Promise<boolean> {
  const now = deps.now();
  const outcome = await tryClose(deps.db, roundId, now);
  if (typeof outcome === 'object') {
    const delay = closeRetrySeconds(outcome.closesAt, now);
    // `notBefore` too: a queue that does not delay (a test's) holds it back rather than run it again at once.
    if (delay !== null) await deps.requeue?.({ kind: 'close-round', roundId, notBefore: iso(new Date(now.getTime() + delay * 1000)) }, delay);
  }
  return outcome === 'closed';
}

/** `closeRound`'s work: 'closed', 'done' (closed already, or gone), or kept open by a send in flight. */
async function tryClose(db: Db, roundId: string, now: Date): Promise<'closed' | 'done' | { inFlight: true; closesAt: string }> {
  // Closed and out of the close index already: a duplicate close job, nothing to do.
  const { Item: current } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.round(roundId), ConsistentRead: true }));
  if (!current || (current.status !== 'open' && current.GSI1PK === undefined)) return 'done';
  // From here no invitation goes back to pending (`returnToQueue`), so the pages read below see
  // every send that may still go out: each pending one is skipped, or found claimed meanwhile.
  if (current.closing === undefined) {
    await db.doc.send(new UpdateCommand({ TableName: db.table, Key: keys.round(roundId), UpdateExpression: 'SET closing = if_not_exists(closing, :now)', ExpressionAttributeValues: { ':now': iso(now) } }));
  }
  let inFlight = false;
  for await (const items of queryAll(
    db,
    roundInvitationsQuery(roundId, {
      // Strongly consistent: the sender reads nothing of the round, so a pending invitation the page
      // leaves out or shows stale would be emailed after the close. Eventually consistent, it could
      // miss one a creation wrote a moment before (its `skipIfStopped` read the round before the
      // mark), or show `sending` one put back in the queue just before the mark.
      ConsistentRead: true,
    }),
  )) {
    const invitations = items as unknown as Invitation[];
    // A reminder in flight too: expiring it would take it out of the lease index unsettled, counted
    // in `remindersSent` whether or not SES took it; and, to someone who answered meanwhile, its
    // email could go out after the close.
    const unsettled = (i: Invitation) => i.status === 'sending' || (i.status === 'responded' && i.answeredFrom === 'sending') || ((i.status === 'sent' || i.status === 'responded' || i.status === 'bounced') && i.reminderSending !== undefined);
    inFlight ||= invitations.some(unsettled);
    // Each a conditional update; out of the reminder and lease indexes.
    const ids = (status: string) => invitations.filter((i) => i.status === status && !unsettled(i)).map((i) => i.invitationId);
    // A reminder claimed since the page was read (a claim after the mark finds the close begun and
    // drops itself) keeps the round open: expired under its flight, its
    // email would go out after the close.
    const sent = ids('sent');
    if ((await transitionMany(db, roundId, sent, 'sent', 'expired', { set: { nextReminderAt: null }, remove: END_LOOKS, unless: 'reminderSending' })) < sent.length) {
      const found = await batchGet(db, sent.map((id) => keys.invitation(roundId, id)), { consistent: true });
      inFlight ||= [...found.values()].some((i) => unsettled(i as unknown as Invitation));
    }
    // One claimed since the page was read (a claim checks nothing of the round) is a send in flight,
    // or sent since: a later run expires it. One skipped meanwhile (a concurrent close, a cancel, a
    // suppression) is done with.
    const pending = ids('pending');
    if ((await transitionMany(db, roundId, pending, 'pending', 'skipped', { remove: END_LOOKS })) < pending.length) {
      const found = await batchGet(db, pending.map((id) => keys.invitation(roundId, id)), { consistent: true });
      inFlight ||= [...found.values()].some((i) => i.status !== 'skipped');
    }
  }
  if (inFlight) return { inFlight: true, closesAt: current.closesAt as string };
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
  // Its deliveries, tallied while it was open, into the counters (once), now that no send is in flight.
  await foldDelivered(db, round!.agencyId as string, roundId);
  const event = (await wanted(db, round!.agencyId as string, 'round.closed')) ? await webhookOutbox(db, await roundClosedEvent(db, roundId)) : [];
  await transactIfUnchanged(db, [{ Update: { ...closeKey, UpdateExpression: 'REMOVE GSI1PK, GSI1SK' } }, ...event]);
  return 'closed';
}

/**
 * Closes an open round of the agency now, before its date (the pro has heard from enough people):
 * its close moves to now in the round and in the close index, then it closes as at its date. A
 * send still in flight keeps it open a moment longer: a close job queued on `queue` tries again
 * in 30 seconds (`closeRoundJob`), and the next scheduled run closes it too, as it is due. Returns
 * the round as it then is.
 */
export async function closeRoundNow(db: Db, agencyId: string, roundId: string, now: Date, queue?: JobQueue): Promise<RoundWithProgress> {
  const round = await readRound(db, agencyId, roundId);
  if (round.status !== 'open') throw new ConflictError(round.status === 'closed' ? 'The survey has already closed' : 'The survey was cancelled');
  if (round.closesAt > iso(now)) {
    const moved = await updateIfUnchanged(db, {
      Key: keys.round(roundId),
      UpdateExpression: 'SET closesAt = :now, GSI1SK = :due',
      ConditionExpression: '#status = :open AND attribute_exists(GSI1PK)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':now': iso(now), ':due': keys.roundCloseDue(roundId, iso(now)).GSI1SK, ':open': 'open' },
    });
    if (!moved) return closeRoundNow(db, agencyId, roundId, now, queue);
  }
  // Kept open by a send in flight: its close job, queued, tries again in a moment. Not queued (the
  // queue failing), the scheduled run closes it.
  await closeRoundJob({ db, now: () => now, requeue: queue && ((job, delaySeconds) => queue.enqueue([job], { delaySeconds }).catch(() => undefined)) }, roundId);
  // As of now: its `sending` counts the first emails in flight, the only ones that may still go out.
  return getRound(db, agencyId, roundId, { consistent: true });
}

/** An aggregate's figures per item answered: how many answers and their mean (2 decimals). */
function figures(aggregate: Record<string, number>) {
  const counter = readCounter(aggregate);
  return Object.fromEntries(
    SCORED_ITEMS.filter((item) => counter.items[item].n > 0).map((item) => {
      const { n, sum } = counter.items[item];
      return [item, { n, mean: Math.round((sum / n) * 100) / 100 }];
    }),
  );
}

/** The audiences a round has invitations of (one query of its partition, projected). */
async function invitedAudiences(db: Db, roundId: string): Promise<Set<Audience>> {
  const found = new Set<Audience>();
  for await (const items of queryAll(
    db,
    roundInvitationsQuery(roundId, {
      ProjectionExpression: 'audience',
    }),
  )) {
    for (const item of items) found.add(item.audience as Audience);
  }
  return found;
}

/**
 * `round.closed` with the scores it released, per audience: an anonymous round's batch of at least
 * k (its items below k left out, as in every published figure), or, for every other audience it
 * invited, `pooled: true` (its answers, if any, were too few and wait in the pro's pool); a named
 * round's answers, each released when given.
 */
async function roundClosedEvent(db: Db, roundId: string): Promise<WebhookEvent> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.round(roundId), ConsistentRead: true }));
  const round = Item!;
  const closedAt = round.closedAt as string;
  let scores: Record<string, unknown>[];
  if (round.attribution === 'anonymous') {
    // Every audience invited, not only those that answered: an audience of one listed as pooled only
    // when its answer went to the pool would tell whether that person answered.
    const invited = await invitedAudiences(db, roundId);
    const markers = AUDIENCES.filter((audience) => invited.has(audience)).map((audience) => [audience, round[`released_${audience}`] as string | undefined] as const);
    const batched = markers.filter(([, m]) => m !== undefined && m !== 'pool');
    const found = await batchGet(db, batched.map(([, m]) => keys.batch(m!)));
    scores = markers.map(([audience, marker]) => {
      if (marker === undefined || marker === 'pool') return { audience, pooled: true, batchId: null, answers: null, k: null, items: null };
      const batch = withoutKeys<ReleaseBatch>([...found.values()].find((b) => b.batchId === marker)!);
      return { audience, pooled: false, batchId: batch.batchId, answers: batch.size, k: batch.k, items: figures(batch.aggregate) };
    });
  } else {
    const responses: SurveyResponse[] = [];
    for await (const items of queryAll(db, { KeyConditionExpression: 'PK = :pk AND begins_with(SK, :rsp)', ExpressionAttributeValues: { ':pk': keys.round(roundId).PK, ':rsp': 'RSP#' }, ConsistentRead: true })) {
      responses.push(...items.map((i) => responseOf(i)));
    }
    scores = AUDIENCES.map((audience) => responses.filter((r) => r.audience === audience))
      .filter((group) => group.length > 0)
      .map((group) => ({ audience: group[0]!.audience, pooled: false, batchId: null, answers: group.length, k: 1, items: figures(batchAggregate(group.map((r) => r.answers), 1)) }));
  }
  return {
    eventId: eventIdFor(new Date(closedAt), 'round.closed', roundId),
    agencyId: round.agencyId as string,
    type: 'round.closed',
    timestamp: closedAt,
    data: {
      surveyId: roundId,
      campaignId: round.campaignId,
      campaignName: round.campaignName,
      proId: round.proId,
      attribution: round.attribution,
      status: round.status,
      closedAt,
      scores,
    },
  };
}
