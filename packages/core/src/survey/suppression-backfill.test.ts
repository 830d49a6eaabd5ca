import { describe, expect, it } from 'vitest';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { isolatedTestDeps } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { keys } from '../db/keys';
import { addressHash } from './address';
import { createRound } from './round';
import { indexSuppressions } from './suppression-backfill';

// A table of its own: the backfill reads every agency's list.
const { db } = await isolatedTestDeps();
const T0 = new Date('2031-05-04T10:00:00.000Z');

/** An agency with a round of `emails`, not sent yet; `invitation(email)` is its key. */
async function agencyRound(emails: string[], tag: string) {
  const agency = await createAgency(db, { name: `Backfill ${tag}` }, T0);
  const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, T0);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, T0);
  const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients: emails.map((email) => ({ email, audience: 'reporter' as const })) }, T0);
  const invitation = (email: string) => keys.invitation(round.roundId, accepted.find((i) => i.email === email)!.invitationId);
  return { agencyId: agency.agencyId, invitation };
}

const get = async (key: Record<string, string>) => (await db.doc.send(new GetCommand({ TableName: db.table, Key: key, ConsistentRead: true }))).Item;

describe('admin index-suppressions', () => {
  it('enforces a listed suppression written before enforcement: the pending invitations of every agency that surveyed the address are skipped (found by their recipient states); a second run changes nothing', async () => {
    const tag = `${Date.now()}`;
    const email = `bounced-${tag}@news.example`;
    const a = await agencyRound([email], `${tag}-a`);
    const b = await agencyRound([email], `${tag}-b`);
    // A global bounce agency a's list holds, written before suppressions were enforced where written.
    await db.doc.send(
      new PutCommand({ TableName: db.table, Item: { ...keys.suppressionListing(a.agencyId, email, 'global'), type: 'suppressionListing', email, reason: 'bounced', scope: 'global', at: T0.toISOString() } }),
    );
    expect([(await get(a.invitation(email)))!.status, (await get(b.invitation(email)))!.status]).toEqual(['pending', 'pending']);
    // Each agency's state of the address sits beside its suppressions: the global one finds both.
    const hash = addressHash(email);
    expect([await get(keys.recipientState(a.agencyId, hash)), await get(keys.recipientState(b.agencyId, hash))].map((state) => state?.PK)).toEqual([`SUP#${hash}`, `SUP#${hash}`]);

    expect(await indexSuppressions(db, T0, [a.agencyId, b.agencyId])).toEqual({ enforced: 1 });
    for (const invitation of [a.invitation(email), b.invitation(email)]) {
      const skipped = (await get(invitation))!;
      expect(skipped).toMatchObject({ status: 'skipped', suppressedAt: T0.toISOString() });
      expect(skipped.checkAt).toBeUndefined();
    }

    expect(await indexSuppressions(db, T0, [a.agencyId, b.agencyId])).toEqual({ enforced: 1 });
    expect((await get(b.invitation(email)))!.status).toBe('skipped');
  });
});
