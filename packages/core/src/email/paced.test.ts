import { describe, expect, it } from 'vitest';
import { sesEmails, testConfig, testDeps } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { createRound } from '../survey/round';
import { deliver } from '../sending/deliver';
import { createSesMailer, type Mailer } from './mailer';
import type { OutgoingEmail } from './compose';
import { pacedMailer } from './paced';

/**
 * A clock the test moves: `sleep` moves it to the time it wakes at. Sleepers wake in the order
 * of their times (on real timers, a hundred times faster), each send starting before the next
 * sleeper wakes.
 */
function fakeClock(start: number) {
  const clock = { now: start, sleeps: [] as number[] };
  return {
    clock,
    now: () => clock.now,
    sleep: (ms: number) => {
      clock.sleeps.push(ms);
      const wake = clock.now + ms;
      return new Promise<void>((resolve) =>
        setTimeout(() => {
          clock.now = Math.max(clock.now, wake);
          resolve();
        }, ms / 100),
      );
    },
  };
}

/** Records when each message reached it, on the fake clock. */
function recordingMailer(now: () => number): Mailer & { startedAt: number[] } {
  const startedAt: number[] = [];
  return { startedAt, send: async () => (startedAt.push(now()), { messageId: `m-${startedAt.length}` }) };
}

const message = { to: { address: 'someone@news.example' } } as OutgoingEmail;

describe('the paced mailer', () => {
  it('starts sends asked for at once 1/rate apart, in the order asked', async () => {
    const { clock, now, sleep } = fakeClock(1_000);
    const inner = recordingMailer(now);
    const paced = pacedMailer(inner, { ratePerSecond: 10, now, sleep });
    const ids = await Promise.all(Array.from({ length: 4 }, () => paced.send(message)));
    expect(inner.startedAt).toEqual([1_000, 1_100, 1_200, 1_300]);
    expect(clock.sleeps).toEqual([100, 200, 300]);
    expect(ids.map((r) => r.messageId)).toEqual(['m-1', 'm-2', 'm-3', 'm-4']);
  });

  it('does not save idle time up for a burst: after a quiet spell, sends are still 1/rate apart', async () => {
    const { clock, now, sleep } = fakeClock(0);
    const inner = recordingMailer(now);
    const paced = pacedMailer(inner, { ratePerSecond: 2, now, sleep });
    await paced.send(message);
    clock.now = 60_000;
    await Promise.all([paced.send(message), paced.send(message)]);
    // A send a whole gap after the last starts at once.
    clock.now = 61_000;
    await paced.send(message);
    expect(inner.startedAt).toEqual([0, 60_000, 60_500, 61_000]);
    expect(clock.sleeps).toEqual([500]);
  });

  it('costs no slot for a job that turns out to have nothing to send: only real SES calls are paced', async () => {
    const { clock, now, sleep } = fakeClock(0);
    const config = testConfig();
    const { db, linkSecret } = testDeps();
    const at = new Date();
    const tag = `paced-${at.getTime()}`;
    const agency = await createAgency(db, { name: `Paced ${tag}` }, at);
    const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, at);
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, at);
    const emails = [`a-${tag}@news.example`, `b-${tag}@news.example`];
    const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients: emails.map((email) => ({ email, audience: 'reporter' })) }, at);
    const [a, b] = accepted.map((i) => ({ kind: 'invitation' as const, roundId: round.roundId, invitationId: i.invitationId }));
    // One SES call a second, on the fake clock, which stands still unless a send waits.
    const mailer = pacedMailer(createSesMailer({ region: config.region, endpoint: config.sesEndpoint }), { ratePerSecond: 1, now, sleep });
    const deps = { db, mailer, linkSecret, publicUrl: config.publicUrl, mailFrom: config.mailFrom, now: () => at };

    expect(await deliver(deps, a!)).toBe('sent');
    // The same job three times more (duplicates, or a re-queue of a sent invitation): no SES call, no wait.
    for (let i = 0; i < 3; i++) expect(await deliver(deps, a!)).toBe('not-due');
    expect(clock.sleeps).toEqual([]);
    // The next real send waits one gap only, as if the duplicates had not been there.
    expect(await deliver(deps, b!)).toBe('sent');
    expect(clock.sleeps).toEqual([1_000]);
    for (const email of emails) expect(await sesEmails({ to: email })).toHaveLength(1);
  });
});
