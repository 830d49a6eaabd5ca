import { afterAll, describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { faultyDb, isolatedTestDeps, itemsHolding, workerAt } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { keys } from '../db/keys';
import { closeRound } from '../jobs/expiry';
import { createCampaign } from '../campaign/campaign';
import { createPro } from '../pro/pro';
import { deliver } from '../sending/dispatch';
import { cancelRound, createRound } from '../survey/round';
import { eraseAddress } from './erasure';

/** Attacks on the erasure's last step (`unlinkInvitation`, which moves the invitation to a random id) from writers naming the old id. */
const { db, linkSecret, mailer } = await isolatedTestDeps();
afterAll(() => db.client.destroy());

let n = 0;
async function roundOfTwo(at: Date, { delivered }: { delivered: boolean }) {
  const tag = `unlink-${++n}-${at.getTime()}`;
  const agency = await createAgency(db, { name: `Unlink races ${tag}` }, at);
  const pro = await createPro(db, agency.agencyId, { name: 'Pat Pro', email: `pat-${tag}@agency.example` }, at);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, at);
  const person = { email: `jane.${tag}@outlet.example`, name: `Jane Target ${tag}`, outlet: `Target Gazette ${tag}` };
  const recipients = [person, { email: `other-${tag}@outlet.example` }].map((r) => ({ ...r, audience: 'reporter' as const }));
  const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { attribution: 'anonymous', recipients }, at);
  if (delivered) for (const i of accepted) await deliver(workerAt({ db, mailer, linkSecret }, at), { kind: 'invitation', roundId: round.roundId, invitationId: i.invitationId });
  return { agencyId: agency.agencyId, roundId: round.roundId, person, needles: [person.email, person.name, person.outlet] };
}

async function statuses(roundId: string): Promise<string[]> {
  const { Items = [] } = await db.doc.send(new QueryCommand({ TableName: db.table, KeyConditionExpression: 'PK = :pk AND begins_with(SK, :inv)', ExpressionAttributeValues: { ':pk': keys.round(roundId).PK, ':inv': 'INV#' }, ConsistentRead: true }));
  return Items.map((i) => i.status as string).sort();
}

describe('an erasure while a round closes', () => {
  it('leaves no invitation of the closed round pending or sent, whichever write of the close the erasure (and its move) comes before: a close that missed the moved invitation keeps the round open for its next run', async () => {
    for (const delivered of [false, true]) {
      for (let nth = 1; ; nth++) {
        const t0 = new Date();
        const { agencyId, roundId, person, needles } = await roundOfTwo(t0, { delivered });
        const faulty = faultyDb(db);
        let erased = false;
        faulty.beforeWrite(nth, () => eraseAddress(db, agencyId, { email: person.email }, 'key_test', t0).then(() => (erased = true)));
        let closed = await closeRound(faulty.db, roundId, t0);
        if (!erased) {
          faulty.disarm();
          expect(nth, `delivered ${delivered}`).toBeGreaterThan(2);
          break;
        }
        const at = `erasure before write ${nth} of the close, delivered ${delivered}`;
        // A close that found a send in flight is run again by the next sweep.
        for (let run = 0; !closed && run < 3; run++) closed = await closeRound(db, roundId, t0);
        expect(closed, at).toBe(true);
        expect(await statuses(roundId), at).toEqual(delivered ? ['expired', 'expired'] : ['skipped', 'skipped']);
        expect(await itemsHolding(db, needles), at).toEqual([]);
      }
    }
  });
});

describe('an erasure while a round is cancelled', () => {
  it('leaves no invitation of the cancelled round pending, whichever write of the cancel the erasure (and its move) comes before', async () => {
    for (let nth = 1; ; nth++) {
      const t0 = new Date();
      const { agencyId, roundId, person, needles } = await roundOfTwo(t0, { delivered: false });
      const faulty = faultyDb(db);
      let erased = false;
      faulty.beforeWrite(nth, () => eraseAddress(db, agencyId, { email: person.email }, 'key_test', t0).then(() => (erased = true)));
      const cancelled = await cancelRound(faulty.db, agencyId, roundId);
      if (!erased) {
        faulty.disarm();
        expect(nth).toBeGreaterThan(2);
        break;
      }
      const at = `erasure before write ${nth} of the cancel`;
      expect(await statuses(roundId), at).toEqual(['skipped', 'skipped']);
      expect(cancelled.counts, at).toMatchObject({ pending: 0, sending: 0, skipped: 2 });
      expect(await itemsHolding(db, needles), at).toEqual([]);
    }
  });
});
