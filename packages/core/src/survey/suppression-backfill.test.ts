import { describe, expect, it } from 'vitest';
import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isolatedTestDeps } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { keys } from '../db/keys';
import { addressHash } from './address';
import { createRound } from './round';
import { suppress } from './suppression';
import { indexSuppressions } from './suppression-backfill';

// A table of its own: the backfill scans the whole table.
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
  it('marks the addresses an agency surveyed before the marks existed, so a bounce recorded since, and rerun, skips their pending invitations there; a second run changes nothing', async () => {
    const tag = `${Date.now()}`;
    const email = `bounced-${tag}@news.example`;
    const a = await agencyRound([email], `${tag}-a`);
    const b = await agencyRound([email], `${tag}-b`);
    const hash = addressHash(email);
    // Agency b surveyed the address before marks were written: no mark, and its state says so.
    await db.doc.send(new DeleteCommand({ TableName: db.table, Key: keys.surveyedBy(hash, b.agencyId) }));
    await db.doc.send(new UpdateCommand({ TableName: db.table, Key: keys.recipientState(b.agencyId, hash), UpdateExpression: 'REMOVE surveyedMarked' }));

    // A bounce of agency a's email: enforced where written, it cannot find agency b.
    await suppress(db, email, 'bounced', { global: true, agencyId: a.agencyId }, T0);
    expect([(await get(a.invitation(email)))!.status, (await get(b.invitation(email)))!.status]).toEqual(['skipped', 'pending']);

    const first = await indexSuppressions(db, T0, [a.agencyId, b.agencyId]);
    expect(first).toEqual({ marked: 1, enforced: 1 });
    expect(await get(keys.surveyedBy(hash, b.agencyId))).toMatchObject({ type: 'surveyedBy' });
    expect(await get(keys.recipientState(b.agencyId, hash))).toMatchObject({ surveyedMarked: true });
    const skipped = (await get(b.invitation(email)))!;
    expect(skipped).toMatchObject({ status: 'skipped', suppressedAt: T0.toISOString() });
    expect(skipped.checkAt).toBeUndefined();

    expect(await indexSuppressions(db, T0, [a.agencyId, b.agencyId])).toEqual({ marked: 0, enforced: 1 });
    expect((await get(b.invitation(email)))!.status).toBe('skipped');
  });
});
