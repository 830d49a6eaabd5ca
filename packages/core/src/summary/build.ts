import type { Db } from '../db/client';
import type { Agency } from '../agency/agency';
import type { Pro } from '../pro/pro';
import { commitmentAt } from '../pro/commitment';
import { readCounter, responsesIn, SCALES, sumCounters, type Counter, type ScoredItem } from '../scores/counters';
import { batchesReleased, rowsReleased } from '../release/release';
import { groupScores, months, proMonthlyCounters, type GroupScores } from '../scores/report';
import { intervalsSeparate, meanWithInterval, nps, percent, percentResponsive } from '../scores/stats';
import { periodOf } from '../shared/time';
import { DIMENSIONS, ITEM_LABELS, type Dimension } from '../survey/instrument';
import type { Figure, HeadlineFigure, ProSummary, TrendPoint } from './model';
import { previousPeriod, type SummaryPeriod } from './schedule';
import { chooseTips } from './tips';

const MONTH_SHORT = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A pro's batches released in a period, as one counter: every summary figure is a sum of whole batches. */
export async function releasedIn(db: Db, agencyId: string, proId: string, period: { from: string; to: string }): Promise<{ batches: number; counter: Counter }> {
  const batches = await batchesReleased(db, agencyId, proId, period.from, period.to);
  return { batches: batches.length, counter: sumCounters(batches.map((b) => readCounter(b.aggregate))) };
}

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
    { key: 'responsiveness', label: 'Responsiveness', unit: 'mean5' },
    { key: 'percentResponsive', label: 'Rated you 4 or 5', unit: 'percent' },
    { key: 'nps', label: 'Net Promoter Score', unit: 'nps' },
  ] as const;
  return rows.map(({ key, label, unit }) => {
    const a = now[key];
    const b = before?.[key] ?? null;
    const separated = !a.withheld && b && !b.withheld && intervalsSeparate(a.ci, b.ci);
    return { key, label, unit, current: a, previous: b, change: separated ? (a.value > (b as { value: number }).value ? 'up' : 'down') : 'none' };
  });
}

/**
 * The lowest-scoring dimension among those answered by at least k (ties by name), or null: the
 * summary's focus area, and the console's.
 */
export function weakestDimension(items: GroupScores['items'], k: number): { dimension: Dimension; label: string; mean: number; n: number } | null {
  const found = DIMENSIONS.flatMap((d) => {
    const stats = items[d as ScoredItem];
    return stats && stats.n >= k && stats.mean !== null ? [{ d, n: stats.n, mean: stats.mean }] : [];
  }).sort((a, b) => a.mean - b.mean || (a.d < b.d ? -1 : 1))[0];
  return found ? { dimension: found.d, label: ITEM_LABELS[found.d], mean: found.mean, n: found.n } : null;
}

/** Mean responsiveness over the batches released from a moment (a commitment) to the end of the period. */
async function responsivenessSince(db: Db, agency: Agency, pro: Pro, since: string, to: string): Promise<Figure> {
  const { counter } = await releasedIn(db, agency.agencyId, pro.proId, { from: since, to });
  const stats = meanWithInterval(counter.items.responsiveness, SCALES.responsiveness);
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
 * Everything one pro's summary for a period says, or null for a quiet period (nothing released).
 * Headline figures and the weakest dimension come from the batches released in the period (and
 * the period before, for the comparison), the comments from their rows; the trend and the
 * response rate from the monthly counters, by the month the batches count in.
 */
export async function buildProSummary(
  db: Db,
  agency: Agency,
  pro: Pro,
  period: SummaryPeriod,
  options: { lastTipIds: () => Promise<readonly string[]>; moreUrl: string },
): Promise<ProSummary | null> {
  const k = agency.anonymityThreshold;
  const previous = previousPeriod(period, agency.timezone);
  // Most pros are quiet in most periods: one query tells, before anything else is read.
  const current = await releasedIn(db, agency.agencyId, pro.proId, period);
  if (current.batches === 0) return null;
  const [before, lastTipIds] = await Promise.all([releasedIn(db, agency.agencyId, pro.proId, previous), options.lastTipIds()]);

  const lastMonth = periodOf(new Date(Date.parse(period.to) - 1), agency.timezone);
  const trendMonths = months('0000-01', lastMonth).slice(-12);
  const byMonth = await proMonthlyCounters(db, agency.agencyId, pro.proId, trendMonths[0]!, lastMonth);
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

  const all = current.counter;
  const weakest = weakestDimension(groupScores(all).items, k);

  // The last three released. Rows released at one time (a batch, or batches closed together) are
  // stored in a random order, which says nothing of who answered when; which of them a summary
  // quotes follows their text instead, so that the same answers always give the same summary.
  const commented = (await rowsReleased(db, agency.agencyId, pro.proId, period.from, period.to))
    .filter((r) => r.answers.improve)
    .sort((a, b) => byText(a.release!.releasedAt, b.release!.releasedAt) || byText(a.answers.improve!, b.answers.improve!));
  const comments = commented
    .slice(-3)
    .reverse()
    .map((r) => ({ audience: r.audience, text: r.answers.improve! }));

  return {
    agencyName: agency.name,
    pro: { proId: pro.proId, name: pro.name },
    period,
    previousPeriodLabel: previous.label,
    anonymityThreshold: k,
    headline: headline(all, before.batches ? before.counter : null, k),
    trend,
    responseRate: { delivered: rate.delivered, responses: responsesIn(rate), percent: percent(responsesIn(rate), rate.delivered) },
    weakest: weakest && { ...weakest, tips: chooseTips(weakest.dimension, lastTipIds, 3) },
    comments,
    commentCount: commented.length,
    commitment: await commitmentDuring(db, agency, pro, period),
    moreUrl: options.moreUrl,
  };
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
