import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sesEmails, testConfig, testDeps } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { createRound } from '../survey/round';
import { deliver } from '../sending/dispatch';
import { createSesMailer, type Mailer } from './mailer';
import type { OutgoingEmail } from './compose';
import { createPacer, inSlot } from './paced';

/** Records each message it is handed. */
function recordingMailer(): Mailer & { sent: number } {
  const mailer = { sent: 0, send: async () => ({ messageId: `m-${++mailer.sent}` }) };
  return mailer;
}

const message = { to: { address: 'someone@news.example' } } as OutgoingEmail;

/** A clock the test moves by hand. */
const clock = (start: number) => {
  const c = { t: start, now: () => c.t };
  return c;
};

describe('the pacer', () => {
  it('starts no more than rate + burst SES calls in any second, whatever jobs take and give back (fast-check, a moved clock)', () => {
    const rate = 10;
    const step = fc.record({ wait: fc.integer({ min: 0, max: 1500 }), op: fc.constantFrom('take', 'noCall') });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), fc.constantFrom(0, 100), (steps, burstMs) => {
        const c = clock(1_000_000);
        const pacer = createPacer({ ratePerSecond: rate, burstMs, now: c.now });
        // Each job holding a slot: when its SES call starts; a job that makes none gives its slot back once its slot has come.
        const calls: number[] = [];
        for (const { wait, op } of steps) {
          c.t += wait;
          if (op === 'take' && pacer.take() === 0) calls.push(c.t);
          if (op === 'noCall') {
            const i = calls.findLastIndex((at) => at <= c.t);
            if (i >= 0) {
              calls.splice(i, 1);
              pacer.giveBack();
            }
          }
        }
        const sorted = [...calls].sort((a, b) => a - b);
        const burst = Math.max(1, Math.floor((burstMs * rate) / 1000));
        for (const [i, start] of sorted.entries()) {
          const inSecond = sorted.slice(i).filter((at) => at < start + 1000).length;
          expect(inSecond).toBeLessThanOrEqual(rate + burst);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('hands out slots 1/rate apart, in the order asked: a job asking early is told how long until its slot, and takes nothing', () => {
    const c = clock(1_000);
    const pacer = createPacer({ ratePerSecond: 10, now: c.now });
    const starts: number[] = [];
    // A queue asking again when told: four jobs ready at once.
    while (starts.length < 4) {
      const wait = pacer.take();
      if (wait === 0) starts.push(c.t);
      else c.t += wait;
    }
    expect(starts).toEqual([1_000, 1_100, 1_200, 1_300]);
    // Asking early takes nothing: the slot after 1,300 is still at 1,400.
    c.t = 1_350;
    expect(pacer.take()).toBe(50);
    expect(pacer.take()).toBe(50);
  });

  it('does not save idle time up for a burst: after a quiet spell, slots are still 1/rate apart', () => {
    const c = clock(0);
    const pacer = createPacer({ ratePerSecond: 2, now: c.now });
    expect(pacer.take()).toBe(0);
    c.t = 60_000;
    expect([pacer.take(), pacer.take()]).toEqual([0, 500]);
    // A job a whole gap after the last starts at once.
    c.t = 60_500;
    expect(pacer.take()).toBe(0);
    expect(pacer.take()).toBe(500);
  });

  it('lets at most `burstMs` worth of slots be due at once', () => {
    const c = clock(0);
    const pacer = createPacer({ ratePerSecond: 100, burstMs: 100, now: c.now });
    const now = Array.from({ length: 12 }, () => pacer.take());
    expect(now).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 10]);
    c.t = 10_000;
    expect(Array.from({ length: 11 }, () => pacer.take()).filter((w) => w === 0)).toHaveLength(10);
  });

  it('charges a second SES call of one job to the next slot, without waiting', async () => {
    const c = clock(0);
    const pacer = createPacer({ ratePerSecond: 1, now: c.now });
    const inner = recordingMailer();
    expect(pacer.take()).toBe(0);
    await inSlot(pacer, inner, async (mailer) => {
      await mailer.send(message);
      await mailer.send(message);
    });
    expect(inner.sent).toBe(2);
    expect(pacer.take()).toBe(2_000);
  });

  it('costs no slot for a job that turns out to have nothing to send: only real SES calls are paced', async () => {
    const c = clock(0);
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
    // One SES call a second, on a clock that stands still: each job takes a slot, as a queue does, before it runs.
    const pacer = createPacer({ ratePerSecond: 1, now: c.now });
    const ses = createSesMailer({ region: config.region, endpoint: config.sesEndpoint });
    const deps = { db, linkSecret, publicUrl: config.publicUrl, mailFrom: config.mailFrom, now: () => at };
    const run = (job: typeof a) => inSlot(pacer, ses, (mailer) => deliver({ ...deps, mailer }, job!));

    expect(pacer.take()).toBe(0);
    expect(await run(a)).toBe('sent');
    // The same job three times more (duplicates, or a re-queue of a sent invitation), in the next
    // slot: no SES call, and each gives the slot back, so the next one runs in it too.
    expect(pacer.take()).toBe(1_000);
    c.t = 1_000;
    for (let i = 0; i < 3; i++) {
      expect(pacer.take()).toBe(0);
      expect(await run(a)).toBe('not-due');
    }
    // The next real send still has that slot, as if the duplicates had not been there; then one gap.
    expect(pacer.take()).toBe(0);
    expect(await run(b)).toBe('sent');
    expect(pacer.take()).toBe(1_000);
    for (const email of emails) expect(await sesEmails({ to: email })).toHaveLength(1);
  });
});
