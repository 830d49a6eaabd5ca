import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { mapConcurrent } from '../db/batch';
import { queryAll, roundInvitationsQuery } from '../db/page';
import { transactIfUnchanged, type TransactItems } from '../db/transact';
import { AUDIENCES, type Audience } from '../survey/instrument';
import { counterScope, counterUpdates, deliveredDelta, emptyCounter, type Counter } from './counters';

/**
 * The delivered count of an open round is not kept in the counters (that made every send a
 * transaction of four items): it is tallied from the round's invitations when scores are read,
 * and the close folds the final tally into the counters, once. An agency's open rounds are listed
 * under `AG#<a>#OPEN` (keys.ts 15c), put with the round and deleted by the fold.
 */
export interface OpenRound {
  roundId: string;
  proId: string;
  campaignId: string;
  /** The month the round began: where its deliveries count. */
  period: string;
  attribution: 'anonymous' | 'named';
}

type RoundScope = OpenRound & { agencyId: string };

/**
 * Set on rounds created since deliveries are tallied while open. A round without it (open when
 * this was deployed: its earlier sends are in the counters already) keeps counting each delivery
 * in the counters as it happens, and is not listed.
 */
export const tallied = (round: { tallyDelivered?: boolean }): boolean => round.tallyDelivered === true;

/** What the round's creation writes with it: its open-round entry, and its pro counter for the month. */
export function openRoundWrites(db: Db, round: RoundScope): TransactItems {
  const { agencyId, roundId, proId, campaignId, period, attribution } = round;
  return [
    // `changes`: moved by every delivery event the close's tally could miss (a late bounce), so the fold sees it.
    { Put: { TableName: db.table, Item: { ...keys.openRound(agencyId, roundId), type: 'openRound', roundId, proId, campaignId, period, attribution, changes: 0 } } },
    // Holding nothing (readers skip it), it puts the pro in the agency's scores index, so the pros
    // page finds a pro whose only round is open; an existing counter is left as it is.
    {
      Update: {
        TableName: db.table,
        Key: keys.proCounter(agencyId, proId, period, AUDIENCES[0]),
        UpdateExpression: 'SET #type = :type, GSI2PK = :pk, GSI2SK = :sk',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: { ':type': 'counter', ...indexValues(keys.proCounterByAgency(agencyId, proId, period, AUDIENCES[0])) },
      },
    },
  ];
}

const indexValues = (index: { GSI2PK: string; GSI2SK: string }) => ({ ':pk': index.GSI2PK, ':sk': index.GSI2SK });

/**
 * The agency's open rounds (strongly consistent: a fold is seen once it is done, and a round as soon
 * as it is written, which the indexes may not show yet: a pro's erasure looks here too).
 */
