import { SCORED_ITEMS, type Answers } from '@rapport/core';

/**
 * A batch's aggregate recomputed from its answers, independently of `batchAggregate`, for tests to
 * compare against: per item n, Σx, Σx² and the histogram, and nothing for an item fewer than `k`
 * answered.
 */
export function recomputeAggregate(answers: readonly Answers[], k: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of SCORED_ITEMS) {
    const given = answers.map((a) => a[item]).filter((x): x is number => x !== undefined);
    if (given.length === 0 || given.length < k) continue;
    out[`i_${item}_n`] = given.length;
    out[`i_${item}_s`] = given.reduce((a, b) => a + b, 0);
    out[`i_${item}_q`] = given.reduce((a, b) => a + b * b, 0);
    for (const x of given) out[`i_${item}_h${x}`] = (out[`i_${item}_h${x}`] ?? 0) + 1;
  }
  return out;
}
