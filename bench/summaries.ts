/**
 * Benchmark: the summary job's DynamoDB calls and read units per hourly run, for one agency of
 * quiet pros (no release in the period: most pros, most weeks), on a table of its own per size.
 * The first run of a period reaches each pro once; the next run of the same period reads the due
 * index and the agency's run record, and moves the agency on to its next slot (`bench/jobs.ts`
 * measures the idle runs after that, with agencies in proportion, and can replace this one). Jobs the run queues are delivered in this process,
 * without the SES pacing (only calls are counted). Pros are seeded with BatchWriteItem.
 */
import { createAgency, createDb, deliver, ensureTable, mapConcurrent, runSummaries, type Config, type DeliveryDeps, type Mailer, type SendJob } from '@rapport/core';
import { putPros } from '@rapport/testing/dynamo';
import { meterCapacity } from './capacity';
import type { Figure } from './figures';

export const SUMMARY_BENCH_SIZES = [10, 100, 1_000, 10_000];

/** Quiet pros send nothing: a mailer that is never called. */
const noMail: Mailer = { send: () => Promise.reject(new Error('a quiet pro got an email')) };

/** Calls and read units of the first and a later hourly run per size; a later run costs the same whatever the number of pros. */
export async function benchSummaries(config: Config, log: (line: string) => void): Promise<Figure[]> {
  const results = [];
  for (const pros of SUMMARY_BENCH_SIZES) {
    const db = createDb({ region: config.region, endpoint: config.dynamoEndpoint, table: `rapport-bench-summaries-${pros}` });
    await ensureTable(db.client, db.table);
    const at = new Date('2030-09-02T10:00:00Z');
    const agency = await createAgency(db, { name: `Bench ${pros}`, timezone: 'UTC' }, at);
    log(`seeding ${pros} pros`);
    await putPros(db, agency.agencyId, pros, at);
    const waiting: SendJob[] = [];
    const run = async (now: Date) => {
      const deps: DeliveryDeps = { db, mailer: noMail, linkSecret: config.linkSecret!, publicUrl: config.publicUrl, mailFrom: config.mailFrom, now: () => now, requeue: async (job) => void waiting.push(job) };
      await runSummaries({ db, queue: { enqueue: async (jobs) => void waiting.push(...jobs) } }, now);
      while (waiting.length > 0) await mapConcurrent(waiting.splice(0), 8, (job) => deliver(deps, job));
    };
    const meter = meterCapacity(db);
    log(`first run, ${pros} pros`);
    await run(new Date('2030-09-09T09:00:00Z'));
    const first = meter.read();
    meter.reset();
    await run(new Date('2030-09-09T10:00:00Z'));
    const later = meter.read();
    results.push({ pros, first, later });
    db.client.destroy();
  }
  const scenario = 'summaries';
  const fewest = results[0]!;
  return results.flatMap(({ pros, first, later }): Figure[] => {
    const label = `${pros.toLocaleString('en')} quiet pros`;
    const vs = pros > fewest.pros ? { name: `${fewest.pros} pros`, calls: fewest.later.calls, units: fewest.later.readUnits } : undefined;
    return [
      { scenario, name: `summary job, first run of a period, ${label}: calls`, value: first.calls, unit: 'calls', note: `${first.readUnits.toFixed(1)} read units` },
      {
        scenario,
        name: `summary job, a later run, ${label}: calls`,
        value: later.calls,
        unit: 'calls',
        ...(vs ? { floor: { name: vs.name, value: vs.calls }, ratio: later.calls / vs.calls, budget: { on: 'ratio' as const, max: 1 } } : {}),
      },
      {
        scenario,
        name: `summary job, a later run, ${label}: read units`,
        value: later.readUnits,
        unit: 'RCU',
        ...(vs ? { floor: { name: vs.name, value: vs.units }, ratio: vs.units ? later.readUnits / vs.units : 1, budget: { on: 'ratio' as const, max: 1 } } : {}),
      },
    ];
  });
}
