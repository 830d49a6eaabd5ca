import * as v from 'valibot';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { batchGet, itemKey } from '../db/batch';
import { queryGroupPage, type PageRequest } from '../db/page';
import { getAgency, type Agency } from '../agency/agency';
import { getCampaign } from '../campaign/campaign';
import { getPro } from '../pro/pro';
import { ValidationError } from '../shared/errors';
import { periodOf } from '../shared/time';
import { parseInput } from '../shared/validate';
import { MonthSchema } from '../shared/schemas';
import { AUDIENCES, type Audience } from '../survey/instrument';
import { emptyCounter, holdsCounts, readCounter, responsesIn, SCALES, SCORED_ITEMS, sumCounters, type Counter, type ScoredItem } from './counters';
import { addTallies, withOpenRounds, type OpenRound } from './open-rounds';
import { meanWithInterval, nps, percent, percentResponsive, type Interval, type Nps, type PercentResponsive } from './stats';

/** The figures of one item. */
export interface ItemScore {
  n: number;
  mean: number | null;
  ci: Interval | null;
  /** Responsiveness only: the share answering 4–5, in percent, with its Wilson interval. */
  percentResponsive?: Omit<PercentResponsive, 'n'>;
  /** Recommend only: the Net Promoter Score with its adjusted-Wald interval. */
  nps?: Omit<Nps, 'n'>;
}

/**
 * A group (an audience, the total, a pro): its released answers and their scores. Nothing is
 * withheld here: counters hold only whole release batches (each at least k anonymous answers, or
 * a named answer), so every sum of them is safe to publish, whatever the filter or period.
 */
export interface GroupScores {
  /** Released answers. */
  n: number;
  items: Partial<Record<ScoredItem, ItemScore>>;
}

export interface PeriodScores {
  period: string;
  /** Invitations delivered (not bounced) in the rounds of the period, and answers released in it. */
  delivered: number;
  responses: number;
  /** Released answers over delivered invitations, in percent (0–100); null before any delivery. */
  responseRatePercent: number | null;
  total: GroupScores;
  audiences: Partial<Record<Audience, GroupScores>>;
}

export function groupScores(counter: Counter): GroupScores {
  const items: Partial<Record<ScoredItem, ItemScore>> = {};
  for (const item of SCORED_ITEMS) {
    const c = counter.items[item];
    if (c.n === 0) continue;
    const { mean, ci } = meanWithInterval(c, SCALES[item]);
    const score: ItemScore = { n: c.n, mean, ci };
    if (item === 'responsiveness') {
      const { n: _n, ...share } = percentResponsive(c.histogram);
      score.percentResponsive = share;
    }
    if (item === 'recommend') {
      const { n: _n, ...promoters } = nps(c.histogram);
      score.nps = promoters;
    }
    items[item] = score;
  }
  return { n: responsesIn(counter), items };
}

function periodScores(period: string, byAudience: ReadonlyMap<Audience, Counter>): PeriodScores {
  const all = sumCounters([...byAudience.values()]);
  return {
    period,
    delivered: all.delivered,
    responses: responsesIn(all),
    responseRatePercent: percent(responsesIn(all), all.delivered),
    total: groupScores(all),
    audiences: Object.fromEntries([...byAudience].map(([a, c]) => [a, groupScores(c)])),
  };
}


export const ScoresQuerySchema = v.object({
  from: v.optional(v.pipe(MonthSchema, v.description('The first month (`YYYY-MM`, in the agency time zone, by when the round began); default 11 months before `to`.'))),
  to: v.optional(v.pipe(MonthSchema, v.description('The last month (`YYYY-MM`), inclusive; default the current month. The range holds at most 36 months.'))),
  audience: v.optional(v.pipe(v.picklist(AUDIENCES, 'must be reporter, colleague or client'), v.description('Only this audience\'s answers and invitations; default all three.'))),
  granularity: v.optional(
    v.pipe(v.picklist(['month', 'quarter', 'total'], 'must be month, quarter or total'), v.description('One period per month, per quarter, or one `total` for the whole range.')),
    'month',
  ),
});
export type ScoresQuery = v.InferInput<typeof ScoresQuerySchema>;

export const MAX_MONTHS = 36;

