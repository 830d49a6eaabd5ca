import { it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { closeRound, createCampaign, createPro, createRound, keys, submitResponse } from '@rapport/core';
import { agencyFixture, testDeps } from '@rapport/testing';
const deps = testDeps();
it('dbg', async () => {
  const f = await agencyFixture(deps);
  const at = new Date('2030-08-05T10:00:00Z');
  const pro = await createPro(deps.db, f.agencyId, { name: 'Jane Doe', email: `j-${f.agencyId.slice(-10).toLowerCase()}@acme.example` }, at);
  const campaign = await createCampaign(deps.db, f.agencyId, { proId: pro.proId, name: 'S' }, at);
  const { round, accepted } = await createRound(deps.db, f.agencyId, campaign.campaignId, { recipients: [{ email: `r-${f.agencyId.slice(-10).toLowerCase()}@news.example`, audience: 'reporter' }] }, at);
  console.log('round', round.period, round.agencyId === f.agencyId, round.proId === pro.proId);
  const dump = async (label: string) => {
    const { Item } = await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.proCounter(f.agencyId, pro.proId, '2030-08', 'reporter') }));
    const { Item: c } = await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.campaignCounter(f.agencyId, campaign.campaignId, 'reporter') }));
    console.log(label, JSON.stringify(Item), JSON.stringify(c));
  };
  await dump('start');
  const r = await submitResponse(deps.db, accepted[0]!, { responsiveness: 4 }, new Date(at.getTime() + 3600_000));
  console.log('resp', JSON.stringify(r));
  await dump('after submit');
  await closeRound(deps.db, round.roundId, new Date('2030-08-19T10:00:00Z'));
  await dump('after close');
});
