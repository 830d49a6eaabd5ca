import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyAnonymity, type AnonymityGroup } from './anonymity';

const groups = (sizes: Record<string, number>): AnonymityGroup<string>[] => Object.entries(sizes).map(([key, n]) => ({ key, n, value: `stats of ${key}` }));
const withheldKeys = (result: ReturnType<typeof applyAnonymity>) => result.filter((g) => g.withheld).map((g) => g.key);

describe('the anonymity rule', () => {
  it('shows a group of exactly k and withholds one of k − 1, keeping its n but not its value', () => {
    const result = applyAnonymity(groups({ reporter: 5, client: 4 }), 5, { totalShown: false });
    expect(result).toEqual([
      { key: 'reporter', n: 5, withheld: false, value: 'stats of reporter' },
      { key: 'client', n: 4, withheld: true },
    ]);
    expect(result[1]).not.toHaveProperty('value');
  });

  it('withholds the next-smallest group too when a total is shown, so nothing is found by subtraction', () => {
    // Total 23 shown: without the second withholding, client = 23 − 8 − 12 would be recoverable.
    const sizes = { reporter: 12, colleague: 8, client: 3 };
    expect(withheldKeys(applyAnonymity(groups(sizes), 5, { totalShown: true }))).toEqual(['colleague', 'client']);
    expect(withheldKeys(applyAnonymity(groups(sizes), 5, { totalShown: false }))).toEqual(['client']);
  });

  it('keeps withholding until the withheld groups pool at least k people', () => {
    // 1 + 2 = 3 < 5: the pair's pooled figures would still be derivable; one group of 10 joins them.
    expect(withheldKeys(applyAnonymity(groups({ a: 1, b: 2, c: 10, d: 10 }), 5, { totalShown: true }))).toEqual(['a', 'b', 'c']);
    // 2 + 3 = 5 ≥ 5: already a pool of k, nothing more to hide.
    expect(withheldKeys(applyAnonymity(groups({ a: 2, b: 3, c: 10 }), 5, { totalShown: true }))).toEqual(['a', 'b']);
  });

  it('breaks ties for the next-smallest by key, whatever the input order', () => {
    const tied = { zeta: 7, alpha: 7, small: 2 };
    expect(withheldKeys(applyAnonymity(groups(tied), 5, { totalShown: true }))).toEqual(['alpha', 'small']);
    const reversed = groups(tied).reverse();
    expect(withheldKeys(applyAnonymity(reversed, 5, { totalShown: true }))).toEqual(['small', 'alpha']);
  });

  it('needs nothing more when only empty groups are withheld', () => {
    expect(withheldKeys(applyAnonymity(groups({ reporter: 0, client: 9, colleague: 6 }), 5, { totalShown: true }))).toEqual(['reporter']);
  });

  it('withholds everything when the total itself is below k', () => {
    expect(withheldKeys(applyAnonymity(groups({ a: 1, b: 2 }), 5, { totalShown: true }))).toEqual(['a', 'b']);
    expect(withheldKeys(applyAnonymity(groups({ only: 4 }), 5, { totalShown: true }))).toEqual(['only']);
  });

  it('shows everything when every group meets k, and handles no groups', () => {
    expect(withheldKeys(applyAnonymity(groups({ a: 5, b: 6 }), 5, { totalShown: true }))).toEqual([]);
    expect(applyAnonymity([], 5, { totalShown: true })).toEqual([]);
  });

  describe('properties', () => {
    const cases = fc.record({
      sizes: fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 25 }), { maxKeys: 8 }),
      k: fc.integer({ min: 3, max: 10 }),
      totalShown: fc.boolean(),
    });

    it('never shows a group below k, and without a total withholds exactly those', () => {
      fc.assert(
        fc.property(cases, ({ sizes, k, totalShown }) => {
          const input = groups(sizes);
          const result = applyAnonymity(input, k, { totalShown });
          expect(result.map((g) => [g.key, g.n])).toEqual(input.map((g) => [g.key, g.n]));
          for (const g of result) {
            if (g.n < k) expect(g.withheld).toBe(true);
            if (!g.withheld) expect(g.value).toBe(`stats of ${g.key}`);
          }
          if (!totalShown) expect(withheldKeys(result)).toEqual(input.filter((g) => g.n < k).map((g) => g.key));
        }),
      );
    });

    it('with the total shown, pools 0 or at least k people in the withheld groups, so exactly one is withheld only if it is empty or the total is below k', () => {
      fc.assert(
        fc.property(cases, ({ sizes, k }) => {
          const result = applyAnonymity(groups(sizes), k, { totalShown: true });
          const total = result.reduce((a, g) => a + g.n, 0);
          const withheld = result.filter((g) => g.withheld);
          const pooled = withheld.reduce((a, g) => a + g.n, 0);
          if (total >= k) expect(pooled === 0 || pooled >= k).toBe(true);
          if (withheld.length === 1) expect(withheld[0]!.n === 0 || total < k).toBe(true);
        }),
      );
    });

    it('hides extra groups smallest first, and the same ones whatever the input order', () => {
      fc.assert(
        fc.property(
          cases.chain((c) => {
            const input = groups(c.sizes);
            return fc.tuple(fc.constant({ ...c, input }), fc.shuffledSubarray(input, { minLength: input.length }));
          }),
          ([{ input, k, totalShown }, shuffled]) => {
            const result = applyAnonymity(input, k, { totalShown });
            const extra = result.filter((g) => g.withheld && g.n >= k);
            for (const shown of result.filter((g) => !g.withheld)) for (const e of extra) expect(e.n).toBeLessThanOrEqual(shown.n);
            expect(withheldKeys(applyAnonymity(shuffled, k, { totalShown })).sort()).toEqual(withheldKeys(result).sort());
          },
        ),
      );
    });
  });
});