export function months(from: string, to: string): string[] {
  const [fy, fm] = from.split('-').map(Number) as [number, number];
  const [ty, tm] = to.split('-').map(Number) as [number, number];
  const list: string[] = [];
  for (let y = fy, m = fm; y < ty || (y === ty && m <= tm); m === 12 ? ((y += 1), (m = 1)) : (m += 1)) {
    list.push(`${y}-${String(m).padStart(2, '0')}`);
  }
  return list;
}

const quarterOf = (month: string) => `${month.slice(0, 4)}-Q${Math.ceil(Number(month.slice(5)) / 3)}`;

/** The months asked for: by default the twelve ending with the agency's current month. */
function resolveRange(query: v.InferOutput<typeof ScoresQuerySchema>, agency: Agency, now: Date) {
  const to = query.to ?? periodOf(now, agency.timezone);
  const from = query.from ?? months('0000-01', to).at(-12) ?? to;
  if (from > to) throw ValidationError.field('from', 'must not be after `to`');
  const list = months(from, to);
  if (list.length > MAX_MONTHS) throw ValidationError.field('from', `the range must be at most ${MAX_MONTHS} months`);
  return { from, to, months: list };
}

/**
 * Counters of one partition whose sort keys are `<YYYY-MM>#<audience>`, within months, by month
 * then audience. Strongly consistent, as the open rounds read around it (`withOpenRounds`): a
 * round folded just before is in them.
 */
export async function monthlyCounters(db: Db, partition: string, from: string, to: string): Promise<Map<string, Map<Audience, Counter>>> {
  const byMonth = new Map<string, Map<Audience, Counter>>();
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': partition, ':from': from, ':to': `${to}#~` },
        ExclusiveStartKey: startKey,
        ConsistentRead: true,
      }),
    );
    for (const item of (page.Items ?? []).filter(holdsCounts)) {
      const [month, audience] = (item.SK as string).split('#') as [string, Audience];
      const audiences = byMonth.get(month) ?? new Map<Audience, Counter>();
      audiences.set(audience, readCounter(item));
      byMonth.set(month, audiences);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return byMonth;
}

/** Months grouped per the granularity, each with its counters per audience (filtered to one if asked). */
function bucket(byMonth: Map<string, Map<Audience, Counter>>, monthList: string[], granularity: 'month' | 'quarter' | 'total', audience?: Audience) {
  const label = (m: string) => (granularity === 'month' ? m : granularity === 'quarter' ? quarterOf(m) : 'total');
  const buckets = new Map<string, Map<Audience, Counter[]>>();
  for (const month of monthList) {
    const b = buckets.get(label(month)) ?? new Map<Audience, Counter[]>();
    buckets.set(label(month), b);
    for (const [a, counter] of byMonth.get(month) ?? []) {
      if (audience && a !== audience) continue;
      b.set(a, [...(b.get(a) ?? []), counter]);
    }
  }
  return [...buckets].map(([period, audiences]) => ({
    period,
    audiences: new Map([...audiences].map(([a, list]) => [a, sumCounters(list)] as const)),
  }));
}

export interface ScoresReport {
  from: string;
  to: string;
  granularity: 'month' | 'quarter' | 'total';
  audience: Audience | null;
  anonymityThreshold: number;
  periods: PeriodScores[];
}

/** Whether an open round began within the months asked for. */
const inRange = (range: { from: string; to: string }) => (round: OpenRound) => round.period >= range.from && round.period <= range.to;

/**
 * A pro's monthly counters within months, with the deliveries of their open rounds (tallied from
 * the invitations until the close folds them in): what the scores and the summary read.
 */
export async function proMonthlyCounters(db: Db, agencyId: string, proId: string, from: string, to: string): Promise<Map<string, Map<Audience, Counter>>> {
  const { counters, tallies } = await withOpenRounds(
    db,
    agencyId,
    (round) => round.proId === proId && inRange({ from, to })(round),
    () => monthlyCounters(db, keys.proCounter(agencyId, proId, '', '').PK, from, to),
  );
  return addTallies(counters, tallies);
}

/** A pro's scores per period (month, quarter or the whole range) and audience, from the counters. */
export async function proScores(db: Db, agencyId: string, proId: string, input: unknown, now: Date): Promise<ScoresReport & { proId: string }> {
  const query = parseInput(ScoresQuerySchema, input);
  const [agency] = await Promise.all([getAgency(db, agencyId), getPro(db, agencyId, proId)]);
  const range = resolveRange(query, agency, now);
  const byMonth = await proMonthlyCounters(db, agencyId, proId, range.from, range.to);
  return {
    proId,
    from: range.from,
    to: range.to,
    granularity: query.granularity,
    audience: query.audience ?? null,
    anonymityThreshold: agency.anonymityThreshold,
    periods: bucket(byMonth, range.months, query.granularity, query.audience).map((b) => periodScores(b.period, b.audiences)),
  };
}

