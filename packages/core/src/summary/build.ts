import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { queryAll } from '../db/page';
import type { Agency } from '../agency/agency';
import type { Pro } from '../pro/pro';
import { commitmentAt } from '../pro/commitment';
import { readCounter, responseDelta, responsesIn, SCALES, sumCounters, type Counter, type ScoredItem } from '../scores/counters';
import { monthlyCounters, months } from '../scores/report';
import { intervalsSeparate, meanWithInterval, nps, percentResponsive } from '../scores/stats';
import { periodOf } from '../shared/time';
import { AUDIENCES, DIMENSIONS, ITEM_LABELS, type Audience } from '../survey/instrument';
import type { SurveyResponse } from '../survey/response';
import type { Figure, HeadlineFigure, ProSummary, TrendPoint } from './model';
import { previousPeriod, type SummaryPeriod } from './schedule';
import { chooseTips } from './tips';

const MONTH_SHORT = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The responses a pro received in a period (by first submission), from the pro's timeline. */
export async function receivedIn(db: Db, agencyId: string, proId: string, period: SummaryPeriod): Promise<SurveyResponse[]> {
  const found: SurveyResponse[] = [];
  for await (const items of queryAll(db, {
    IndexName: 'GSI2',
    KeyConditionExpression: 'GSI2PK = :pk AND GSI2SK BETWEEN :from AND :to',
    ExpressionAttributeValues: { ':pk': keys.responseByPro(agencyId, proId, '', '').GSI2PK, ':from': period.from, ':to': period.to },
  })) {
    found.push(...(items as unknown as SurveyResponse[]));
  }
  return found;
}

/** Responses as one counter, the way the response transaction would have counted them. */
export const counterOf = (responses: readonly SurveyResponse[]): Counter =>
  sumCounters(responses.map((r) => readCounter(responseDelta(null, r.answers, false))));

export function figure(n: number, k: number, value: number | null, ci: [number, number] | null): Figure {
  return n < k || value === null ? { n, withheld: true } : { n, withheld: false, value, ci };
}

function headline(current: Counter, previous: Counter | null, k: number): HeadlineFigure[] {
  const measures = (c: Counter) => {
    const mean = meanWithInterval(c.items.responsiveness, SCALES.responsiveness);
    const share = percentResponsive(c.items.responsiveness.histogram);
    const promoters = nps(c.items.recommend.histogram);
    return {
      responsiveness: figure(mean.n, k, mean.mean, mean.ci),
      percentResponsive: figure(share.n, k, share.percent, share.ci),
      nps: figure(promoters.n, k, promoters.score, promoters.ci),
    };
  };
  const now = measures(current);
  const before = previous ? measures(previous) : null;
  const rows = [
    { key: 'responsiveness', label: 'Responsiveness (1–5)', unit: 'mean5' },
    { key: 'percentResponsive', label: 'Responsive or better (4–5)', unit: 'percent' },
    { key: 'nps', label: 'Net Promoter Score', unit: 'nps' },
  ] as const;
  return rows.map(({ key, label, unit }) => {
    const a = now[key];
    const b = before?.[key] ?? null;
    const separated = !a.withheld && b && !b.withheld && intervalsSeparate(a.ci, b.ci);
    return { key, label, unit, current: a, previous: b, change: separated ? (a.value > (b as { value: number }).value ? 'up' : 'down') : 'none' };
  });
}

/** Mean responsiveness over the answers received from a moment (a commitment) to the end of the period. */
async function responsivenessSince(db: Db, agency: Agency, pro: Pro, since: string, to: string): Promise<Figure> {
  const responses = await receivedIn(db, agency.agencyId, pro.proId, { key: 'since', label: 'since', from: since, to });
  const stats = meanWithInterval(counterOf(responses).items.responsiveness, SCALES.responsiveness);
  return figure(stats.n, agency.anonymityThreshold, stats.mean, stats.ci);
}

/**
 * The commitment the pro had during the period, with the responsiveness since: the current one,
 * or, when that was made after the period, the one it replaced (commitments are kept, oldest first).
 */
