/**
 * What every benchmark scenario returns: figures, each with the floor it is compared to (measured
 * in the same run) and its budget. `bench/run.ts` prints them, writes `bench/results/latest.json`
 * and the Markdown table, and exits non-zero when a figure is outside its budget.
 */
export interface Figure {
  /** The scenario it belongs to, e.g. `pipeline`, `submit`, `work`, `cost`, `jobs`, `cold-start`. */
  scenario: string;
  /** What was measured, in words, e.g. `10,000-recipient round, emails per second`. */
  name: string;
  value: number;
  /** `ms`, `KB`, `emails/s`, `calls`, `WRU`, `RCU`, `$`, `s`… */
  unit: string;
  /** The floor it is compared to, measured in the same run (or computed, e.g. SES alone). */
  floor?: { name: string; value: number };
  /** value ÷ floor (or, for rates, as stated in `name`), when there is a floor. */
  ratio?: number;
  /**
   * The budget this figure must meet: on the ratio (`ratio`) or on the value itself (`value`), at
   * most `max` and/or at least `min`. A figure outside it fails the run.
   */
  budget?: { on: 'ratio' | 'value'; max?: number; min?: number };
  /** Anything a reader needs to read the figure right (repeats, machine caveats). */
  note?: string;
}

/** Whether a figure is outside its budget. */
export function overBudget(f: Figure): boolean {
  if (!f.budget) return false;
  const v = f.budget.on === 'ratio' ? f.ratio : f.value;
  if (v === undefined || Number.isNaN(v)) return true;
  return (f.budget.max !== undefined && v > f.budget.max) || (f.budget.min !== undefined && v < f.budget.min);
}
