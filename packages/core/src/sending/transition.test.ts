import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { testDeps } from '@rapport/testing';
import type { Db } from '../db/client';
import { createAgency } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { createRound, getRound } from '../survey/round';
import { keys } from '../db/keys';
import { transitionInvitation, transitionMany } from './transition';

let db: Db;
beforeAll(() => {
  db = testDeps().db;
});
afterAll(() => db.client.destroy());

describe('transitionMany', () => {
  it('moves 230 invitations, leaving out those that moved meanwhile, with exact counts', async () => {
    const now = new Date();
    const agency = await createAgency(db, { name: 'Many' }, now);
    const pro = await createPro(db, agency.agencyId, { name: 'Jane', email: `jane-${agency.agencyId.slice(3)}@acme.example` }, now);
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Big' }, now);
    const tag = agency.agencyId.slice(3).toLowerCase();
    const recipients = Array.from({ length: 230 }, (_, i) => ({ email: `r${i}-${tag}@news.example`, audience: 'reporter' as const }));
    const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients }, now);
    const ids = accepted.map((i) => i.invitationId);
    // Seven moved on before.
    const movedOn = [ids[0]!, ids[98]!, ids[99]!, ids[150]!, ids[198]!, ids[200]!, ids[229]!];
    for (const id of movedOn) expect(await transitionInvitation(db, round.roundId, id, 'pending', 'sending')).toBe(true);

    expect(await transitionMany(db, round.roundId, ids, 'pending', 'skipped', { remove: ['checkAt'] })).toBe(223);

    expect((await getRound(db, agency.agencyId, round.roundId)).counts).toMatchObject({ pending: 0, sending: 7, skipped: 223 });
    const item = async (id: string) => (await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.invitation(round.roundId, id), ConsistentRead: true }))).Item!;
    for (const id of movedOn) expect((await item(id)).status).toBe('sending');
    // Out of the lease index with the move; the ones left out keep their lease.
    expect(await item(ids[1]!)).toMatchObject({ status: 'skipped' });
    expect((await item(ids[1]!)).checkAt).toBeUndefined();
    expect((await item(ids[0]!)).checkAt).toEqual(expect.any(String));
    // A second run finds nothing left to move.
    expect(await transitionMany(db, round.roundId, ids, 'pending', 'skipped')).toBe(0);
  });
});
