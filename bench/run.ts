/**
 * `npm run bench`: every scenario, on real local engines started for the run (in memory, free
 * ports). Each scenario returns figures (`bench/figures.ts`), each with the floor measured in the
 * same run and its budget; the runner prints a table per scenario, writes
 * `bench/results/latest.json` and `latest.md`, and exits non-zero when a figure is over its budget
 * or a scenario fails. `npm run bench -- work,cost` runs those scenarios alone (results printed,
 * not written). Absolute times depend on the machine; the ratios are what to compare.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Config } from '@rapport/core';
import { startLocalSystem, systemPorts } from '@rapport/local';
import { benchBacklog } from './backlog';
import { benchColdStartFigures } from './cold-start';
import { benchCost } from './cost';
import { benchJobs } from './jobs';
import { benchPipeline } from './pipeline';
import { overBudget, type Figure } from './figures';
import { benchRounds } from './rounds';
import { benchScores } from './scores';
import { benchSubmit } from './submit';
import { benchWork } from './work';

interface Scenario {
  name: string;
  run: (config: Config, log: (line: string) => void) => Promise<Figure[]>;
  /** False for a scenario that needs no local engines (it runs before they start). */
  engines?: false;
}

/** In the order they run. Adding a scenario: one line here. */
const scenarios: Scenario[] = [
  // First, while no engine runs beside it: import times are the most sensitive to a busy machine.
  { name: 'cold-start', run: benchColdStartFigures, engines: false },
  { name: 'work', run: benchWork },
  // After `work`: it prices the counts `work` measured (measuring them itself when run alone).
  { name: 'cost', run: benchCost },
  { name: 'scores', run: benchScores },
  { name: 'rounds', run: benchRounds },
  { name: 'submit', run: benchSubmit },
  { name: 'jobs', run: benchJobs },
  { name: 'backlog', run: benchBacklog },
  { name: 'pipeline', run: benchPipeline },
];

