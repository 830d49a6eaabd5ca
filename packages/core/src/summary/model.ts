import type { Audience, Dimension } from '../survey/instrument';
import type { Interval } from '../scores/stats';

/**
 * What a summary email says, computed from the data before any rendering: the job and the preview
 * endpoint build it, `render.ts` turns it into HTML and text. Every figure carries its n; a figure
 * below the anonymity threshold is `{ n, withheld: true }` and is never rendered as a number.
 */
export type Figure = { n: number; withheld: true } | { n: number; withheld: false; value: number; ci: Interval | null };

export interface HeadlineFigure {
  key: 'responsiveness' | 'percentResponsive' | 'nps';
  label: string;
  /** Unit for display: a 1–5 mean, a percentage, or NPS points. */
  unit: 'mean5' | 'percent' | 'nps';
  current: Figure;
  previous: Figure | null;
  /** Called a change only when both intervals are known and do not overlap. */
  change: 'up' | 'down' | 'none';
}

export interface TrendPoint {
  /** `YYYY-MM`. */
  period: string;
  /** Short label such as "Mar". */
  label: string;
  /** Mean responsiveness 1–5, or withheld below k. */
  figure: Figure;
}

export interface Tip {
  id: string;
  dimension: Dimension;
  text: string;
  /** Which seed article it comes from (file name under docs/seeds). */
  source: string;
}

export interface ProSummary {
  agencyName: string;
  pro: { proId: string; name: string };
  /** The closed period reported on, e.g. `2030-W10` or `2030-03`, with a human label. */
  period: { key: string; label: string; from: string; to: string };
  previousPeriodLabel: string;
  anonymityThreshold: number;
  headline: HeadlineFigure[];
  /** 6–12 months of mean responsiveness, oldest first. */
  trend: TrendPoint[];
  /** `percent`: responses over delivered, 0–100 (past 100 when a pooled batch counts in the month). */
  responseRate: { delivered: number; responses: number; percent: number | null };
  /** The lowest-scoring dimension among those answered by at least k, with two or three tips. */
  weakest: { dimension: Dimension; label: string; mean: number; n: number; tips: Tip[] } | null;
  /** Up to three comments, from audience groups that meet k, with no identity. */
  comments: { audience: Audience; text: string }[];
  /** Every comment released in the period (`comments` holds the last three): the rest are in the agency's responses. */
  commentCount: number;
  /** What the pro said they would change, since when, and their responsiveness since then. */
  commitment: { text: string; since: string; responsiveness: Figure } | null;
  /** Where the pro can see more (the agency dashboard or the API docs). */
  moreUrl: string;
}

export interface AgencySummaryRow {
  proId: string;
  name: string;
  responsiveness: Figure;
  previous: Figure | null;
  change: 'up' | 'down' | 'none';
  responses: number;
}

export interface AgencySummary {
  agencyName: string;
  period: { key: string; label: string; from: string; to: string };
  previousPeriodLabel: string;
  anonymityThreshold: number;
  team: AgencySummaryRow[];
  /** The largest separated changes, up or down, at most three each way. */
  movers: AgencySummaryRow[];
  /** Pros whose responsiveness is low (mean below 3) or fell, among those that meet k. */
  needAttention: AgencySummaryRow[];
  moreUrl: string;
}
