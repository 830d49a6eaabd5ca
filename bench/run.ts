/**
 * `npm run bench`: the benchmarks, on real local engines started for the run (in memory, free
 * ports). Figures are printed with the ratios measured in the same run, which is what to compare
 * across machines; absolute times depend on the machine.
 */
import { freePort, startLocalSystem } from '@rapport/local';
import { benchRealTimeDrain, benchVirtualDrain } from './backlog';
import { benchColdStart, COLD_START_BUDGET } from './cold-start';
import { benchRounds } from './rounds';
import { benchScores } from './scores';
import { benchSummaries } from './summaries';

type Result = Awaited<ReturnType<typeof benchScores>>[number];

const log = (line: string) => console.error(`  … ${line}`);
// `npm run bench -- cold-start`: that scenario alone (it needs no local engines).
const only = process.argv[2];

// First, while no engine runs beside it: import times are the most sensitive to a busy machine.
console.log(`Cold start: bundle size and median import time, CPU (and wall), of 20 fresh Node processes, against a Hono hello world with the same SDK clients, same run (budget ${COLD_START_BUDGET.size}× size, ${COLD_START_BUDGET.import}× import CPU time):`);
console.log('  bundle          size    floor   ratio     import CPU (wall)              floor CPU (wall)         ratio');
for (const r of await benchColdStart(log)) {
  const kb = (n: number) => `${(n / 1000).toFixed(0)} KB`.padStart(7);
  const ms = (n: number) => `${n.toFixed(1)} ms`.padStart(8);
  const mark = (over: boolean) => (over ? ' ✗' : '  ');
  console.log(
    `  ${r.name.padEnd(11)} ${kb(r.bytes)}  ${kb(r.floorBytes)}  ${r.sizeRatio.toFixed(2).padStart(5)}×${mark(r.over.includes('size'))} ${ms(r.importMs)} (${ms(r.importWallMs)})  ${ms(r.floorImportMs)} (${ms(r.floorImportWallMs)})  ${r.importRatio.toFixed(2).padStart(5)}×${mark(r.over.includes('import'))}`,
  );
  if (r.over.length) {
    console.error(`FAIL: the ${r.name} bundle is over its cold-start budget (${r.over.join(', ')})`);
    process.exitCode = 1;
  }
}
if (only === 'cold-start') process.exit();

const system = await startLocalSystem({
  port: await freePort(),
  dynamoDbPort: await freePort(),
  sesPort: await freePort(),
  env: { ...process.env, TABLE_NAME: 'rapport-bench' },
  jobsIntervalMs: 3_600_000,
  // Sustained load, as the figures in the README were measured: the optimising JIT pays back.
  java: { fullJit: true },
});
try {
  console.log('GET /v1/pros/{id}/scores, 12 months, 50 requests each (DynamoDB Local, in-process app):');
  const [small, medium, large] = (await benchScores(system.config, log)) as [Result, Result, Result];
  for (const r of [small, medium, large]) {
    console.log(
      `  ${`${r.count} responses`.padEnd(17)} ${r.rcu.toFixed(2).padStart(6)} RCU ${r.calls.toFixed(0).padStart(3)} calls ${r.p50.toFixed(2).padStart(7)} ms p50 ${r.p95.toFixed(2).padStart(7)} ms p95`,
    );
  }
  const ratio = (a: Result, b: Result) => `${(a.rcu / b.rcu).toFixed(2)}× read units, ${(a.p50 / b.p50).toFixed(2)}× p50 latency`;
  console.log(`  ratio 10,000 / 1,000: ${ratio(large, medium)}`);
  console.log(`  ratio 10,000 / 100:   ${ratio(large, small)}`);
  // Counters grow only until every histogram bin of every item is in use (a few hundred responses
  // spread over 12 months × 3 audiences); from then on their size, and the read, is fixed.
  if (large.rcu > medium.rcu) {
    console.error('FAIL: reading scores costs more read units with 10,000 responses than with 1,000');
    process.exitCode = 1;
  }

  console.log('POST /v1/campaigns/{id}/surveys and /v1/surveys/{id}/cancel (createRound, cancelRound):');
  const [hundred, , twoThousand] = await benchRounds(system.config, log);
  console.log(`  100 recipients     ${(hundred!.ms / 1000).toFixed(2).padStart(6)} s`);
  console.log(`  2,000 recipients   ${(twoThousand!.ms / 1000).toFixed(2).padStart(6)} s   (${(twoThousand!.ms / hundred!.ms).toFixed(1)}× the time for 20× the recipients)`);
  console.log(`  cancel, 100        ${(hundred!.cancelMs / 1000).toFixed(2).padStart(6)} s`);
  console.log(`  cancel, 2,000      ${(twoThousand!.cancelMs / 1000).toFixed(2).padStart(6)} s   (${(twoThousand!.cancelMs / hundred!.cancelMs).toFixed(1)}×; each unsent invitation skipped and its throttle given back)`);

  console.log('The hourly summary job, one agency of quiet pros (DynamoDB Local, jobs delivered in process):');
  console.log('  pros      first run: calls   read units    later run: calls   read units');
  const summaries = await benchSummaries(system.config, log);
  for (const { pros, first, later } of summaries) {
    console.log(`  ${String(pros).padEnd(8)} ${first.calls.toFixed(0).padStart(17)} ${first.readUnits.toFixed(1).padStart(12)} ${later.calls.toFixed(0).padStart(18)} ${later.readUnits.toFixed(1).padStart(12)}`);
  }
  // After the first run of a period, an hour costs the same whatever the number of pros.
  if (new Set(summaries.map((s) => `${s.later.calls}/${s.later.readUnits}`)).size > 1) {
    console.error('FAIL: a later hourly summary run costs more with more pros');
    process.exitCode = 1;
  }

  console.log('Backlog drain: invitations sent per second against the configured sending rate:');
  for (const r of [await benchRealTimeDrain(system.config, log), await benchVirtualDrain(system.config, log)]) {
    const enqueues = r.enqueues ? `   queued ${r.enqueues.mean.toFixed(2)}× per invitation on average, ${r.enqueues.max}× at most` : '';
    console.log(
      `  ${r.label.padEnd(32)} ${r.count.toLocaleString('en').padStart(6)} at ${String(r.rate).padStart(4)}/s   ${(r.count / r.seconds).toFixed(2).padStart(6)}/s   ratio ${r.ratio.toFixed(3)}${enqueues}`,
    );
    if (r.ratio < 1 / 1.1) {
      console.error(`FAIL: the backlog drained at less than the configured rate ÷ 1.1 (${r.label})`);
      process.exitCode = 1;
    }
  }
} finally {
  await system.stop();
}
