import { afterAll, describe, expect, it } from 'vitest';
import { createAgency, createCampaign, createPro, createRound, createSesMailer, listInvitations, type Invitation, type Mailer } from '@rapport/core';
import { isolatedTestDeps, sesEmails, virtualSender, type VirtualTime } from '@rapport/testing';
import type { Deps } from '../deps';

/** SES's answer to a call over the account's sending rate: code `Throttling`, HTTP 400. */
const throttlingError = () =>
  Object.assign(new Error('Maximum sending rate exceeded.'), { name: 'Throttling', $metadata: { httpStatusCode: 400, attempts: 1 } });

/**
 * Issue 11: SES throttling for a minute loses nothing and doubles nothing. The local SES server
 * cannot throttle, so a stub in front of it answers `Throttling` for 60 s of the system's clock
 * (virtual time, packages/testing/src/virtual-time.ts: the pacer's slots, the worker's backoff and
 * the queue's delays all run on it); the real worker, queue, sweep and SES server do the rest.
 * 200 recipients at 50 emails a second, the throttling from the 2nd second to the 62nd.
 */
describe('SES throttling for a minute (stub)', () => {
  let deps: Deps;
  afterAll(() => deps?.db.client.destroy());

  it('ends with every recipient emailed once and every invitation sent, the throttled ones after retries', async () => {
    deps = await isolatedTestDeps();
    const ses = createSesMailer({ region: deps.config.region, endpoint: deps.config.sesEndpoint });
    const start = new Date('2026-03-02T09:00:00Z');
    const [from, until] = [start.getTime() + 2_000, start.getTime() + 62_000];
    const throttled: number[] = [];
    let vt: VirtualTime;
    const throttling: Mailer = {
      async send(message) {
        const now = vt.now();
        if (now >= from && now < until) {
          throttled.push(now);
          throw throttlingError();
        }
        return ses.send(message);
      },
    };
    const sender = virtualSender({ deps, mailer: throttling, ratePerSecond: 50, startMs: start.getTime() });
    vt = sender.vt;

    const agency = await createAgency(deps.db, { name: 'Throttled' }, start);
    const pro = await createPro(deps.db, agency.agencyId, { name: 'Jane', email: 'jane@throttled.example' }, start);
    const campaign = await createCampaign(deps.db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, start);
    const tag = agency.agencyId.slice(3).toLowerCase();
    const recipients = Array.from({ length: 200 }, (_, i) => ({ email: `r${i}-${tag}@throttled.example`, audience: 'reporter' }));
    const { round, accepted } = await createRound(deps.db, agency.agencyId, campaign.campaignId, { recipients }, start);
    expect(accepted).toHaveLength(200);
    await sender.queue.enqueue(accepted.map((i) => ({ kind: 'invitation', roundId: round.roundId, invitationId: i.invitationId })));

    await sender.vt.runUntil(() => sender.sentAt.size === 200, 60 * 60_000);

    // The throttling lasted the minute, and everything SES took came before or after it.
    expect(Math.min(...throttled)).toBeLessThan(from + 1_000);
    expect(Math.max(...throttled)).toBeGreaterThan(until - 5_000);
    const sentAt = [...sender.sentAt.values()];
    // The first 2 s at 50 a second, then none during the minute, the other 100 after it.
    expect(sentAt.filter((t) => t < from)).toHaveLength(100);
    expect(sentAt.filter((t) => t >= from && t < until)).toEqual([]);
    expect(sentAt.filter((t) => t >= until)).toHaveLength(100);

    // Every recipient exactly once (the SES server's store), every invitation sent.
    const received = (await sesEmails({ to: tag })).map((e) => e.destination.to.join().toLowerCase());
    expect(received.sort()).toEqual(recipients.map((r) => r.email).sort());
    const invitations: Invitation[] = [];
    for (let cursor: string | null | undefined; cursor !== null; ) {
      const page = await listInvitations(deps.db, round.roundId, { limit: 100, ...(cursor ? { cursor } : {}) });
      invitations.push(...page.items);
      cursor = page.nextCursor;
    }
    expect(invitations.map((i) => i.status)).toEqual(Array(200).fill('sent'));
    // Those SES throttled went back to the queue (with backoff) and show it.
    const retried = invitations.filter((i) => (i.retries ?? 0) > 0);
    expect(retried).toHaveLength(100);
    for (const i of retried) expect(i.lastFailure).toBe('Throttling');
    // Each job holds a worker for its tries inside the worker (3, 0.5 s and 1 s apart), so with 4
    // workers a pass over the 100 takes about 40 s: two or three passes fit in the minute.
    expect(Math.max(...retried.map((i) => i.retries!))).toBeGreaterThanOrEqual(2);
    // And the backoff does not outlast the throttling by much (3.4 s in one run; the delays have jitter).
    expect(Math.max(...sentAt)).toBeLessThan(until + 30_000);
  }, 180_000);
});
