/*
 * Can the published figures be combined to isolate a few anonymous answers?
 *
 * Every published figure (a count, a sum, a histogram bin) is a linear combination of unknown per-answer
 * values. An attacker may add, subtract and scale figures freely, so what they can learn about a set S of
 * answers in isolation is exactly whether the indicator 1_S lies in the row space, over the rationals, of
 * the published rows. The promise is that no S with 1 <= |S| < k does.
 *
 * All arithmetic is exact, because a floating-point rank is wrong exactly when it matters, on a vector
 * barely inside or outside the space: BigInt throughout, and plain numbers only for residues modulo primes
 * (shortcuts and fingerprints whose products stay below 2^53), never for a verdict on their own.
 */

/** A published figure: coefficient per answer id (absent = 0). */
export type Row = ReadonlyMap<string, number> | Readonly<Record<string, number>>;

export interface IsolationReport {
  /** A set of fewer than k answers whose indicator lies in the row space, or null if none was found. */
  isolated: string[] | null;
  /**
   * True when the absence of any isolating set below k is proven (not just sampled). When a set is
   * reported, true says the sizes below it were all searched, so no smaller set exists; the reported set
   * itself is always checked exactly.
   */
  proven: boolean;
}

export interface IsolationOptions {
  /** Most candidate sets checked one by one before falling back to a sample of this many. Default 50_000. */
  exhaustiveLimit?: number;
  /** Seed of that sample, so a run can be repeated. Default 0. */
  seed?: number;
}

/**
 * Looks for a set of fewer than k answers that some combination of `rows` isolates, smallest first.
 *
 * Answers that appear with the same coefficient in every row ("classes") cannot be told apart by any
 * combination, so a set can only be isolated if it takes whole classes. Every singleton is checked; if all
 * classes have at least k answers, safety is proven outright. Otherwise the unions of small classes are
 * checked exhaustively when there are at most `exhaustiveLimit` of them, and sampled (reported with
 * `proven: false`) when there are more.
 *
 * @example
 * // A total over everyone and a figure for the reporters alone: subtracting gives away the colleague.
 * const reporters = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
 * const total = Object.fromEntries([...reporters, 'c1'].map((id) => [id, 1]));
 * const reportersOnly = Object.fromEntries(reporters.map((id) => [id, 1]));
 * findIsolation([total, reportersOnly], 5); // { isolated: ['c1'], proven: true }
 * findIsolation([total], 5); // { isolated: null, proven: true }
 */
