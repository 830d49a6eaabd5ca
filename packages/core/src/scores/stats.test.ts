import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { intervalsSeparate, meanWithInterval, nps, percentResponsive, tCritical95, wilson, type ItemCounter } from './stats';

const LIKERT = { min: 1, max: 5 };

/** The counter the aggregation would hold for these raw answers. */
const counterOf = (scores: number[]): ItemCounter => ({
  n: scores.length,
  sum: scores.reduce((a, b) => a + b, 0),
  sumSq: scores.reduce((a, b) => a + b * b, 0),
  histogram: scores.reduce<Record<string, number>>((h, s) => ({ ...h, [s]: (h[s] ?? 0) + 1 }), {}),
});

describe('the t critical value', () => {
  it('reads the table to df 30 and follows the true quantile beyond, toward 1.96', () => {
    expect(tCritical95(1)).toBe(12.706);
    expect(tCritical95(2)).toBe(4.303);
    expect(tCritical95(9)).toBe(2.262);
    expect(tCritical95(30)).toBe(2.042);
    // Reference quantiles t(0.975, df) to 3 decimals: 31 → 2.040, 40 → 2.021, 60 → 2.000, 120 → 1.980.
    expect(tCritical95(31)).toBeCloseTo(2.0395, 3);
    expect(tCritical95(40)).toBeCloseTo(2.021, 3);
    expect(tCritical95(60)).toBeCloseTo(2.0, 3);
    expect(tCritical95(120)).toBeCloseTo(1.98, 3);
    expect(tCritical95(1_000_000)).toBeCloseTo(1.96, 3);
  });

  it('never widens as df grows, across the table/expansion seam too', () => {
    for (let df = 1; df < 500; df++) expect(tCritical95(df + 1)).toBeLessThan(tCritical95(df));
  });

  it('refuses a df that is not a whole number of at least 1', () => {
    expect(() => tCritical95(0)).toThrow(RangeError);
    expect(() => tCritical95(2.5)).toThrow(RangeError);
  });
});

describe('the mean with its interval', () => {
  it('works out a small sample by hand, clamped to the scale', () => {
    // {4: 2, 5: 1}: n = 3, Σx = 13, Σx² = 16 + 16 + 25 = 57, mean = 13/3 = 4.3333.
    // var = (3·57 − 13²)/(3·2) = 2/6 = 0.3333, sd = 0.57735, se = sd/√3 = 0.33333.
    // t(2) = 4.303 → half-width 1.43433 → [2.89900, 5.76767] → the top clamped to 5.
    const r = meanWithInterval(counterOf([4, 4, 5]), LIKERT);
    expect(r.n).toBe(3);
    expect(r.mean).toBeCloseTo(4.33333, 5);
    expect(r.sd).toBeCloseTo(0.57735, 5);
    expect(r.ci?.[0]).toBeCloseTo(2.899, 5);
    expect(r.ci?.[1]).toBe(5);
  });

  it('works out an unclamped interval by hand', () => {
    // {2: 1, 3: 2, 4: 4, 5: 3}: n = 10, Σx = 39, Σx² = 4 + 18 + 64 + 75 = 161, mean = 3.9.
    // var = (10·161 − 39²)/(10·9) = 89/90 = 0.98889, sd = 0.99443, se = 0.31447.
    // t(9) = 2.262 → half-width 0.71132 → [3.18868, 4.61132].
    const r = meanWithInterval(counterOf([2, 3, 3, 4, 4, 4, 4, 5, 5, 5]), LIKERT);
    expect(r.mean).toBeCloseTo(3.9, 10);
    expect(r.sd).toBeCloseTo(0.99443, 5);
    expect(r.ci?.[0]).toBeCloseTo(3.18868, 5);
    expect(r.ci?.[1]).toBeCloseTo(4.61132, 5);
  });

  it('has no mean at n = 0 and no interval at n = 1', () => {
    expect(meanWithInterval(counterOf([]), LIKERT)).toEqual({ n: 0, mean: null, sd: null, ci: null });
    expect(meanWithInterval(counterOf([4]), LIKERT)).toEqual({ n: 1, mean: 4, sd: null, ci: null });
  });

  it('gives a zero-width interval when everyone gave the same score', () => {
    // {4: 7}: var = (7·112 − 28²)/42 = (784 − 784)/42 = 0.
    expect(meanWithInterval(counterOf([4, 4, 4, 4, 4, 4, 4]), LIKERT)).toEqual({ n: 7, mean: 4, sd: 0, ci: [4, 4] });
  });

  it('treats a variance a hair below zero from floating point as zero', () => {
    // Five answers of 0.7 (not integer scores): Σx = 3.5, Σx² = 5·0.49 = 2.4499999999999997 in
    // floating point, so n·Σx² − (Σx)² = 12.249999999999998 − 12.25 < 0.
    const counter = { n: 5, sum: 3.5, sumSq: 5 * (0.7 * 0.7) };
    expect(5 * counter.sumSq - counter.sum ** 2).toBeLessThan(0);
    expect(meanWithInterval(counter, { min: 0, max: 1 })).toEqual({ n: 5, mean: 0.7, sd: 0, ci: [0.7, 0.7] });
  });

  it('agrees with the raw answers, and its interval holds the mean within the scale (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 300 }), (scores) => {
        const r = meanWithInterval(counterOf(scores), LIKERT);
        if (scores.length === 0) {
          expect(r.mean).toBeNull();
          return;
        }
        const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
        expect(r.mean).toBeCloseTo(mean, 10);
        if (scores.length === 1) {
          expect(r.ci).toBeNull();
          return;
        }
        // Two-pass sample SD straight from the list.
        const sd = Math.sqrt(scores.reduce((a, x) => a + (x - mean) ** 2, 0) / (scores.length - 1));
        expect(r.sd).toBeCloseTo(sd, 10);
        const [low, high] = r.ci!;
        expect(LIKERT.min).toBeLessThanOrEqual(low);
        expect(low).toBeLessThanOrEqual(r.mean!);
        expect(r.mean!).toBeLessThanOrEqual(high);
        expect(high).toBeLessThanOrEqual(LIKERT.max);
      }),
    );
  });
});

