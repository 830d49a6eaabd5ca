/**
 * Score formulas on pre-aggregated counters (DESIGN "Scores"): a counter holds n, Σx, Σx² and a
 * histogram per item, so every figure costs the same for 10 or 100,000 responses. Every result
 * carries its n, and an interval wherever one can be estimated.
 *
 * Units: `wilson` is a general formula and works in fractions (0–1). The figures shown to people
 * are in percent: `percentResponsive` 0–100, response rates 0–100 (`percent`) and `nps` −100–100
 * points, so they sit side by side in one unit. Nothing is rounded here; rounding is the renderer's business.
 */

/** `part` of `whole` in percent (0–100; more when part exceeds whole); null when `whole` is 0. */
export const percent = (part: number, whole: number): number | null => (whole === 0 ? null : (100 * part) / whole);

/** Answers per score value, keyed by the value as a string ("1".."5", "0".."10"). */
export type Histogram = Record<string, number>;

/** The pre-aggregated counter of one scored item. */
export interface ItemCounter {
  n: number;
  sum: number;
  sumSq: number;
  histogram: Histogram;
}

export type Interval = [low: number, high: number];

/** The bounds of an item's answer scale, e.g. 1–5 for responsiveness and the dimensions. */
export interface Scale {
  min: number;
  max: number;
}

export const Z95 = 1.96;

// t(0.975, df) for df 1..30, rounded to 3 decimals as in the standard tables.
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
] as const;

// The exact normal quantile: the expansion below needs it, not the rounded 1.96.
const Z975 = 1.959963984540054;

/**
 * The two-sided 95% Student t critical value for `df` degrees of freedom. Up to df 30 from the
 * table (exact to 3 decimals); beyond, the Cornish–Fisher expansion of t in powers of 1/df
 * (Abramowitz & Stegun 26.7.5), within 1e-7 of the true quantile from df 30 on and tending to
 * 1.96. The expansion rather than a flat 1.96 so the interval does not narrow with a jump at n = 32.
 */
export function tCritical95(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`degrees of freedom must be a whole number ≥ 1, got ${df}`);
  const tabled = T975[df - 1];
  if (tabled !== undefined) return tabled;
  const z = Z975;
  const [z3, z5, z7, z9] = [z ** 3, z ** 5, z ** 7, z ** 9];
  return (
    z +
    (z3 + z) / (4 * df) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3) +
    (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * df ** 4)
  );
}

const clamp = (x: number, min: number, max: number) => Math.min(max, Math.max(min, x));

export interface MeanWithInterval {
  n: number;
  mean: number | null;
  /** Sample standard deviation (n − 1); null below n = 2. */
  sd: number | null;
  ci: Interval | null;
}

/**
 * The mean with its 95% t-interval, clamped to the scale (a mean of 4.8 from three answers must
 * not claim it might be 5.6). n = 0: no mean; n = 1: a mean but no interval, as one answer says
 * nothing about spread.
 */
export function meanWithInterval(counter: Pick<ItemCounter, 'n' | 'sum' | 'sumSq'>, scale: Scale): MeanWithInterval {
  const { n, sum, sumSq } = counter;
  if (n === 0) return { n, mean: null, sd: null, ci: null };
  const mean = sum / n;
  if (n === 1) return { n, mean, sd: null, ci: null };
  // n·Σx² − (Σx)² stays an exact integer for integer scores; max(0) guards rounding on huge sums.
  const variance = Math.max(0, (n * sumSq - sum * sum) / (n * (n - 1)));
  const sd = Math.sqrt(variance);
  const half = (tCritical95(n - 1) * sd) / Math.sqrt(n);
  return { n, mean, sd, ci: [Math.max(scale.min, mean - half), Math.min(scale.max, mean + half)] };
}

export interface Proportion {
  p: number;
  ci: Interval;
}

/**
 * A proportion with its Wilson score interval, in fractions:
 * (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n). Unlike p̂ ± z·√(p̂(1−p̂)/n) it stays
 * informative at 0/n and n/n. Null when n = 0.
 */
export function wilson(successes: number, n: number, z = Z95): Proportion | null {
  if (n === 0) return null;
  const p = successes / n;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const margin = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  const denominator = 1 + z2 / n;
  // Analytically 0 ≤ low ≤ p̂ ≤ high ≤ 1, with equality at 0/n and n/n; clamp the rounding residue.
  return { p, ci: [clamp((centre - margin) / denominator, 0, p), clamp((centre + margin) / denominator, p, 1)] };
}

const total = (histogram: Histogram) => Object.values(histogram).reduce((a, b) => a + b, 0);

export interface PercentResponsive {
  n: number;
  /** How many answered 4 or 5. */
  responsive: number;
  /** 0–100. */
  percent: number | null;
  ci: Interval | null;
}

/** The share of responsiveness answers that are 4 or 5, in percent, with its Wilson interval. */
export function percentResponsive(histogram: Histogram): PercentResponsive {
  const n = total(histogram);
  const responsive = (histogram['4'] ?? 0) + (histogram['5'] ?? 0);
  const share = wilson(responsive, n);
  if (!share) return { n, responsive, percent: null, ci: null };
  return { n, responsive, percent: share.p * 100, ci: [share.ci[0] * 100, share.ci[1] * 100] };
}

export interface Nps {
  n: number;
  /** Counts of 9–10, 7–8 and 0–6. */
  promoters: number;
  passives: number;
  detractors: number;
  /** −100–100. */
  score: number | null;
  ci: Interval | null;
}

/**
 * NPS = %promoters (9–10) − %detractors (0–6), with the adjusted-Wald interval: n′ = n + 3,
 * p′ = (P + 0.75)/n′, d′ = (D + 0.75)/n′, (p′ − d′) ± z·√((p′ + d′ − (p′ − d′)²)/n′), ×100, clamped
 * to ±100. The interval is centred on the adjusted p′ − d′, which shrinks toward 0, so at n = 1 the
 * raw score can fall outside it (one promoter: 100, interval −48.5…98.5); from n = 2 it cannot.
 * Only a named answer (a batch of one) can show n = 1: anonymous figures rest on at least k ≥ 3.
 */
export function nps(histogram: Histogram): Nps {
  let promoters = 0;
  let passives = 0;
  let detractors = 0;
  for (const [value, count] of Object.entries(histogram)) {
    const score = Number(value);
    if (score >= 9) promoters += count;
    else if (score >= 7) passives += count;
    else detractors += count;
  }
  const n = promoters + passives + detractors;
  if (n === 0) return { n, promoters, passives, detractors, score: null, ci: null };
  const score = ((promoters - detractors) / n) * 100;
  const adjustedN = n + 3;
  const p = (promoters + 0.75) / adjustedN;
  const d = (detractors + 0.75) / adjustedN;
  const margin = Z95 * Math.sqrt((p + d - (p - d) ** 2) / adjustedN);
  return { n, promoters, passives, detractors, score, ci: [clamp((p - d - margin) * 100, -100, 100), clamp((p - d + margin) * 100, -100, 100)] };
}

/**
 * True when two intervals do not overlap: only then is a difference between periods called a
 * change. Touching intervals overlap; a missing interval (too few answers) separates from nothing.
 */
export function intervalsSeparate(a: Readonly<Interval> | null, b: Readonly<Interval> | null): boolean {
  if (!a || !b) return false;
  return a[1] < b[0] || b[1] < a[0];
}