export function findIsolation(rows: readonly Row[], k: number, options: IsolationOptions = {}): IsolationReport {
  if (!Number.isInteger(k)) throw new RangeError(`k must be an integer, got ${k}`);
  const limit = options.exhaustiveLimit ?? 50_000;
  if (!(limit >= 0) || !(Number.isInteger(limit) || limit === Infinity)) throw new RangeError(`exhaustiveLimit must be a non-negative integer, got ${limit}`);
  const seed = options.seed ?? 0;
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const structure = analyse(rows);
  if (k <= 1) return { isolated: null, proven: true };

  const { classes } = structure;
  const size = (c: number) => classes[c]!.length;
  const members = (set: readonly number[]) => set.flatMap((c) => classes[c]!).sort();
  const space = nullSpace(structure);

  // 1. Singletons, exactly: answer j alone is isolated iff its class is {j} and no null vector touches it.
  for (let c = 0; c < classes.length; c++) if (size(c) === 1 && space.isZero([c])) return { isolated: members([c]), proven: true };

  // 2. Proof by structure: row-space vectors are constant on classes, so classes of k or more are safe.
  const small = classes.map((_, c) => c).filter((c) => size(c) < k);
  if (small.length === 0) return { isolated: null, proven: true };

  // 3. Unions of small classes, size by size, within the groups a smallest isolated union must lie in. How
  // many unions there are of each size decides between exhaustive and sampled.
  const groups = candidateGroups(small, space).map((group) => group.sort((a, b) => size(a) - size(b) || a - b));
  const ways = groups.map((group) => countUnions(group.map(size), k - 1, limit + 1));
  const largest = Math.max(...ways.map((w) => w.length - 1));
  let budget = limit;
  let firstUncovered = k;
  for (let s = 2; s <= largest; s++) {
    const count = ways.reduce((sum, w) => Math.min(limit + 1, sum + (w[s] ?? 0)), 0);
    if (count === 0) continue;
    if (count > budget) {
      firstUncovered = s;
      break;
    }
    budget -= count;
    for (const group of groups) {
      const found = searchSize(group, size, s, space);
      if (found) return { isolated: members(found), proven: true };
    }
  }
  if (firstUncovered === k) return { isolated: null, proven: true };

  // Too many to check them all: every small class alone and every pair, then a seeded sample.
  let best: number[] | null = null;
  let bestSize = k;
  const consider = (set: readonly number[]) => {
    let total = 0;
    let h1 = 0;
    let h2 = 0;
    for (const c of set) {
      total += size(c);
      h1 = (h1 + space.print1[c]!) % space.p1;
      h2 = (h2 + space.print2[c]!) % space.p2;
    }
    if (total >= firstUncovered && total < bestSize && h1 === 0 && h2 === 0 && space.isZero(set)) {
      best = set.slice();
      bestSize = total;
    }
  };
  for (const group of groups) {
    for (let i = 0; i < group.length; i++) {
      consider([group[i]!]);
      for (let j = i + 1; j < group.length; j++) consider([group[i]!, group[j]!]);
    }
  }
  const random = mulberry32(seed);
  const pools = groups.filter((group) => group.length > 1).map((group) => group.slice());
  const set: number[] = [];
  for (let n = 0; pools.length > 0 && n < limit; n++) {
    // A random union below k: a random group's classes in random order, each taken if it still fits.
    const pool = pools[Math.floor(random() * pools.length)]!;
    let remaining = firstUncovered + Math.floor(random() * (k - firstUncovered));
    set.length = 0;
    for (let i = 0; i < pool.length && remaining > 0; i++) {
      const j = i + Math.floor(random() * (pool.length - i));
      const c = pool[j]!;
      pool[j] = pool[i]!;
      pool[i] = c;
      if (size(c) <= remaining) {
        set.push(c);
        remaining -= size(c);
      }
    }
    consider(set);
  }
  return { isolated: best === null ? null : members(best), proven: false };
}

/**
 * Whether `vector` is a rational combination of `rows`, exactly. Scale does not matter (v is in the space
 * iff 3v is), which is why coefficients need only be integers.
 *
 * @example
 * inRowSpace([{ a: 1, b: 1 }, { b: 1 }], { a: 1 }); // true: the first minus the second
 */
export function inRowSpace(rows: readonly Row[], vector: Row): boolean {
  const structure = analyse(rows);
  const values = new Map<string, bigint>();
  for (const [id, coefficient] of entriesOf(vector)) if (checked(coefficient) !== 0) values.set(id, BigInt(coefficient));
  for (const id of values.keys()) if (!structure.classOf.has(id)) return false;
  // In the row space, a vector is constant on each class; its value per class must then be in the compressed space.
  const compressed = structure.classes.map((ids) => {
    const value = values.get(ids[0]!) ?? 0n;
    return ids.every((id) => (values.get(id) ?? 0n) === value) ? value : null;
  });
  if (compressed.some((value) => value === null)) return false;
  return reduce(compressed as bigint[], structure.echelon).every((x) => x === 0n);
}

/** A row of the reduced row echelon form, times `d` (see `rref`). */
interface BasisRow {
  pivot: number;
  row: bigint[];
}

interface Echelon {
  /** Sorted by pivot; zero at every other row's pivot. */
  basis: BasisRow[];
  /** Every row's entry at its own pivot: the (positive) determinant of the pivot columns of these rows. */
  d: bigint;
}

