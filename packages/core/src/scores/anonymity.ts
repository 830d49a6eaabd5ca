/**
 * The anonymity rule (DESIGN "Scores"): a group with fewer than `k` responses shows its n and
 * nothing else — no statistics, no comments.
 *
 * Subtraction. When sibling groups are shown beside their total, the withheld groups' pooled
 * figures (their Σx, histogram, comments) are the total minus the shown groups — one residual
 * group of Σn(withheld) people, with every n visible. That residual must itself meet k, so:
 *
 *   while 0 < Σn(withheld) < k, withhold the smallest group still shown
 *   (ties: the lowest key in code-unit order, so the same data always hides the same groups).
 *
 * This includes the design's "exactly one withheld → withhold the next-smallest" (one withheld
 * group has n < k), and also covers several small groups: with k = 5 and groups of 1, 2, 10, 10,
 * hiding only the 1 and the 2 would still let 3 people's pooled scores be derived (a pooled mean of
 * 1.0 tells all three answers), so one group of 10 is withheld as well. A residual of 0 (only
 * empty groups withheld) reveals nothing and needs nothing more.
 *
 * Consequently, with the total shown, exactly one group is withheld only when it is empty or when
 * it is the only group left to withhold — the total itself is then below k. A total below k must
 * be withheld by the caller like any group; every group under it is then below k too and withheld.
 *
 * Scope: one set of siblings that partitions one total. Differences across tables (overlapping
 * periods, a two-way table with both margins) are not handled here. `n` is the count the
 * statistics rest on: for an optional item answered by fewer people than the group, apply the rule
 * to that item's n.
 */

export interface AnonymityGroup<T> {
  key: string;
  n: number;
  value: T;
  /** Withheld whatever its n (e.g. a group already hidden at a coarser level). */
  withheld?: boolean;
}

export type Anonymised<T> = { key: string; n: number; withheld: true } | { key: string; n: number; withheld: false; value: T };

/** The groups in their input order, each shown with its value or withheld with its n only. */
export function applyAnonymity<T>(groups: readonly AnonymityGroup<T>[], k: number, { totalShown }: { totalShown: boolean }): Anonymised<T>[] {
  const withheld = groups.map((g) => g.withheld === true || g.n < k);
  if (totalShown) {
    let residual = groups.reduce((sum, g, i) => (withheld[i] ? sum + g.n : sum), 0);
    const shown = groups
      .map((g, i) => ({ n: g.n, key: g.key, i }))
      .filter(({ i }) => !withheld[i])
      .sort((a, b) => a.n - b.n || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const { n, i } of shown) {
      if (residual === 0 || residual >= k) break;
      withheld[i] = true;
      residual += n;
    }
  }
  return groups.map((g, i) => (withheld[i] ? { key: g.key, n: g.n, withheld: true } : { key: g.key, n: g.n, withheld: false, value: g.value }));
}
