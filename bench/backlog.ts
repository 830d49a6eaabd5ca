/**
 * Benchmark: draining a backlog of invitations, as invitations sent per second against the
 * configured sending rate (the ratio is what to compare; 1.00 is the rate kept exactly).
 * In virtual time (packages/testing/src/virtual-time.ts): a backlog waiting 4,000 s of the system's
 *   clock, the scheduled job every 5 minutes re-queueing what waits longer than its lease; the
 *   mailer is a counting stub behind the real pacing. What re-queues cost the rate, and how often
 *   each invitation is queued. `BACKLOG_SIZE` (default 5,000; 20,000 is the figure, and
 *   takes several minutes of real time on 2 cores). The rate kept in real time, through the local
 *   SES server, is the pipeline scenario's (`bench/pipeline.ts`).
 */
import { ensureTable, type Mailer } from '@rapport/core';
import { createDeps, type Deps } from '@rapport/functions';
import { seedBacklog, statusCounts, virtualSender } from '@rapport/testing/virtual-time';
import type { Figure } from './figures';

export interface DrainResult {
  label: string;
  count: number;
  rate: number;
  seconds: number;
  /** Invitations sent per second ÷ the configured rate. */
  ratio: number;
  /** Times each invitation was queued (virtual run only). */
  enqueues?: { mean: number; max: number };
  realSeconds: number;
}

async function freshDeps(config: Deps['config'], table: string, overrides: Parameters<typeof createDeps>[1] = {}) {
  const deps = createDeps({ ...config, table }, overrides);
  await ensureTable(deps.db.client, table);
  return deps;
}

async function assertAllSent(deps: Deps, rounds: { roundId: string; size: number }[]) {
  for (const round of rounds) {
    const counts = await statusCounts(deps.db, round.roundId);
    if (counts.sent !== round.size) throw new Error(`backlog: round ${round.roundId} ended ${JSON.stringify(counts)}`);
  }
}

export async function benchVirtualDrain(config: Deps['config'], log: (line: string) => void): Promise<DrainResult> {
  const count = Number(process.env.BACKLOG_SIZE ?? 5_000);
  const rate = count / 4_000;
  const deps = await freshDeps(config, `rapport-bench-backlog-${Date.now()}`);
  const counting: Mailer = { send: async (message) => ({ messageId: `bench-${message.to.address}` }) };
  const start = new Date('2026-03-02T09:00:00Z');
  const t0 = performance.now();
  const { vt, queue, sentAt } = virtualSender({ deps, mailer: counting, ratePerSecond: rate, startMs: start.getTime() });
  const { rounds, jobs } = await seedBacklog(deps.db, count, start);
  await queue.enqueue(jobs);
  await vt.runUntil(() => sentAt.size === count, 2 * 4_000_000);
  const seconds = (Math.max(...sentAt.values()) - start.getTime()) / 1000;
  await assertAllSent(deps, rounds);
  deps.db.client.destroy();
  const enqueues = [...queue.enqueued.values()];
  const realSeconds = (performance.now() - t0) / 1000;
  log(`virtual time: ${count} sent in ${seconds.toFixed(0)} s of the system's clock, ${realSeconds.toFixed(0)} s of real time`);
  return {
    label: 'virtual time, sweep every 5 min',
    count,
    rate,
    seconds,
    ratio: (count - 1) / seconds / rate,
    enqueues: { mean: enqueues.reduce((a, b) => a + b, 0) / enqueues.length, max: Math.max(...enqueues) },
    realSeconds,
  };
}

/** The scenario's figures: each drain's rate against the configured one (at least 1 ÷ 1.1 of it). */
export async function benchBacklog(config: Deps['config'], log: (line: string) => void): Promise<Figure[]> {
  const drains = [await benchVirtualDrain(config, log)];
  return drains.map((r) => ({
    scenario: 'backlog',
    name: `backlog drain, ${r.label}, ${r.count.toLocaleString('en')} invitations`,
    value: (r.count - 1) / r.seconds,
    unit: 'emails/s',
    floor: { name: 'the configured rate', value: r.rate },
    ratio: r.ratio,
    budget: { on: 'ratio', min: 1 / 1.1 },
    ...(r.enqueues ? { note: `queued ${r.enqueues.mean.toFixed(2)}× per invitation on average, ${r.enqueues.max}× at most; ${r.realSeconds.toFixed(0)} s of real time` } : {}),
  }));
}