interface Structure {
  /** Answer ids with identical columns, each sorted; classes ordered by their first id. */
  classes: string[][];
  classOf: Map<string, number>;
  /** RREF of the rows with one column per class (identical columns add nothing to the row space). */
  echelon: Echelon;
}

function entriesOf(row: Row): Iterable<[string, number]> {
  // Any map-like (not only a Map instance) counts as a map; a record's values are numbers, never functions.
  return typeof (row as ReadonlyMap<string, number>).get === 'function' ? (row as ReadonlyMap<string, number>).entries() : Object.entries(row as Readonly<Record<string, number>>);
}

function checked(coefficient: number): number {
  if (!Number.isInteger(coefficient)) throw new RangeError(`coefficients must be integers (scale the row instead), got ${coefficient}`);
  return coefficient;
}

function analyse(rows: readonly Row[]): Structure {
  // A column's key lists its nonzero coefficients by row; answers sharing a key form a class.
  const keys = new Map<string, string[]>();
  const entries = rows.map((row, r) => {
    const nonzero: [string, number][] = [];
    for (const [id, coefficient] of entriesOf(row)) {
      if (checked(coefficient) === 0) continue;
      nonzero.push([id, coefficient]);
      let key = keys.get(id);
      if (!key) keys.set(id, (key = []));
      key.push(`${r}:${BigInt(coefficient)}`);
    }
    return nonzero;
  });
  const classes: string[][] = [];
  const classOf = new Map<string, number>();
  const classOfKey = new Map<string, number>();
  for (const id of [...keys.keys()].sort()) {
    const key = keys.get(id)!.join(',');
    let c = classOfKey.get(key);
    if (c === undefined) {
      c = classes.length;
      classOfKey.set(key, c);
      classes.push([]);
    }
    classes[c]!.push(id);
    classOf.set(id, c);
  }

  // One column per class; duplicate rows dropped; sparsest rows first, which keeps fill-in down.
  const compressed = new Map<string, { row: bigint[]; nonzero: number }>();
  for (const nonzero of entries) {
    if (nonzero.length === 0) continue;
    const row = new Array<bigint>(classes.length).fill(0n);
    for (const [id, coefficient] of nonzero) row[classOf.get(id)!] = BigInt(coefficient);
    compressed.set(row.join(','), { row, nonzero: row.filter((x) => x !== 0n).length });
  }
  const ordered = [...compressed.values()].sort((a, b) => a.nonzero - b.nonzero).map((r) => r.row);
  // Rows independent mod p are independent over the rationals, so full rank mod p proves every vector is in
  // the space: the identity is the RREF, with none of the large intermediate numbers a dense matrix brings.
  const independent = independentModP(ordered, classes.length);
  if (independent.length === classes.length) {
    const identity = classes.map((_, c) => ({ pivot: c, row: classes.map((_, j) => (j === c ? 1n : 0n)) }));
    return { classes, classOf, echelon: { basis: identity, d: 1n } };
  }
  // Otherwise the rank over the rationals may still be higher (an unlucky p), so every row goes through the
  // exact elimination, the independent ones first: the others then reduce against a complete basis.
  const chosen = new Set(independent);
  return { classes, classOf, echelon: rref([...independent.map((i) => ordered[i]!), ...ordered.filter((_, i) => !chosen.has(i))]) };
}

const P = 67_108_859; // prime below 2^26: products of two residues are exact in a double

/** Indices of a maximal set of rows independent mod P, in order (row echelon form mod P). */
function independentModP(rows: readonly bigint[][], n: number): number[] {
  const pivotRow = new Array<number[] | undefined>(n);
  const independent: number[] = [];
  const big = BigInt(P);
  rows.forEach((row, r) => {
    const v = row.map((x) => Number(((x % big) + big) % big));
    for (let c = 0; c < n; c++) {
      if (v[c] === 0) continue;
      const b = pivotRow[c];
      if (!b) {
        // New pivot: scale to 1 so later reductions need no inverse.
        const inv = inverseModP(v[c]!);
        for (let j = c; j < n; j++) v[j] = (v[j]! * inv) % P;
        pivotRow[c] = v;
        independent.push(r);
        return;
      }
      const f = v[c]!;
      for (let j = c; j < n; j++) if (b[j] !== 0) v[j] = (v[j]! + P - ((f * b[j]!) % P)) % P;
    }
  });
  return independent;
}