const root = join(import.meta.dirname, '..');
const log = (line: string) => console.error(`  … ${line}`);
const asked = process.argv[2]?.split(',').filter(Boolean);
const unknown = asked?.filter((name) => !scenarios.some((s) => s.name === name)) ?? [];
if (unknown.length > 0) {
  console.error(`Unknown scenario ${unknown.join(', ')}; one of: ${scenarios.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const chosen = asked ? scenarios.filter((s) => asked.includes(s.name)) : scenarios;

/** Numbers as a reader wants them: a few significant digits, thousands separated. */
function num(value: number): string {
  const abs = Math.abs(value);
  const digits = abs === 0 || abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : abs >= 0.01 ? 4 : 6;
  return value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
const withUnit = (value: number, unit: string) => (unit === '$' ? `$${num(value)}` : `${num(value)} ${unit}`);
function budgetText(f: Figure): string {
  if (!f.budget) return '';
  const suffix = f.budget.on === 'ratio' ? '×' : ` ${f.unit}`;
  const fmt = (n: number) => (f.budget!.on === 'value' && f.unit === '$' ? `$${num(n)}` : `${num(n)}${suffix}`);
  return [f.budget.min !== undefined ? `≥ ${fmt(f.budget.min)}` : '', f.budget.max !== undefined ? `≤ ${fmt(f.budget.max)}` : ''].filter(Boolean).join(', ');
}
/** A scenario's figures as rows: figure, value, floor, ratio, budget, mark. */
const rows = (figures: Figure[]) =>
  figures.map((f) => [
    f.name,
    withUnit(f.value, f.unit),
    f.floor ? `${withUnit(f.floor.value, f.unit)} (${f.floor.name})` : '',
    f.ratio !== undefined ? `${f.ratio.toFixed(2)}×` : '',
    budgetText(f),
    overBudget(f) ? '✗' : '',
  ]);
const HEAD = ['figure', 'value', 'floor, same run', 'ratio', 'budget', ''];

function textTable(figures: Figure[]): string {
  const all = [HEAD, ...rows(figures)];
  const widths = HEAD.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  return all.map((r) => `  ${r.map((cell, c) => (c === 1 || c === 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd()}`).join('\n');
}
function markdownTable(figures: Figure[]): string {
  const escape = (s: string) => s.replaceAll('|', '\\|');
  const line = (cells: string[]) => `| ${cells.map(escape).join(' | ')} |`;
  return [line(HEAD), line(HEAD.map(() => '---')), ...rows(figures).map(line)].join('\n');
}

function machine() {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
    } catch {
      return undefined;
    }
  };
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    commit: git('rev-parse', 'HEAD'),
    dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
  };
}

const started = performance.now();
const results: { name: string; seconds: number; figures: Figure[]; error?: string }[] = [];
async function runOne(scenario: Scenario, config: Config) {
  console.log(`\n${scenario.name}`);
  const t0 = performance.now();
  let figures: Figure[] = [];
  let error: string | undefined;
  try {
    figures = await scenario.run(config, log);
  } catch (e) {
    error = e instanceof Error ? (e.stack ?? e.message) : String(e);
    console.error(`FAIL: ${scenario.name} failed: ${error}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  if (figures.length > 0) console.log(textTable(figures));
  for (const f of figures.filter((f) => f.note)) console.log(`  · ${f.name}: ${f.note}`);
  console.log(`  (${scenario.name}: ${seconds.toFixed(1)} s)`);
  for (const f of figures.filter(overBudget)) console.error(`FAIL: ${scenario.name}: ${f.name} is outside its budget (${budgetText(f)})`);
  results.push({ name: scenario.name, seconds, figures, ...(error ? { error } : {}) });
}

// The config the scenarios get when no engine runs: only cold start takes none, and reads none.
for (const s of chosen.filter((s) => s.engines === false)) await runOne(s, undefined as unknown as Config);
const withEngines = chosen.filter((s) => s.engines !== false);
if (withEngines.length > 0) {
  const system = await startLocalSystem({
    ...(await systemPorts()),
    env: { ...process.env, TABLE_NAME: 'rapport-bench' },
    jobsIntervalMs: 3_600_000,
    // Sustained load, as in production: the optimising JIT pays back.
    java: { fullJit: true },
  });
  try {
    for (const s of withEngines) await runOne(s, system.config);
  } finally {
    await system.stop();
  }
}

const seconds = (performance.now() - started) / 1000;
const failed = results.filter((r) => r.error || r.figures.some(overBudget));
console.log(`\n${results.length} scenarios in ${(seconds / 60).toFixed(1)} min; ${failed.length === 0 ? 'every figure within its budget' : `outside budget or failed: ${failed.map((r) => r.name).join(', ')}`}`);

if (!asked) {
  const m = machine();
  const date = new Date().toISOString();
  const dir = join(root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify({ date, seconds: Math.round(seconds), machine: m, scenarios: results }, null, 2)}\n`);
  const md = [
    `Measured ${date.slice(0, 10)} on ${m.cpu}, ${m.cores} cores, ${m.memoryGB} GB, Node ${m.node}, commit ${m.commit?.slice(0, 10) ?? 'unknown'}${m.dirty ? ' (with changes)' : ''}; \`npm run bench\` took ${(seconds / 60).toFixed(1)} min. ✗: outside its budget.`,
    ...results.map((r) => {
      const notes = r.figures.filter((f) => f.note).map((f) => `- ${f.name}: ${f.note}`);
      return `\n#### ${r.name} (${r.seconds.toFixed(0)} s)\n\n${r.error ? `Failed: ${r.error.split('\n')[0]}` : [markdownTable(r.figures), ...(notes.length ? ['', ...notes] : [])].join('\n')}`;
    }),
  ].join('\n');
  writeFileSync(join(dir, 'latest.md'), `${md}\n`);
  console.log('Written: bench/results/latest.json, bench/results/latest.md');
}
if (failed.length > 0) process.exitCode = 1;
