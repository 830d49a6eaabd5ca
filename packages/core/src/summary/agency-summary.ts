import type { Db } from '../db/client';
import type { Agency } from '../agency/agency';
import { listAllPros, type Pro } from '../pro/pro';
import { SCALES } from '../scores/counters';
import { intervalsSeparate, meanWithInterval } from '../scores/stats';
import { figure, releasedIn } from './build';
import type { AgencySummary, AgencySummaryRow } from './model';
import { previousPeriod, type SummaryPeriod } from './schedule';

/**
 * A pro's responsiveness from the batches released in a period against the period before (a
 * figure under k answers is shown by its n only: too few to read), or null when neither has any.
 */
export async function teamRow(db: Db, agency: Agency, pro: Pick<Pro, 'proId' | 'name'>, period: SummaryPeriod): Promise<AgencySummaryRow | null> {
  const k = agency.anonymityThreshold;
  const previous = previousPeriod(period, agency.timezone);
  const [now, before] = await Promise.all([releasedIn(db, agency.agencyId, pro.proId, period), releasedIn(db, agency.agencyId, pro.proId, previous)]);
  if (now.batches === 0 && before.batches === 0) return null;
  const stats = (released: typeof now) => meanWithInterval(released.counter.items.responsiveness, SCALES.responsiveness);
  const a = stats(now);
  const b = stats(before);
  const current = figure(a.n, k, a.mean, a.ci);
  const prior = before.batches ? figure(b.n, k, b.mean, b.ci) : null;
  const separated = !current.withheld && prior && !prior.withheld && intervalsSeparate(current.ci, prior.ci);
  return {
    proId: pro.proId,
    name: pro.name,
    responsiveness: current,
    previous: prior,
    change: separated ? (current.value > (prior as { value: number }).value ? 'up' : 'down') : 'none',
    responses: a.n,
  };
}

/** The biggest separated moves, at most three each way, and the pros who need attention (a shown mean below 3, or a separated fall). */
export function movesOf(team: AgencySummaryRow[]): Pick<AgencySummary, 'movers' | 'needAttention'> {
  const delta = (r: AgencySummaryRow) =>
    !r.responsiveness.withheld && r.previous && !r.previous.withheld ? r.responsiveness.value - r.previous.value : 0;
  const byMove = team.filter((r) => r.change !== 'none').sort((x, y) => Math.abs(delta(y)) - Math.abs(delta(x)));
  return {
    movers: [...byMove.filter((r) => r.change === 'up').slice(0, 3), ...byMove.filter((r) => r.change === 'down').slice(0, 3)],
    needAttention: team.filter((r) => r.change === 'down' || (!r.responsiveness.withheld && r.responsiveness.value < 3)),
  };
}

/**
 * The admins' view of a period: every pro's `teamRow`, the biggest separated moves each way, and
 * the pros who need attention.
 */
export async function buildAgencySummary(db: Db, agency: Agency, period: SummaryPeriod, moreUrl: string): Promise<AgencySummary> {
  const pros = await listAllPros(db, agency.agencyId);
  const team: AgencySummaryRow[] = [];
  for (const pro of pros) {
    const row = await teamRow(db, agency, pro, period);
    if (row) team.push(row);
  }
  team.sort((x, y) => x.name.localeCompare(y.name));
  return {
    agencyName: agency.name,
    period,
    previousPeriodLabel: previousPeriod(period, agency.timezone).label,
    anonymityThreshold: agency.anonymityThreshold,
    team,
    ...movesOf(team),
    moreUrl,
  };
}
