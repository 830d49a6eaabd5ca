/**
 * The recovery sweep putting cut-off sends back in the queue while a cancel, a close now or a pro's
 * erasure runs (issue 16: the sender reads nothing of the round after its claim, and a warm worker
 * keeps the round it sent from). Generated: which invitations were cut off mid-send (SES's answer
 * lost: `sending`, no record), which are pending, where the stop pauses (before its Nth write)
 * while the sweep runs, and whether the jobs the sweep queued run then or after the answer. The
 * promise: after the answer, the only first emails are those it counted in flight.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { collectingQueue, faultyDb, isolatedTestDeps, sesEmails } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { createCampaign } from '../campaign/campaign';
import { MailerError, type Mailer } from '../email/mailer';
import { createPro } from '../pro/pro';
import { erasePro } from '../rights/pro-erasure';
import type { DeliveryDeps } from '../sending/deliver';
import { deliver } from '../sending/dispatch';
import type { SendJob } from '../sending/queue';
import { openInvitation } from '../survey/response';
import { cancelRound, createRound, getRound } from '../survey/round';
import { closeRoundNow } from './expiry';
import { recoverSends } from './recovery';

const { db, linkSecret, mailer, records } = await isolatedTestDeps();
afterAll(() => db.client.destroy());
const MINUTE = 60_000;
const worker = (through: Mailer = mailer, now = () => new Date()): DeliveryDeps => ({ db, mailer: through, linkSecret, publicUrl: 'http://localhost:3000', mailFrom: 'surveys@rapport.example', now, retry: { attempts: 1, baseDelayMs: 1 } });
/** SES's answer lost: it may have taken the email, so the invitation stays `sending` until its lease runs out. */
const answerLost: Mailer = { send: async () => Promise.reject(new MailerError('socket hang up', 'NetworkingError', true, undefined, false)) };

type Stop = 'cancel' | 'close now' | "the pro's erasure";
const scenario = fc.record({
  stop: fc.constantFrom<Stop>('cancel', 'close now', "the pro's erasure"),
  pauseAt: fc.integer({ min: 1, max: 5 }),
  plans: fc.array(fc.constantFrom('cut off', 'pending'), { minLength: 1, maxLength: 4 }),
  runQueuedDuring: fc.boolean(),
});

let n = 0;
describe('the recovery sweep while a round is stopped (property)', () => {
  it('after a cancel, a close now or a pro’s erasure answers, no invitation the sweep put back in the queue is emailed unless counted in flight', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ stop, pauseAt, plans, runQueuedDuring }) => {
        const now = new Date();
        const tag = `sweep-stop-${++n}-${now.getTime()}`;
        const agency = await createAgency(db, { name: `Sweep ${tag}` }, now);
        const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, now);
        const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring' }, now);
        const emails = [`warm-${tag}@news.example`, ...plans.map((_, i) => `r${i}-${tag}@news.example`)];
        const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients: emails.map((email) => ({ email, audience: 'reporter' })) }, now);
        const jobs = accepted.map((i) => ({ kind: 'invitation' as const, roundId: round.roundId, invitationId: i.invitationId }));
        // A warm worker: it keeps the round.
        expect(await deliver(worker(), jobs[0]!)).toBe('sent');
        for (const [i, plan] of plans.entries()) if (plan === 'cut off') expect(await deliver(worker(answerLost), jobs[i + 1]!)).toBe('in-doubt');

        const queued: SendJob[] = [];
        const later = new Date(Date.now() + 20 * MINUTE);
        const during = async () => {
          const queue = collectingQueue();
          await recoverSends({ db, queue, records }, later);
          queued.push(...queue.jobs);
          if (runQueuedDuring) for (const job of queued.splice(0)) await deliver(worker(), job);
        };
        const faulty = faultyDb(db);
        let ran = false;
        faulty.beforeWrite(pauseAt, async () => {
          ran = true;
          await during();
        });
        const answer =
          stop === 'cancel'
            ? await cancelRound(faulty.db, agency.agencyId, round.roundId)
            : stop === 'close now'
              ? await closeRoundNow(faulty.db, agency.agencyId, round.roundId, new Date())
              : (await erasePro(faulty.db, agency.agencyId, pro.proId, new Date()), await getRound(db, agency.agencyId, round.roundId, { consistent: true }));
        faulty.disarm();
        const mine = async () => (await sesEmails()).filter((e) => emails.some((address) => e.destination.to.some((to) => to.includes(address))));
        const before = (await mine()).length;
        if (!ran) await during();
        for (const job of queued) await deliver(worker(), job);
        for (const job of jobs) await deliver(worker(), job);
        // The sweep again, after every lease ran out: what it queues is sent too.
        const queue = collectingQueue();
        await recoverSends({ db, queue, records }, new Date(Date.now() + 60 * MINUTE));
        for (const job of queue.jobs) await deliver(worker(), job);
        expect((await mine()).length - before).toBeLessThanOrEqual(answer.counts.sending);
        const statuses = await Promise.all(jobs.map(async (job) => (await openInvitation(db, job, { consistent: true })).invitation.status));
        expect(statuses).not.toContain('pending');
      }),
      { numRuns: Number(process.env.SWEEP_STOP_RUNS ?? 12), endOnFailure: true },
    );
  }, 300_000);
});