export async function listOpenRounds(db: Db, agencyId: string): Promise<OpenRound[]> {
  const rounds: OpenRound[] = [];
  for await (const items of queryAll(db, { KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': keys.openRound(agencyId, '').PK }, ConsistentRead: true })) {
    rounds.push(...(items as unknown as OpenRound[]));
  }
  return rounds;
}

interface TalliedInvitation {
  status: string;
  answeredFrom?: string;
  audience: Audience;
  sentAt?: string | null;
}

/**
 * Whether the delivered counter counts an invitation, as it did when kept per event: on a named
 * round `sent`, `expired` and `responded` (an answer proves its email arrived); on an anonymous
 * one the delivery statuses only, an answered invitation by the status it had (`answeredFrom`),
 * since an answer must move nothing published there.
 */
function countsDelivered(attribution: OpenRound['attribution'], { status, answeredFrom }: TalliedInvitation): boolean {
  if (status === 'sent' || status === 'expired') return true;
  if (status !== 'responded') return false;
  return attribution === 'named' || (answeredFrom ?? 'sent') === 'sent';
}

/**
 * A round's delivered count per audience, from its invitations (one Query of its partition, as
 * `roundProgress`). An audience is there once one of its invitations was ever counted (its email
 * recorded sent, or a named answer), even if a bounce took it back: where the counters held an
 * item, at 0.
 */
export async function deliveredTally(db: Db, round: OpenRound, { consistent = false } = {}): Promise<Map<Audience, number>> {
  const tally = new Map<Audience, number>();
  for await (const items of queryAll(
    db,
    roundInvitationsQuery(round.roundId, {
      ProjectionExpression: '#status, answeredFrom, audience, sentAt',
      ExpressionAttributeNames: { '#status': 'status' },
      ConsistentRead: consistent,
    }),
  )) {
    for (const invitation of items as unknown as TalliedInvitation[]) {
      const counted = countsDelivered(round.attribution, invitation);
      const everCounted = counted || typeof invitation.sentAt === 'string' || (round.attribution === 'named' && invitation.status === 'responded');
      if (everCounted) tally.set(invitation.audience, (tally.get(invitation.audience) ?? 0) + (counted ? 1 : 0));
    }
  }
  return tally;
}

export interface OpenTally {
  round: OpenRound;
  audience: Audience;
  delivered: number;
}

/**
 * Counters read by `read`, with the deliveries of the agency's open rounds that `which` keeps,
 * each round once: a round folded between the list's read and the counters' would be in both, so
 * the list is read again after the counters, and all of it again if a round left it meanwhile
 * (whether the counters were read before its fold or after cannot be told). Each time again is a
 * fold of a round listed the time before, and a round is folded once, at its close: it ends.
 */
export async function withOpenRounds<T>(db: Db, agencyId: string, which: (round: OpenRound) => boolean, read: () => Promise<T>): Promise<{ counters: T; tallies: OpenTally[] }> {
  for (;;) {
    const before = await listOpenRounds(db, agencyId);
    const counters = await read();
    const after = new Set(before.length ? (await listOpenRounds(db, agencyId)).map((r) => r.roundId) : []);
    if (before.some((r) => !after.has(r.roundId))) continue;
    const rounds = before.filter((r) => which(r));
    const tallies = await mapConcurrent(rounds, 4, async (round) => [...(await deliveredTally(db, round))].map(([audience, delivered]) => ({ round, audience, delivered })));
    return { counters, tallies: tallies.flat() };
  }
}

/** Adds open rounds' deliveries to counters by month (the round's) and audience. */
export function addTallies(byMonth: Map<string, Map<Audience, Counter>>, tallies: readonly OpenTally[]): Map<string, Map<Audience, Counter>> {
  for (const { round, audience, delivered } of tallies) {
    const audiences = byMonth.get(round.period) ?? new Map<Audience, Counter>();
    const counter = audiences.get(audience) ?? emptyCounter();
    counter.delivered += delivered;
    audiences.set(audience, counter);
    byMonth.set(round.period, audiences);
  }
  return byMonth;
}

/**
 * Folds a closing round's delivered count per audience into its counters and takes it off the
 * open list, in one transaction conditional on the entry as read: exactly once, however many
 * closes run or retry. A late bounce moves the entry (`deliveredChange`), so a fold whose tally
 * missed it is tried again. No entry: folded already, or a round whose counters count it.
 */
export async function foldDelivered(db: Db, agencyId: string, roundId: string): Promise<void> {
  const key = keys.openRound(agencyId, roundId);
  for (let attempt = 1; ; attempt++) {
    const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: key, ConsistentRead: true }));
    if (!Item) return;
    const round = Item as unknown as OpenRound & { changes: number };
    const tally = await deliveredTally(db, round, { consistent: true });
    const folded = await transactIfUnchanged(db, [
      ...[...tally].flatMap(([audience, delivered]) => counterUpdates(db, counterScope({ agencyId, ...round }, { audience }), deliveredDelta(delivered))),
      { Delete: { TableName: db.table, Key: key, ConditionExpression: 'changes = :changes', ExpressionAttributeValues: { ':changes': round.changes } } },
    ]);
    if (folded) return;
    if (attempt >= 9) throw new Error(`The deliveries of round ${roundId} kept changing while being folded`);
  }
}

/**
 * Writes a change of an invitation's delivery that the counters count (`sign`: +1 or −1; a bounce
 * takes one back) through `write`, given what else to write with it: on a round from before the
 * open list, the counters; on an open one, a move of its entry (its tally has the change, and a
 * fold in progress tallies again); on one folded since, the counters. False when `write` found the
 * invitation moved on.
 */
export async function deliveredChange(
  db: Db,
  round: RoundScope & { tallyDelivered?: boolean },
  invitation: { audience: Audience },
  sign: 1 | -1,
  write: (also: TransactItems) => Promise<boolean>,
): Promise<boolean> {
  const counters = () => counterUpdates(db, counterScope(round, invitation), deliveredDelta(sign));
  if (!tallied(round)) return write(counters());
  const key = keys.openRound(round.agencyId, round.roundId);
  const moved = { Update: { TableName: db.table, Key: key, UpdateExpression: 'ADD changes :one', ConditionExpression: 'attribute_exists(PK)', ExpressionAttributeValues: { ':one': 1 } } };
  if (await write([moved])) return true;
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: key, ConsistentRead: true }));
  return Item ? false : write(counters());
}