describe('the Wilson interval', () => {
  it('works out 7 of 10 by hand', () => {
    // p̂ = 0.7, z² = 3.8416; centre = 0.7 + 3.8416/20 = 0.89208;
    // margin = 1.96·√(0.21/10 + 3.8416/400) = 1.96·√0.030604 = 0.342882; denominator = 1.38416.
    // → [(0.89208 − 0.342882)/1.38416, (0.89208 + 0.342882)/1.38416] = [0.39677, 0.89221].
    const r = wilson(7, 10)!;
    expect(r.p).toBe(0.7);
    expect(r.ci[0]).toBeCloseTo(0.39677, 5);
    expect(r.ci[1]).toBeCloseTo(0.89221, 5);
  });

  it('stays informative at 0 of n and n of n, with the near bound exactly 0 or 1', () => {
    // 0/10: margin = 1.96·√(3.8416/400) = 0.19208 = z²/2n, so the low bound is 0 (up to rounding)
    // and the high one 2·0.19208/1.38416 = 0.27754. 10/10 mirrors it: [0.72246, 1].
    expect(wilson(0, 10)!.ci[0]).toBe(0);
    expect(wilson(0, 10)!.ci[1]).toBeCloseTo(0.27754, 5);
    expect(wilson(10, 10)!.ci[0]).toBeCloseTo(0.72246, 5);
    expect(wilson(10, 10)!.ci[1]).toBe(1);
  });

  it('is null when nobody answered', () => {
    expect(wilson(0, 0)).toBeNull();
  });

  it('takes another z', () => {
    // z = 0 collapses the interval on p̂.
    expect(wilson(3, 4, 0)).toEqual({ p: 0.75, ci: [0.75, 0.75] });
  });

  it('keeps its bounds within [0, 1] around p̂ (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }).chain((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.constant(n))),
        ([successes, n]) => {
          const { p, ci } = wilson(successes, n)!;
          expect(0).toBeLessThanOrEqual(ci[0]);
          expect(ci[0]).toBeLessThanOrEqual(p);
          expect(p).toBeLessThanOrEqual(ci[1]);
          expect(ci[1]).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});

describe('% responsive', () => {
  it('is the share of 4–5 in percent with the Wilson interval', () => {
    // {3: 1, 4: 3, 5: 3, 2: 3}: n = 10, 6 responsive → 60%.
    // Wilson(6, 10): centre 0.6 + 0.19208 = 0.79208, margin 1.96·√(0.024 + 0.009604) = 0.359295,
    // denominator 1.38416 → [0.31267, 0.83182].
    const r = percentResponsive({ '2': 3, '3': 1, '4': 3, '5': 3 });
    expect(r.n).toBe(10);
    expect(r.responsive).toBe(6);
    expect(r.percent).toBeCloseTo(60, 10);
    expect(r.ci?.[0]).toBeCloseTo(31.267, 3);
    expect(r.ci?.[1]).toBeCloseTo(83.182, 3);
  });

  it('handles everyone responsive and nobody answering', () => {
    // {4: 2, 5: 1}: 3 of 3; margin = z²/2n exactly, so the low bound is 1/(1 + 3.8416/3) = 0.43849.
    const all = percentResponsive({ '4': 2, '5': 1 });
    expect(all.percent).toBe(100);
    expect(all.ci?.[0]).toBeCloseTo(43.849, 3);
    expect(all.ci?.[1]).toBe(100);
    expect(percentResponsive({})).toEqual({ n: 0, responsive: 0, percent: null, ci: null });
  });
});

describe('NPS', () => {
  it('works out a mixed sample by hand', () => {
    // P = 7 (9–10), passives 2 (7–8), D = 1 (0–6), n = 10 → score 70 − 10 = 60.
    // n′ = 13, p′ = 7.75/13 = 0.596154, d′ = 1.75/13 = 0.134615, p′ − d′ = 0.461538;
    // var = (0.730769 − 0.461538²)/13 = 0.517751/13 = 0.039827, margin = 1.96·0.199567 = 0.391152
    // → [0.070387, 0.852690] ×100 = [7.0387, 85.2690].
    const r = nps({ '10': 5, '9': 2, '8': 1, '7': 1, '3': 1 });
    expect(r).toMatchObject({ n: 10, promoters: 7, passives: 2, detractors: 1, score: 60 });
    expect(r.ci?.[0]).toBeCloseTo(7.0387, 3);
    expect(r.ci?.[1]).toBeCloseTo(85.269, 3);
  });

  it('clamps all promoters and all detractors to ±100', () => {
    // 10 promoters: p′ = 10.75/13, d′ = 0.75/13, p′ − d′ = 0.769231; var = (0.884615 − 0.591716)/13
    // = 0.022531, margin = 1.96·0.150102 = 0.294201 → [47.503, 106.343] → top clamped to 100.
    const promoters = nps({ '9': 4, '10': 6 });
    expect(promoters.score).toBe(100);
    expect(promoters.ci?.[0]).toBeCloseTo(47.503, 3);
    expect(promoters.ci?.[1]).toBe(100);
    // 10 detractors mirror it.
    const detractors = nps({ '0': 3, '6': 7 });
    expect(detractors).toMatchObject({ n: 10, promoters: 0, passives: 0, detractors: 10, score: -100 });
    expect(detractors.ci?.[0]).toBe(-100);
    expect(detractors.ci?.[1]).toBeCloseTo(-47.503, 3);
  });

  it('gives all passives a score of 0 with an interval symmetric about it', () => {
    // {7: 2, 8: 2}: n′ = 7, p′ = d′ = 0.75/7 = 0.107143; var = 0.214286/7 = 0.030612,
    // margin = 1.96·0.174964 = 0.342929 → [−34.293, 34.293].
    const r = nps({ '7': 2, '8': 2 });
    expect(r.score).toBe(0);
    expect(r.ci?.[0]).toBeCloseTo(-34.293, 3);
    expect(r.ci?.[1]).toBeCloseTo(34.293, 3);
  });

  it('has no score when nobody answered, and at n = 1 an interval that misses the raw score', () => {
    expect(nps({})).toEqual({ n: 0, promoters: 0, passives: 0, detractors: 0, score: null, ci: null });
    // One promoter: n′ = 4, p′ = 1.75/4 = 0.4375, d′ = 0.1875, p′ − d′ = 0.25;
    // var = (0.625 − 0.0625)/4 = 0.140625, margin = 1.96·0.375 = 0.735 → [−48.5, 98.5], not 100.
    const one = nps({ '10': 1 });
    expect(one.score).toBe(100);
    expect(one.ci?.[0]).toBeCloseTo(-48.5, 10);
    expect(one.ci?.[1]).toBeCloseTo(98.5, 10);
  });

  it('stays within ±100 and, from n = 2, holds the raw score (property)', () => {
    const histogram = fc.dictionary(
      fc.integer({ min: 0, max: 10 }).map(String),
      fc.integer({ min: 0, max: 500 }),
    );
    fc.assert(
      fc.property(histogram, (h) => {
        const r = nps(h);
        if (r.n === 0) {
          expect(r.score).toBeNull();
          return;
        }
        const [low, high] = r.ci!;
        expect(-100).toBeLessThanOrEqual(low);
        expect(low).toBeLessThanOrEqual(high);
        expect(high).toBeLessThanOrEqual(100);
        if (r.n >= 2) {
          expect(low).toBeLessThanOrEqual(r.score! + 1e-9);
          expect(r.score!).toBeLessThanOrEqual(high + 1e-9);
        }
      }),
    );
  });
});

describe('separate intervals', () => {
  it('calls a change only when the intervals do not overlap, in either order', () => {
    expect(intervalsSeparate([1, 2], [2.1, 3])).toBe(true);
    expect(intervalsSeparate([2.1, 3], [1, 2])).toBe(true);
    expect(intervalsSeparate([1, 2], [2, 3])).toBe(false); // touching
    expect(intervalsSeparate([1, 4], [2, 3])).toBe(false); // nested
    expect(intervalsSeparate(null, [2, 3])).toBe(false);
    expect(intervalsSeparate([1, 2], null)).toBe(false);
  });
});
