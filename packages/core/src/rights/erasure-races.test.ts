import { afterAll, describe, expect, it } from 'vitest';
import { collectingQueue, faultyDb, isolatedTestDeps, itemsHolding, sesEmails, workerAt } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { submitResponse } from '../survey/response';
import { createWebhook } from '../webhooks/endpoints';
import { sweepWebhooks } from '../webhooks/events';
import { createCampaign } from '../campaign/campaign';
import { createPro } from '../pro/pro';
import { deliver } from '../sending/dispatch';
import { createRound } from '../survey/round';
import { eraseAddress } from './erasure';

/** Attacks on an erasure from writers running alongside it: nothing of the person may be written after it answered. */
const { db, linkSecret, mailer } = await isolatedTestDeps();
afterAll(() => db.client.destroy());

let n = 0;
/** An agency, pro and campaign; `person` has strings unique to the test. */
async function agencyWithCampaign(at: Date) {
  const tag = `race-${++n}-${at.getTime()}`;
  const agency = await createAgency(db, { name: `Erasure races ${tag}` }, at);
  const pro = await createPro(db, agency.agencyId, { name: 'Pat Pro', email: `pat-${tag}@agency.example` }, at);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, at);
  const person = { email: `Jane.${tag}@Outlet.example`, name: `Jane Target ${tag}`, outlet: `Target Gazette ${tag}` };
  return { agencyId: agency.agencyId, campaignId: campaign.campaignId, person, tag, needles: [person.email, person.name, person.outlet] };
}

describe('an erasure while a round for the address is being created', () => {
  it('leaves no copy of the address, name or outlet and emails nobody, whichever write of the creation it comes before (accepted, or skipped as throttled)', async () => {
    for (const surveyedBefore of [false, true]) {
      for (let nth = 1; ; nth++) {
        const t0 = new Date();
        const { agencyId, campaignId, person, tag, needles } = await agencyWithCampaign(t0);
        const other = { email: `other-${tag}@outlet.example`, audience: 'reporter' as const };
        // Surveyed a moment ago: the new round skips the address as throttled, and stores that record.
        if (surveyedBefore) await createRound(db, agencyId, campaignId, { recipients: [{ ...person, audience: 'reporter' }] }, t0);
        const faulty = faultyDb(db);
        let erased = false;
        faulty.beforeWrite(nth, () => eraseAddress(db, agencyId, { email: person.email }, 'key_test', t0).then(() => (erased = true)));
        const { round, accepted } = await createRound(faulty.db, agencyId, campaignId, { recipients: [{ ...person, audience: 'reporter' }, other] }, t0);
        if (!erased) {
          // The creation made fewer writes than that: every position was tried.
          faulty.disarm();
          expect(nth, `surveyedBefore ${surveyedBefore}`).toBeGreaterThan(3);
          break;
        }
        for (const i of accepted) await deliver(workerAt({ db, mailer, linkSecret }, t0), { kind: 'invitation', roundId: round.roundId, invitationId: i.invitationId });
        expect(await itemsHolding(db, needles), `erasure before write ${nth}, surveyedBefore ${surveyedBefore}`).toEqual([]);
        expect(JSON.stringify(accepted).toLowerCase(), `write ${nth}`).not.toContain(person.email.toLowerCase());
        expect(await sesEmails({ to: person.email }), `write ${nth}`).toEqual([]);
      }
    }
  });
});

const answers = (improve: string) => ({ responsiveness: 5, recommend: 10, listening: 4, improve, quoteConsent: true });

describe('an erasure while webhook events are fanned out', () => {
  it('leaves no delivery holding the address, name or comment, whichever write of the fan-out it comes before', async () => {
    for (let nth = 1; ; nth++) {
      const t0 = new Date();
      const { agencyId, campaignId, person, tag, needles } = await agencyWithCampaign(t0);
      for (const events of [['response.created'], ['response.created', 'round.closed']]) {
        await createWebhook(db, agencyId, { url: 'http://127.0.0.1:9/hook', events }, t0, { allowLoopback: true });
      }
      const { round, accepted } = await createRound(db, agencyId, campaignId, { attribution: 'named', recipients: [{ ...person, audience: 'reporter' }] }, t0);
      const comment = `Comment of the erased ${tag}`;
      await submitResponse(db, { roundId: round.roundId, invitationId: accepted[0]!.invitationId }, answers(comment), t0);
      const faulty = faultyDb(db);
      let erased = false;
      faulty.beforeWrite(nth, () => eraseAddress(db, agencyId, { email: person.email }, 'key_test', t0).then(() => (erased = true)));
      await sweepWebhooks(faulty.db, collectingQueue(), new Date(t0.getTime() + 1000));
      if (!erased) {
        faulty.disarm();
        expect(nth).toBeGreaterThan(2);
        break;
      }
      expect(await itemsHolding(db, [...needles, comment]), `erasure before write ${nth}`).toEqual([]);
    }
  });
});
