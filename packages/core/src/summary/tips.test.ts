import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DIMENSIONS } from '../survey/instrument';
import { chooseTips, TIP_SOURCES, TIPS } from './tips';

// The seed articles the instrument and the tips come from, kept in the repository.
const SEEDS = fileURLToPath(new URL('../../../../docs/seeds/', import.meta.url));

describe('tips library', () => {
  it('has at least three tips for every dimension, each on its own dimension', () => {
    for (const d of DIMENSIONS) {
      expect(TIPS[d].length, d).toBeGreaterThanOrEqual(3);
      for (const t of TIPS[d]) {
        expect(t.dimension).toBe(d);
        expect(t.id.startsWith(`${d}.`)).toBe(true);
        expect(t.text.length).toBeGreaterThan(40);
      }
    }
    expect(Object.keys(TIPS).sort()).toEqual([...DIMENSIONS].sort());
  });

  it('has unique ids', () => {
    const ids = Object.values(TIPS).flat().map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('cites an existing seed article for every tip', () => {
    expect(existsSync(SEEDS), `seeds folder at ${SEEDS}`).toBe(true);
    const seeds = new Set(readdirSync(SEEDS));
    for (const s of TIP_SOURCES) expect(seeds.has(s), s).toBe(true);
    for (const t of Object.values(TIPS).flat()) expect(seeds.has(t.source), `${t.id}: ${t.source}`).toBe(true);
  });
});

describe('chooseTips', () => {
  it('gives the first tips of a dimension when nothing was sent before', () => {
    expect(chooseTips('listening', []).map((t) => t.id)).toEqual(TIPS.listening.slice(0, 3).map((t) => t.id));
    expect(chooseTips('listening', [], 2)).toHaveLength(2);
  });

  it("never repeats last period's tips, and gives at least two, for every dimension and every last set", () => {
    for (const d of DIMENSIONS) {
      const ids = TIPS[d].map((t) => t.id);
      // Every set of up to three of the dimension's tips that could have been sent last period.
      const lastSets: string[][] = [[]];
      for (let a = 0; a < ids.length; a++) {
        lastSets.push([ids[a]!]);
        for (let b = a + 1; b < ids.length; b++) {
          lastSets.push([ids[a]!, ids[b]!]);
          for (let c = b + 1; c < ids.length; c++) lastSets.push([ids[a]!, ids[b]!, ids[c]!]);
        }
      }
      for (const last of lastSets) {
        for (const count of [2, 3] as const) {
          const chosen = chooseTips(d, last, count).map((t) => t.id);
          expect(chosen.some((id) => last.includes(id)), `${d} after ${last.join(',')}`).toBe(false);
          expect(chosen.length).toBeGreaterThanOrEqual(2);
          expect(chosen.length).toBeLessThanOrEqual(count);
          expect(new Set(chosen).size).toBe(chosen.length);
          // Deterministic.
          expect(chooseTips(d, last, count).map((t) => t.id)).toEqual(chosen);
        }
      }
    }
  });

  it('rotates through the library period after period instead of alternating between two sets', () => {
    const seen = new Set<string>();
    let last: string[] = [];
    for (let period = 0; period < 4; period++) {
      const chosen = chooseTips('clarity', last, 3).map((t) => t.id);
      expect(chosen.some((id) => last.includes(id))).toBe(false);
      chosen.forEach((id) => seen.add(id));
      last = chosen;
    }
    expect(seen.size).toBe(TIPS.clarity.length);
  });

  it("ignores other dimensions' ids, and falls back to repeating only when nothing fresh is left", () => {
    const otherIds = TIPS.extraMile.map((t) => t.id);
    expect(chooseTips('listening', otherIds)).toEqual(chooseTips('listening', []));
    const everything = TIPS.relevance.map((t) => t.id);
    expect(chooseTips('relevance', everything)).toHaveLength(3);
    // Only one fresh tip left: that one alone, not a repeat.
    expect(chooseTips('relevance', everything.slice(1)).map((t) => t.id)).toEqual([everything[0]]);
  });
});
