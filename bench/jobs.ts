/**
 * Benchmark: the periodic jobs' DynamoDB calls and read units per run at 10, 100, 1,000 and 10,000
 * pros, on a table of its own per size. Pros come in agencies of 10 (so 1 to 1,000 agencies), each
 * agency with a campaign, a round open (3 recipients queued, its close 14 days on) and a closed round
 * (`seedAgencies`): what sits in the due indexes between two busy moments.
 * - An idle scheduled run (every 5 minutes on AWS): a minute after the seeding, nothing is due.
 * - The first summary run of a period: it reaches each agency and each pro once (work that is due;
 *   reported, no budget). The summary jobs it queues are delivered in this process (no email: the
 *   pros are quiet); then the next hourly run moves each agency, its run complete, on to its next slot.
 * - An idle summary run (hourly): a later run in the period.
 * Budget: an idle run makes as many calls at every size as at 10 pros (ratio ≤ 1). This covers what
 * `bench/summaries.ts` measured (one agency of quiet pros), with agencies in proportion.
 */
import { createDb, ensureTable, mapConcurrent, recordedSends, runScheduledJobs, runSummaries, type Config, type DeliveryDeps, type Mailer, type SendJob } from '@rapport/core';
import { deliver } from '@rapport/core/sending/dispatch';
import { seedAgencies } from '@rapport/testing/dynamo';
import { meterCapacity } from './capacity';
import type { Figure } from './figures';

export const JOBS_BENCH_PROS = [10, 100, 1_000, 10_000];
const PROS_PER_AGENCY = 10;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** A Tuesday: the agencies' weekly summary slot (Monday 09:00 UTC) passed the day before. */
const SEEDED = new Date('2030-09-03T10:00:00Z');

/** Seeded pros are quiet: nothing is ever sent. */
const noMail: Mailer = { send: () => Promise.reject(new Error('a quiet pro got an email')) };

interface Cost {
  calls: number;
  readUnits: number;
}

/** An idle run's calls are queries that read nothing: each billed at the minimum, 0.5 RCU. */
const billed = (c: Cost) => Math.max(c.readUnits, c.calls * 0.5);

export async function benchJobs(config: Config, log: (line: string) => void): Promise<Figure[]> {
  const measured: { pros: number; agencies: number; scheduled: Cost; first: Cost; movingOn: Cost; idle: Cost }[] = [];
  for (const pros of JOBS_BENCH_PROS) {
    const agencies = pros / PROS_PER_AGENCY;
    const db = createDb({ region: config.region, endpoint: config.dynamoEndpoint, table: `rapport-bench-jobs-${pros}` });
    await ensureTable(db.client, db.table);
    const t0 = performance.now();
    await seedAgencies(db, { agencies, prosPerAgency: PROS_PER_AGENCY, at: SEEDED });
    log(`seeded ${pros} pros in ${agencies} agencies, ${2 * agencies} rounds, in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const queued: SendJob[] = [];
    const queue = { enqueue: async (jobs: SendJob[]) => void queued.push(...jobs) };
    const meter = meterCapacity(db);
    const cost = (): Cost => {
      const { calls, readUnits } = meter.read();
      meter.reset();
      return { calls, readUnits };
    };

    meter.reset();
    await runScheduledJobs({ db, queue, records: recordedSends(db) }, new Date(SEEDED.getTime() + MINUTE));
    const scheduled = cost();
    if (queued.length > 0) throw new Error(`an idle scheduled run queued ${queued.length} jobs`);

    const summaries = async (at: Date) => {
      const deps: DeliveryDeps = { db, mailer: noMail, linkSecret: config.linkSecret!, publicUrl: config.publicUrl, mailFrom: config.mailFrom, now: () => at, requeue: async (job) => void queued.push(job) };
      await runSummaries({ db, queue }, at);
      while (queued.length > 0) await mapConcurrent(queued.splice(0), 8, (job) => deliver(deps, job));
      return cost();
    };
    const first = await summaries(new Date(SEEDED.getTime() + HOUR));
    const movingOn = await summaries(new Date(SEEDED.getTime() + 2 * HOUR));
    const idle = await summaries(new Date(SEEDED.getTime() + 3 * HOUR));
    measured.push({ pros, agencies, scheduled, first, movingOn, idle });
    log(`${pros} pros: idle scheduled ${scheduled.calls} calls, first summary run ${first.calls}, moving on ${movingOn.calls}, idle summary ${idle.calls}`);
    db.client.destroy();
  }

  const base = measured[0]!;
  return measured.flatMap(({ pros, agencies, scheduled, first, movingOn, idle }): Figure[] => {
    const size = `${pros.toLocaleString('en')} pros (${agencies.toLocaleString('en')} agencies, ${(2 * agencies).toLocaleString('en')} rounds)`;
    const idleFigure = (job: string, c: Cost, at10: Cost): Figure[] => [
      {
        scenario: 'jobs',
        name: `idle ${job} run, ${size}, DynamoDB calls`,
        value: c.calls,
        unit: 'calls',
        floor: { name: `the same run at ${base.pros} pros`, value: at10.calls },
        ratio: c.calls / at10.calls,
        budget: { on: 'ratio', max: 1 },
      },
      {
        scenario: 'jobs',
        name: `idle ${job} run, ${size}, read units as billed`,
        value: billed(c),
        unit: 'RCU',
        floor: { name: `the same run at ${base.pros} pros`, value: billed(at10) },
        ratio: billed(c) / billed(at10),
        note: 'DynamoDB Local reports 0 for a query that reads nothing; AWS bills it 0.5 RCU (eventually consistent)',
      },
    ];
    return [
      ...idleFigure('scheduled', scheduled, base.scheduled),
      ...idleFigure('summary', idle, base.idle),
      { scenario: 'jobs', name: `first summary run of a period, ${size}, DynamoDB calls`, value: first.calls, unit: 'calls', note: `${first.readUnits.toFixed(1)} RCU; reaches each agency and pro once a period (work due, no budget)` },
      { scenario: 'jobs', name: `next summary run (agencies move on to their next slot), ${size}, DynamoDB calls`, value: movingOn.calls, unit: 'calls', note: `${movingOn.readUnits.toFixed(1)} RCU; once a period: one update per agency (work due, no budget)` },
    ];
  });
}