async function commitmentDuring(db: Db, agency: Agency, pro: Pro, period: SummaryPeriod): Promise<ProSummary['commitment']> {
  const commitment =
    pro.commitment && pro.commitment.since < period.to ? pro.commitment : pro.commitment ? await commitmentAt(db, agency.agencyId, pro.proId, period.to) : null;
  return commitment && { ...commitment, responsiveness: await responsivenessSince(db, agency, pro, commitment.since, period.to) };
}

/**
 * Everything one pro's summary for a period says, or null for a quiet period (nothing new).
 * Headline figures, the weakest dimension and the comments come from the responses received in
 * the period (and the period before, for the comparison); the trend and the response rate from
 * the monthly counters, by the month the rounds began.
 */
export async function buildProSummary(
  db: Db,
  agency: Agency,
  pro: Pro,
  period: SummaryPeriod,
  options: { lastTipIds: readonly string[]; moreUrl: string },
): Promise<ProSummary | null> {
  const k = agency.anonymityThreshold;
  const previous = previousPeriod(period, agency.timezone);
  const [current, before] = await Promise.all([
    receivedIn(db, agency.agencyId, pro.proId, period),
    receivedIn(db, agency.agencyId, pro.proId, previous),
  ]);
  if (current.length === 0) return null;

  const lastMonth = periodOf(new Date(Date.parse(period.to) - 1), agency.timezone);
  const trendMonths = months('0000-01', lastMonth).slice(-12);
  const byMonth = await monthlyCounters(db, keys.proCounter(agency.agencyId, pro.proId, '', '').PK, trendMonths[0]!, lastMonth);
  const monthCounter = (m: string) => sumCounters([...(byMonth.get(m)?.values() ?? [])]);
  // Twelve months, less any empty ones at the start, but never fewer than six.
  const firstWithData = trendMonths.findIndex((m) => responsesIn(monthCounter(m)) > 0);
  const shown = trendMonths.slice(Math.min(Math.max(firstWithData, 0), trendMonths.length - 6));
  const trend: TrendPoint[] = shown.map((m) => {
    const c = meanWithInterval(monthCounter(m).items.responsiveness, SCALES.responsiveness);
    return { period: m, label: MONTH_SHORT[Number(m.slice(5)) - 1]!, figure: figure(c.n, k, c.mean, c.ci) };
  });

  const rateMonths = months(periodOf(new Date(period.from), agency.timezone), lastMonth);
  const rate = sumCounters(rateMonths.map(monthCounter));

  const all = counterOf(current);
  const weakest = DIMENSIONS.map((d) => ({ d, stats: meanWithInterval(all.items[d as ScoredItem], SCALES[d as ScoredItem]) }))
    .filter(({ stats }) => stats.n >= k && stats.mean !== null)
    .sort((a, b) => a.stats.mean! - b.stats.mean! || (a.d < b.d ? -1 : 1))[0];

  const audienceCounts = new Map<Audience, number>(AUDIENCES.map((a) => [a, current.filter((r) => r.audience === a).length]));
  const comments = [...current]
    .filter((r) => r.answers.improve && audienceCounts.get(r.audience)! >= k)
    .sort((a, b) => (a.firstSubmittedAt < b.firstSubmittedAt ? 1 : -1))
    .slice(0, 3)
    .map((r) => ({ audience: r.audience, text: r.answers.improve! }));

  return {
    agencyName: agency.name,
    pro: { proId: pro.proId, name: pro.name },
    period,
    previousPeriodLabel: previous.label,
    anonymityThreshold: k,
    headline: headline(all, before.length ? counterOf(before) : null, k),
    trend,
    responseRate: { delivered: rate.delivered, responses: responsesIn(rate), rate: rate.delivered ? responsesIn(rate) / rate.delivered : null },
    weakest: weakest
      ? {
          dimension: weakest.d,
          label: ITEM_LABELS[weakest.d],
          mean: weakest.stats.mean!,
          n: weakest.stats.n,
          tips: chooseTips(weakest.d, options.lastTipIds, 3),
        }
      : null,
    comments,
    commitment: await commitmentDuring(db, agency, pro, period),
    moreUrl: options.moreUrl,
  };
}

