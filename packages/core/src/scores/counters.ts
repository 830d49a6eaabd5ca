import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { DIMENSIONS, type Audience } from '../survey/instrument';
import type { ItemCounter } from './stats';

/**
 * Pre-aggregated counters: the pro's (month × audience), the campaign's (audience) and the
 * agency's (month × audience). Their answer figures change only when a release batch is released
 * (`release/`), which adds the batch's aggregate to all three in one transaction; a named answer
 * is a batch of one. Attributes are flat (`i_<item>_n`, `_s` Σx, `_q` Σx², `_h<score>`) because
 * DynamoDB's ADD creates a missing top-level number but not a path inside a missing map.
 */
export const SCORED_ITEMS = ['responsiveness', 'recommend', ...DIMENSIONS] as const;
export type ScoredItem = (typeof SCORED_ITEMS)[number];

export const SCALES: Record<ScoredItem, { min: number; max: number }> = Object.fromEntries(
  SCORED_ITEMS.map((item) => [item, item === 'recommend' ? { min: 0, max: 10 } : { min: 1, max: 5 }]),
) as Record<ScoredItem, { min: number; max: number }>;

/**
 * The number a counter item holds besides the items: invitations delivered, the response rate's
 * denominator. It moves with deliveries and bounces, never with an anonymous answer. (A count of
 * answers received per audience would tell, for an audience of one, who answered.)
 */
const DELIVERED = 'delivered';

export type Delta = Record<string, number>;

type Scores = Partial<Record<ScoredItem, number>>;

/** What one set of answers adds to a counter (or takes away, with sign −1). */
function answerDelta(answers: Scores, sign: 1 | -1): Delta {
  const delta: Delta = {};
  for (const item of SCORED_ITEMS) {
    const x = answers[item];
    if (x === undefined) continue;
    delta[`i_${item}_n`] = sign;
    delta[`i_${item}_s`] = sign * x;
    delta[`i_${item}_q`] = sign * x * x;
    delta[`i_${item}_h${x}`] = sign;
  }
  return delta;
}

/**
 * The change a submission makes: the new answers enter, and on a revision the previous ones leave.
 * Attributes that net to zero are left out, so an unchanged revision touches no counter.
 */
export function responseDelta(previous: Scores | null, next: Scores): Delta {
  const net: Delta = {};
  const add = (delta: Delta) => {
    for (const [name, value] of Object.entries(delta)) net[name] = (net[name] ?? 0) + value;
  };
  if (previous) add(answerDelta(previous, -1));
  add(answerDelta(next, 1));
  return Object.fromEntries(Object.entries(net).filter(([, v]) => v !== 0));
}

/** Deliveries counted (negative: taken back by a bounce); a round's close adds its whole tally. */
export const deliveredDelta = (count: number): Delta => ({ [DELIVERED]: count });

/**
 * What a release batch adds: per scored item, the answers of everyone in it who answered the
 * item, but only when at least `minPerItem` did (the batch's k); otherwise the item contributes
 * nothing anywhere, so an optional item answered by a few cannot be told apart.
 */
export function batchAggregate(answers: readonly Scores[], minPerItem: number): Delta {
  const delta: Delta = {};
  for (const item of SCORED_ITEMS) {
    const given = answers.map((a) => a[item]).filter((x): x is number => x !== undefined);
    if (given.length === 0 || given.length < minPerItem) continue;
    for (const x of given) {
      for (const [name, value] of Object.entries(answerDelta({ [item]: x }, 1))) delta[name] = (delta[name] ?? 0) + value;
    }
  }
  return delta;
}

/** Where a round's numbers for one audience are counted (a pooled batch has no campaign). */
export interface CounterScope {
  agencyId: string;
  proId: string;
  campaignId: string | null;
  period: string;
  audience: Audience;
}

/** The scope an invitation of a round counts in. */
export const counterScope = (
  round: { agencyId: string; proId: string; campaignId: string; period: string },
  invitation: { audience: Audience },
): CounterScope => ({ agencyId: round.agencyId, proId: round.proId, campaignId: round.campaignId, period: round.period, audience: invitation.audience });

