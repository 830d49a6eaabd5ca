import { afterAll, describe, expect, it } from 'vitest';
import { isolatedTestDeps } from '@rapport/testing';
import { createAgency, updateSettings } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { createRound, listInvitations } from '../survey/round';
import { addDays } from '../shared/time';
import { closeRound } from '../jobs/expiry';
import { runRetention } from './retention';

/** The pass reads the whole retention due index: a table of its own. */
const { db } = await isolatedTestDeps();
afterAll(() => db.client.destroy());

describe('retention (the scheduled job, hourly)', () => {
  it("works through an agency's backlog in one run, pass after pass (5 rounds a pass), as the job did in an hour of 5-minute runs", async () => {
    const t0 = new Date('2030-01-07T09:00:00.000Z');
    const agency = await createAgency(db, { name: 'Retention backlog' }, t0);
    const pro = await createPro(db, agency.agencyId, { name: 'Jo Pro', email: 'jo@retention.example' }, t0);
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Old news' }, t0);
    const rounds = [];
    for (let r = 0; r < 12; r++) {
      const recipients = [0, 1].map((i) => ({ email: `r${r}-${i}@retention.example`, name: `Reporter ${r}-${i}`, outlet: 'The Gazette', audience: 'reporter' as const }));
      const { round } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients }, addDays(t0, r * 20));
      expect(await closeRound(db, round.roundId, addDays(t0, r * 20 + 14))).toBe(true);
      rounds.push(round);
    }
    await updateSettings(db, agency.agencyId, { retention: { identitiesMonths: 6 } }, addDays(t0, 240));

    // A year after the last round: all 12 are older than 6 months, three passes' worth.
    const at = addDays(t0, 240 + 365);
    expect(await runRetention(db, at)).toEqual({ retentionAgencies: 1, commentsRemoved: 0, identitiesErased: 24 });
    for (const round of rounds) {
      const { items } = await listInvitations(db, round.roundId, { limit: 10 });
      // Erased as an erasure erases: no address, name or outlet left.
      expect(items.map((i) => [i.email, i.name, i.outlet])).toEqual([
        ['', null, null],
        ['', null, null],
      ]);
    }
    // Done: due again in a day, so the next run reads only the due index.
    expect(await runRetention(db, at)).toEqual({ retentionAgencies: 0, commentsRemoved: 0, identitiesErased: 0 });
  });
});