/** A campaign's scores per audience and in total (campaign counters are not split by month). */
export async function campaignScores(db: Db, agencyId: string, campaignId: string) {
  const [agency, campaign] = await Promise.all([getAgency(db, agencyId), getCampaign(db, agencyId, campaignId)]);
  const { counters: Items, tallies } = await withOpenRounds(
    db,
    agencyId,
    (round) => round.campaignId === campaignId,
    async () =>
      (
        await db.doc.send(
          new QueryCommand({ TableName: db.table, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': keys.campaignCounter(agencyId, campaignId, '').PK }, ConsistentRead: true }),
        )
      ).Items ?? [],
  );
  const byAudience = new Map(Items.map((item) => [item.SK as Audience, readCounter(item)] as const));
  for (const { audience, delivered } of tallies) {
    const counter = byAudience.get(audience) ?? emptyCounter();
    counter.delivered += delivered;
    byAudience.set(audience, counter);
  }
  const { period: _period, ...scores } = periodScores('campaign', byAudience);
  return { campaignId, proId: campaign.proId, anonymityThreshold: agency.anonymityThreshold, ...scores };
}

/**
 * The agency's scores per period and audience (the same on every page), and a page of its pros,
 * each with its scores over the whole range. The pros come from one query on the agency's scores
 * index (the pro counters, pro after pro, months side by side): a pro appears once it has a counter
 * in the range with a delivery or a released answer, in the order pros were created; their names
 * are one BatchGet for the page.
 */
export async function agencyScores(db: Db, agencyId: string, input: unknown, page: PageRequest, now: Date) {
  const query = parseInput(ScoresQuerySchema, input);
  const agency = await getAgency(db, agencyId);
  const range = resolveRange(query, agency, now);
  const { counters, tallies } = await withOpenRounds(db, agencyId, inRange(range), () => monthlyCounters(db, keys.agencyCounter(agencyId, '', '').PK, range.from, range.to));
  const byMonth = addTallies(counters, tallies);
  // A pro's open rounds add their deliveries to the pro's line (the index holds the counters only).
  const openDeliveries = new Map<string, number>();
  for (const { round, audience, delivered } of tallies) {
    if (!query.audience || audience === query.audience) openDeliveries.set(round.proId, (openDeliveries.get(round.proId) ?? 0) + delivered);
  }
  const { GSI2PK: partition } = keys.proCounterByAgency(agencyId, '', '', '');
  const pros = await queryGroupPage(
    db,
    {
      KeyConditionExpression: 'GSI2PK = :pk',
      // The table's sort key is `<YYYY-MM>#<audience>`: months outside the range are read, not returned.
      FilterExpression: 'SK BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': partition, ':from': range.from, ':to': `${range.to}#~` },
      // A page's pros with every month and audience of the range, and the next pro's.
      Limit: (page.limit + 1) * range.months.length * AUDIENCES.length,
    },
    { index: 'GSI2', partition: { GSI2PK: partition }, sortPrefix: 'PRO#' },
    page,
    {
      keyOf: (raw) => (raw.GSI2SK as string).split('#')[1]!,
      toItem: (proId, raws) => {
        const open = { ...emptyCounter(), delivered: openDeliveries.get(proId) ?? 0 };
        const counter = sumCounters([...raws.filter((raw) => !query.audience || (raw.SK as string).endsWith(`#${query.audience}`)).map(readCounter), open]);
        return counter.delivered > 0 || responsesIn(counter) > 0 ? { proId, counter } : null;
      },
    },
  );
  const named = await batchGet(db, pros.items.map(({ proId }) => keys.pro(agencyId, proId)));
  return {
    from: range.from,
    to: range.to,
    granularity: query.granularity,
    audience: query.audience ?? null,
    anonymityThreshold: agency.anonymityThreshold,
    periods: bucket(byMonth, range.months, query.granularity, query.audience).map((b) => periodScores(b.period, b.audiences)),
    pros: pros.items.map(({ proId, counter }) => ({ proId, name: named.get(itemKey(keys.pro(agencyId, proId)))?.name as string, ...groupScores(counter) })),
    nextCursor: pros.nextCursor,
  };
}
