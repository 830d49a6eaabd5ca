import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { isolatedTestDeps, seedBacklog, statusCounts, virtualSender } from '@rapport/testing';
import type { Deps } from '@rapport/functions';
import type { Mailer } from '../email/mailer';
import { LEASE_MS } from '../sending/deliver';

/**
 * Issue 11: a backlog far longer than a lease drains at the sending rate, and the rounds' checks
 * queues each waiting invitation again only a few times (the lease doubles), not every 5 minutes.
 * Real code (createRound, deliver, runScheduledJobs every 5 minutes, the pacer) on DynamoDB Local,
 * with a moved clock (packages/testing/src/virtual-time.ts). The property is queueing, not SES, so
 * the jobs send through a counting mailer rather than 20,000 times the shared SES server.
 *
 * Size: BACKLOG_SIZE invitations (default 1,000, so the suite stays quick on 2 cores;
 * `BACKLOG_SIZE=20000` runs the issue's figure), at BACKLOG_SIZE ÷ 4,000 s emails a second (0.25/s,
 * or 5/s at 20,000): the backlog always waits 4,000 s, well over four leases.
 */
const SIZE = Number(process.env.BACKLOG_SIZE ?? 1_000);
const DRAIN_SECONDS = 4_000;
const RATE = SIZE / DRAIN_SECONDS;

/**
 * Queued at most this often when sent `waitMs` after its round was created: the first time, then
 * once per lease run out. The k-th re-queue comes at least 15 min × (2^k − 1) after creation
 * (leases of 15, 30, 60, … minutes), so k ≤ log2(1 + wait / 15 min).
 */
const enqueueBound = (waitMs: number) => 1 + Math.floor(Math.log2(1 + waitMs / LEASE_MS));

describe(`a backlog of ${SIZE.toLocaleString('en')} invitations at ${RATE} emails a second (virtual time, counting mailer)`, () => {
  let deps: Deps;
  afterAll(() => deps?.db.client.destroy());

  it('drains in (count ÷ rate) × 1.1, each invitation queued a bounded number of times and emailed once', async () => {
    deps = await isolatedTestDeps();
    const start = new Date('2026-03-02T09:00:00Z');
    const received = new Map<string, number>();
    const counting: Mailer = {
      async send(message) {
        received.set(message.to.address, (received.get(message.to.address) ?? 0) + 1);
        return { messageId: `msg-${received.size}-${message.to.address}` };
      },
    };
    const { vt, queue, sentAt, outcomes } = virtualSender({ deps, mailer: counting, ratePerSecond: RATE, startMs: start.getTime() });

    // Written through createRound, as the API does (so leases are real), and queued as the route queues.
    const { rounds, jobs } = await seedBacklog(deps.db, SIZE, start);
    await queue.enqueue(jobs);

    await vt.runUntil(() => sentAt.size === SIZE, 2 * DRAIN_SECONDS * 1000);

    const drainedMs = Math.max(...sentAt.values()) - start.getTime();
    expect(drainedMs).toBeLessThanOrEqual((SIZE / RATE) * 1.1 * 1000);
    expect(received.size).toBe(SIZE);
    expect([...received.values()].every((n) => n === 1)).toBe(true);
    expect(outcomes.get('sent')).toBe(SIZE);

    // Each invitation queued at most 1 + ⌊log2(1 + wait / 15 min)⌋ times; 3 for the last ones (wait ≈ 66 min).
    for (const [invitationId, at] of sentAt) expect(queue.enqueued.get(invitationId)!).toBeLessThanOrEqual(enqueueBound(at - start.getTime()));
    expect(Math.max(...queue.enqueued.values())).toBe(enqueueBound(DRAIN_SECONDS * 1000));
    // Those sent within their first lease were queued once.
    expect(Math.min(...queue.enqueued.values())).toBe(1);

    // The database agrees: every invitation sent, none left leased (each looked at next for its first reminder).
    for (const round of rounds) {
      expect(await statusCounts(deps.db, round.roundId)).toEqual({ sent: round.size });
      const { Items = [] } = await deps.db.doc.send(
        new QueryCommand({ TableName: deps.db.table, KeyConditionExpression: 'PK = :pk AND begins_with(SK, :inv)', ExpressionAttributeValues: { ':pk': `RND#${round.roundId}`, ':inv': 'INV#' } }),
      );
      expect(Items.filter((i) => i.checkAt !== i.nextReminderAt)).toEqual([]);
    }
  }, 600_000);
});
