/**
 * Benchmark: reading a pro's 12 months of scores costs the same whatever the number of responses,
 * because it reads the pre-aggregated counters. Seeds pros through the real write path (rounds,
 * responses one transaction each, and the close that releases them in batches), then reads
 * GET /v1/pros/{id}/scores repeatedly through the real app, measuring read units and latency for
 * each in one run.
 */
import { AUDIENCE_DIMENSIONS, closeRound, createAgency, createApiKey, createCampaign, createPro, createRound, keys, mapConcurrent, submitResponse, updateSettings, type Db } from '@rapport/core';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createApp, createDeps, type Deps } from '@rapport/functions';
import { meterCapacity, percentile } from './capacity';
import type { Figure } from './figures';

const MONTHS = Array.from({ length: 12 }, (_, i) => `2030-${String(i + 1).padStart(2, '0')}`);
const AUDIENCES = ['reporter', 'colleague', 'client'] as const;

/** `count` responses spread over the 12 months, a round (and campaign) per month. */
async function seedPro(db: Db, agencyId: string, label: string, count: number): Promise<string> {
  const start = new Date('2030-01-01T00:00:00Z');
  const pro = await createPro(db, agencyId, { name: label, email: `${label}@bench.example` }, start);
  // Months in parallel: each has its own counter items, so their transactions never conflict.
  await Promise.all(
    MONTHS.map(async (month, m) => {
      const perMonth = Math.floor(count / 12) + (m < count % 12 ? 1 : 0);
      const at = new Date(`${month}-10T10:00:00Z`);
      const campaign = await createCampaign(db, agencyId, { proId: pro.proId, name: `${label} ${month}` }, at);
      for (let offset = 0; offset < perMonth; offset += 2000) {
        const size = Math.min(2000, perMonth - offset);
        const recipients = Array.from({ length: size }, (_, i) => ({ email: `r${offset + i}-${month}-${label}@news.example`, audience: AUDIENCES[i % 3]! }));
        const { round, accepted } = await createRound(db, agencyId, campaign.campaignId, { recipients }, at);
        // One at a time per month: all of a month's responses add to the same counters.
        await mapConcurrent(accepted, 1, (invitation, i) =>
          submitResponse(
            db,
            invitation,
            { responsiveness: 1 + (i % 5), recommend: i % 11, [AUDIENCE_DIMENSIONS[invitation.audience][0]]: 1 + ((i * 7) % 5) },
            new Date(at.getTime() + 3_600_000),
          ),
        );
        // Answers count once their round closes and releases them.
        await closeRound(db, round.roundId, new Date(Date.parse(round.closesAt) + 3_600_000));
      }
    }),
  );
  return pro.proId;
}

/** Answers of a pro still waiting in a pool (groups below k): released later, not counted yet. */
async function pooled(db: Db, agencyId: string, proId: string): Promise<number> {
  const pools = await Promise.all(AUDIENCES.map((a) => db.doc.send(new GetCommand({ TableName: db.table, Key: keys.pool(agencyId, proId, a) }))));
  return pools.reduce((n, { Item }) => n + ((Item?.members as unknown[] | undefined)?.length ?? 0), 0);
}

/**
 * Read units, calls and latency of one read per size; the 10,000-response read must cost no more
 * read units than the 1,000 one (counters grow only until every histogram bin of every item is in
 * use, a few hundred responses spread over 12 months × 3 audiences; from then on their size is fixed).
 */
export async function benchScores(config: Deps['config'], log: (line: string) => void): Promise<Figure[]> {
  // No rate limiting here: its per-request write would be counted with the reads being measured.
  const deps = createDeps({ ...config, apiRateLimitPerMinute: 0 });
  const meter = meterCapacity(deps.db);
  const app = createApp(deps);
  const now = new Date('2030-12-31T12:00:00Z');
  const agency = await createAgency(deps.db, { name: 'Bench agency' }, now);
  const { secret } = await createApiKey(deps.db, agency.agencyId, { role: 'read' }, now);
  // The smallest k, so the 100-answer pro's monthly groups (8 or 9 answers) are released too.
  await updateSettings(deps.db, agency.agencyId, { anonymityThreshold: 3 }, now);

  const sizes = [100, 1_000, 10_000];
  const seeded: { count: number; proId: string; seconds: number }[] = [];
  for (const count of sizes) {
    const t0 = performance.now();
    const proId = await seedPro(deps.db, agency.agencyId, `pro${count}`, count);
    seeded.push({ count, proId, seconds: (performance.now() - t0) / 1000 });
    log(`seeded ${count} responses in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }

  const results = [];
  for (const { count, proId } of seeded) {
    const path = `/v1/pros/${proId}/scores?from=2030-01&to=2030-12`;
    const call = async () => {
      const res = await app.request(path, { headers: { Authorization: `Bearer ${secret}` } });
      if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
      return (await res.json()) as { periods: { responses: number }[] };
    };
    const body = await call(); // warm-up, and a check that every released response is counted
    const counted = body.periods.reduce((sum, p) => sum + p.responses, 0);
    const waiting = await pooled(deps.db, agency.agencyId, proId);
    if (counted + waiting !== count) throw new Error(`expected ${count - waiting} released responses in the scores, found ${counted}`);
    const latencies: number[] = [];
    meter.reset();
    const runs = 50;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await call();
      latencies.push(performance.now() - t0);
    }
    const { units, calls } = meter.read();
    results.push({ count, rcu: units / runs, calls: calls / runs, p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) });
  }
  deps.db.client.destroy();
  const scenario = 'scores';
  const medium = results.find((r) => r.count === 1_000)!;
  return results.flatMap(({ count, rcu, calls, p50, p95 }): Figure[] => {
    const label = `${count.toLocaleString('en')} responses`;
    const vsMedium = count > medium.count;
    return [
      {
        scenario,
        name: `GET scores, 12 months, ${label}: read units`,
        value: rcu,
        unit: 'RCU',
        ...(vsMedium ? { floor: { name: '1,000 responses', value: medium.rcu }, ratio: rcu / medium.rcu, budget: { on: 'ratio' as const, max: 1 } } : {}),
        note: `${calls.toFixed(0)} calls a read`,
      },
      { scenario, name: `GET scores, 12 months, ${label}: p50`, value: p50, unit: 'ms', ...(vsMedium ? { floor: { name: '1,000 responses', value: medium.p50 }, ratio: p50 / medium.p50 } : {}) },
      { scenario, name: `GET scores, 12 months, ${label}: p95`, value: p95, unit: 'ms' },
    ];
  });
}