/** The transaction items that apply `delta` to the counters of a scope (none for an empty delta). */
export function counterUpdates(db: Db, scope: CounterScope, delta: Delta): NonNullable<TransactWriteCommandInput['TransactItems']> {
  const names = Object.keys(delta);
  if (names.length === 0) return [];
  // The pro's counter also carries its key in the agency's scores index (GSI2), so the agency's
  // pros page from one index partition: one index write more, no transaction item more.
  const targets: Array<{ Key: Record<string, string>; index?: Record<string, string> }> = [
    { Key: keys.proCounter(scope.agencyId, scope.proId, scope.period, scope.audience), index: keys.proCounterByAgency(scope.agencyId, scope.proId, scope.period, scope.audience) },
    ...(scope.campaignId ? [{ Key: keys.campaignCounter(scope.agencyId, scope.campaignId, scope.audience) }] : []),
    { Key: keys.agencyCounter(scope.agencyId, scope.period, scope.audience) },
  ];
  return targets.map(({ Key, index = {} }) => ({
    Update: {
      TableName: db.table,
      Key,
      UpdateExpression: `SET ${['#type = :type', ...Object.keys(index).map((name) => `${name} = :${name}`)].join(', ')} ADD ${names.map((_, i) => `#a${i} :v${i}`).join(', ')}`,
      ExpressionAttributeNames: { '#type': 'type', ...Object.fromEntries(names.map((n, i) => [`#a${i}`, n])) },
      ExpressionAttributeValues: {
        ':type': 'counter',
        ...Object.fromEntries(Object.entries(index).map(([name, value]) => [`:${name}`, value])),
        ...Object.fromEntries(names.map((n, i) => [`:v${i}`, delta[n]])),
      },
    },
  }));
}

/** A counter as read: per item its n, Σx, Σx² and histogram; invitations delivered. */
export interface Counter {
  items: Record<ScoredItem, ItemCounter>;
  delivered: number;
}

export function emptyCounter(): Counter {
  return {
    items: Object.fromEntries(SCORED_ITEMS.map((item) => [item, { n: 0, sum: 0, sumSq: 0, histogram: {} }])) as Record<ScoredItem, ItemCounter>,
    delivered: 0,
  };
}

/**
 * Whether a stored counter item counts anything: a round's creation puts its pro counter in the
 * agency's scores index before anything is counted in it (`openRoundWrites`); until then it is no counter.
 */
export const holdsCounts = (raw: Record<string, unknown>): boolean => Object.keys(raw).some((name) => name === DELIVERED || name.startsWith('i_'));

/** Reads a stored counter item (absent attributes are zero). */
export function readCounter(raw: Record<string, unknown>): Counter {
  const counter = emptyCounter();
  const num = (name: string) => (typeof raw[name] === 'number' ? (raw[name] as number) : 0);
  counter.delivered = num(DELIVERED);
  for (const item of SCORED_ITEMS) {
    const c = counter.items[item];
    c.n = num(`i_${item}_n`);
    c.sum = num(`i_${item}_s`);
    c.sumSq = num(`i_${item}_q`);
    const prefix = `i_${item}_h`;
    for (const [name, value] of Object.entries(raw)) {
      if (name.startsWith(prefix) && typeof value === 'number' && value !== 0) c.histogram[name.slice(prefix.length)] = value;
    }
  }
  return counter;
}

/** Several counters as one (months into a quarter or a total, audiences into all). */
export function sumCounters(counters: readonly Counter[]): Counter {
  const total = emptyCounter();
  for (const c of counters) {
    total.delivered += c.delivered;
    for (const item of SCORED_ITEMS) {
      const t = total.items[item];
      const x = c.items[item];
      t.n += x.n;
      t.sum += x.sum;
      t.sumSq += x.sumSq;
      for (const [score, count] of Object.entries(x.histogram)) t.histogram[score] = (t.histogram[score] ?? 0) + count;
    }
  }
  return total;
}

/** The number of released answers a counter holds: every answer gives the headline item. */
export const responsesIn = (counter: Counter): number => counter.items.responsiveness.n;