function inverseModP(a: number): number {
  // Extended Euclid; all values stay below P.
  let [r0, r1, s0, s1] = [P, a, 0, 1];
  while (r1 !== 0) {
    const q = Math.floor(r0 / r1);
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return ((s0 % P) + P) % P;
}

/**
 * Gauss–Jordan elimination, fraction-free (the Bareiss idea applied to the reduced form): every row is kept as
 * its rational RREF row times d, the determinant of the pivot minor. By Cramer's rule that makes every entry
 * an integer minor, so the numbers stay as small as the matrix allows and each division below is exact.
 */
function rref(rows: readonly bigint[][]): Echelon {
  const basis: BasisRow[] = [];
  let d = 1n;
  for (const input of rows) {
    const w = reduce(input, { basis, d });
    const pivot = w.findIndex((x) => x !== 0n);
    if (pivot < 0) continue;
    if (w[pivot]! < 0n) for (let j = 0; j < w.length; j++) w[j] = -w[j]!;
    const next = w[pivot]!; // the new pivot minor
    for (const { row } of basis) {
      const c = row[pivot]!;
      if (c === 0n && next === d) continue;
      for (let j = 0; j < row.length; j++) row[j] = (next * row[j]! - c * w[j]!) / d;
    }
    basis.push({ pivot, row: w });
    d = next;
  }
  return { basis: basis.sort((a, b) => a.pivot - b.pivot), d };
}

/**
 * d·v minus the combination of basis rows that matches v at every pivot: zero exactly when v is in the row
 * space, and otherwise v's new row for the echelon form (zero at the old pivots).
 */
function reduce(v: readonly bigint[], { basis, d }: Echelon): bigint[] {
  const w = d === 1n ? v.slice() : v.map((x) => d * x);
  for (const { pivot, row } of basis) {
    const c = v[pivot]!;
    if (c === 0n) continue;
    for (let j = 0; j < w.length; j++) if (row[j] !== 0n) w[j] = w[j]! - c * row[j]!;
  }
  return w;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

interface NullSpace {
  /** Per class, its nonzero entries (coordinate, value) in the null-space basis. */
  entries: [number, bigint][][];
  /** Whether the union of these classes is orthogonal to every null vector, i.e. its indicator is in the row space. */
  isZero(set: readonly number[]): boolean;
  /** Two fingerprints per class: a random combination of its null-vector entries, mod p1 and mod p2. */
  print1: number[];
  print2: number[];
  p1: number;
  p2: number;
}

const P1 = 2_147_483_647n;
const P2 = 1_000_000_007n;

/**
 * A null-space basis from the RREF, one integer vector per free column. A union T of classes is in the row
 * space iff every null vector sums to zero over T. Fingerprints make the search cheap: an exact zero always
 * has zero fingerprints, and the rare false alarm is caught by the exact check.
 */
function nullSpace({ classes, echelon: { basis } }: Structure): NullSpace {
  const n = classes.length;
  const isPivot = new Array<boolean>(n).fill(false);
  for (const b of basis) isPivot[b.pivot] = true;
  const entries: [number, bigint][][] = classes.map(() => []);
  let dimension = 0;
  for (let f = 0; f < n; f++) {
    if (isPivot[f]) continue;
    const i = dimension++;
    let scale = 1n;
    for (const b of basis) if (b.row[f] !== 0n) scale = (scale / gcd(scale, b.row[b.pivot]!)) * b.row[b.pivot]!;
    entries[f]!.push([i, scale]);
    for (const b of basis) if (b.row[f] !== 0n) entries[b.pivot]!.push([i, (-b.row[f]! * scale) / b.row[b.pivot]!]);
  }
  const random = mulberry32(0x5eed);
  const weights = (p: bigint) => Array.from({ length: dimension }, () => 1n + (BigInt(Math.floor(random() * 0x40000000)) % (p - 1n)));
  const print = (p: bigint, w: bigint[]) =>
    entries.map((list) => {
      let h = 0n;
      for (const [i, value] of list) h += w[i]! * value;
      return Number(((h % p) + p) % p);
    });
  return {
    entries,
    p1: Number(P1),
    p2: Number(P2),
    print1: print(P1, weights(P1)),
    print2: print(P2, weights(P2)),
    isZero(set) {
      const sums = new Map<number, bigint>();
      for (const c of set) for (const [i, value] of entries[c]!) sums.set(i, (sums.get(i) ?? 0n) + value);
      for (const sum of sums.values()) if (sum !== 0n) return false;
      return true;
    },
  };
}

/**
 * The small classes that can be part of an isolated union, split into groups a smallest one never spans.
 *
 * A union T is isolated iff its null-vector entries sum to zero in every coordinate. A coordinate where all
 * remaining classes have the same sign can never sum to zero, so no class touching it can be in T; removing
 * those may expose more such coordinates, hence the loop. Then, if T touched two groups that share no
 * coordinate, each part would sum to zero on its own, so a smaller isolated union would exist.
 */
function candidateGroups(small: readonly number[], space: NullSpace): number[][] {
  let alive = small.slice();
  for (;;) {
    const positive = new Set<number>();
    const negative = new Set<number>();
    for (const c of alive) for (const [i, value] of space.entries[c]!) (value > 0n ? positive : negative).add(i);
    const next = alive.filter((c) => space.entries[c]!.every(([i]) => positive.has(i) && negative.has(i)));
    if (next.length === alive.length) break;
    alive = next;
  }
  // Union-find over classes, joined through the coordinates they share.
  const parent = new Map<number, number>(alive.map((c) => [c, c]));
  const root = (c: number): number => {
    while (parent.get(c) !== c) c = parent.get(c)!;
    return c;
  };
  const firstAt = new Map<number, number>();
  for (const c of alive)
    for (const [i] of space.entries[c]!) {
      const other = firstAt.get(i);
      if (other === undefined) firstAt.set(i, c);
      else parent.set(root(c), root(other));
    }
  const groups = new Map<number, number[]>();
  for (const c of alive) {
    const r = root(c);
    if (!groups.has(r)) groups.set(r, []);
    groups.get(r)!.push(c);
  }
  return [...groups.values()];
}

/** ways[s] = how many unions of classes of these sizes have exactly s answers, for s <= max (and no more than all of them), saturating at cap. */
function countUnions(sizes: readonly number[], max: number, cap: number): number[] {
  max = Math.min(max, sizes.reduce((a, b) => a + b, 0));
  const ways = new Array<number>(max + 1).fill(0);
  ways[0] = 1;
  for (const size of sizes) for (let s = max; s >= size; s--) ways[s] = Math.min(cap, ways[s]! + ways[s - size]!);
  return ways;
}

/** The first union of exactly s answers (classes in the order of `small`) whose indicator is in the row space. */
function searchSize(small: readonly number[], size: (c: number) => number, s: number, space: NullSpace): number[] | null {
  const { p1, p2 } = space;
  const chosen: number[] = [];
  const visit = (start: number, remaining: number, h1: number, h2: number): boolean => {
    if (remaining === 0) return h1 === 0 && h2 === 0 && space.isZero(chosen);
    for (let i = start; i < small.length; i++) {
      const c = small[i]!;
      if (size(c) > remaining) break; // `small` is sorted by size
      chosen.push(c);
      if (visit(i + 1, remaining - size(c), (h1 + space.print1[c]!) % p1, (h2 + space.print2[c]!) % p2)) return true;
      chosen.pop();
    }
    return false;
  };
  return visit(0, s, 0, 0) ? chosen : null;
}

/** A small seeded generator, so a sampled search can be repeated exactly. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
