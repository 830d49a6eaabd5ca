/**
 * A round stopped while it is being created (issue 16: the sender reads nothing of the round after
 * its claim, and a warm worker keeps the round it read). Generated: the stop (a cancel, a close
 * now, the pro's erasure) lands just before the creation's Nth write, after a worker read the
 * round; the creation then writes the rest. The promise: nothing is emailed after the stop
 * answered (no worker held a claim), and nothing of an erased pro at all.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { faultyDb, sesEmails, testConfig, testDeps } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { createCampaign } from '../campaign/campaign';
import { createSesMailer } from '../email/mailer';
import { closeRoundNow } from '../jobs/expiry';
import { createPro } from '../pro/pro';
import { erasePro } from '../rights/pro-erasure';
import type { DeliveryDeps } from '../sending/deliver';
import { deliver } from '../sending/dispatch';
import { roundForSending } from '../sending/survey-email';
import { hashedId } from '../shared/ids';
import { cancelRound, createRound, getRound } from './round';

const config = testConfig();
const { db, linkSecret } = testDeps();
const worker: DeliveryDeps = { db, mailer: createSesMailer({ region: config.region, endpoint: config.sesEndpoint }), linkSecret, publicUrl: config.publicUrl, mailFrom: config.mailFrom, now: () => new Date() };

type Stop = 'cancel' | 'close now' | "the pro's erasure";
let n = 0;
describe('a round stopped while being created (property)', () => {
  it('emails no one after the stop answered, whichever write of the creation it lands before, to a worker that read the round first', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom<Stop>('cancel', 'close now', "the pro's erasure"), fc.boolean(), fc.integer({ min: 2, max: 22 }), async (stop, known, at) => {
        const now = new Date();
        const tag = `mid-create-${++n}-${now.getTime()}`;
        const agency = await createAgency(db, { name: `Creating ${tag}` }, now);
        const proEmail = `jane-${tag}@acme.example`;
        const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: proEmail }, now);
        const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring' }, now);
        const emails = Array.from({ length: 10 }, (_, i) => `r${i}-${tag}@news.example`);
        const recipients = emails.map((email) => ({ email, audience: 'reporter' }));
        // Its writes: the round, the touch of its WORK item, then for new addresses one batch of
        // reservations and one of invitations (writes 3 and 4); for addresses with a state (a round
        // cancelled before gave their dates back), each one's reservation and invitation (writes 3 to 22).
        if (known) await cancelRound(db, agency.agencyId, (await createRound(db, agency.agencyId, campaign.campaignId, { recipients }, now)).round.roundId);
        const nth = known ? at : 2 + (at % 3);
        const idempotencyKey = `key-${tag}`;
        const roundId = hashedId('rnd', agency.agencyId, idempotencyKey);
        const faulty = faultyDb(db);
        let answeredAt: number | undefined;
        faulty.beforeWrite(nth, async () => {
          await roundForSending(db, roundId);
          const answer =
            stop === 'cancel'
              ? await cancelRound(db, agency.agencyId, roundId)
              : stop === 'close now'
                ? await closeRoundNow(db, agency.agencyId, roundId, new Date())
                : (await erasePro(db, agency.agencyId, pro.proId, new Date()), await getRound(db, agency.agencyId, roundId, { consistent: true }));
          expect(answer.counts.sending).toBe(0);
          answeredAt = Date.now();
        });
        const created = await createRound(faulty.db, agency.agencyId, campaign.campaignId, { recipients }, now, { idempotencyKey });
        faulty.disarm();
        expect(answeredAt).toBeDefined();
        await Promise.all(created.accepted.map((i) => deliver(worker, { kind: 'invitation', roundId, invitationId: i.invitationId })));
        const sent = (await sesEmails()).filter((e) => emails.some((address) => e.destination.to.some((to) => to.includes(address))));
        expect(sent).toEqual([]);
      }),
      { numRuns: Number(process.env.MID_CREATE_RUNS ?? 12), endOnFailure: true },
    );
  }, 300_000);
});
