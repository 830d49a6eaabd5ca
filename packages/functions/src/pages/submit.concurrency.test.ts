import { describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createAgency, createCampaign, createPro, createRound, getResponse, getRound, keys, signInvitationToken } from '@rapport/core';
import { testAddress, testDeps } from '@rapport/testing';
import { createApp } from '../api/app';

let address = testAddress();
const deps = testDeps({ clientAddress: () => address });
const app = createApp(deps);
// `SUBMIT_REPEATS=80 npx vitest run …` for a longer run.
const REPEATS = Number(process.env.SUBMIT_REPEATS ?? 12);

async function link(attribution: 'anonymous' | 'named', i: number) {
  const now = deps.now();
  const tag = `${i}-${now.getTime()}`;
  const agency = await createAgency(deps.db, { name: `Concurrent ${tag}` }, now);
  const pro = await createPro(deps.db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, now);
  const campaign = await createCampaign(deps.db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, now);
  const recipients = [{ email: `r-${tag}@news.example`, audience: 'reporter' }, { email: `s-${tag}@news.example`, audience: 'reporter' }];
  const { round, accepted } = await createRound(deps.db, agency.agencyId, campaign.campaignId, { recipients, attribution }, now);
  const ref = { roundId: round.roundId, invitationId: accepted[0]!.invitationId };
  return { agencyId: agency.agencyId, proId: pro.proId, round, ref, path: `/s/${signInvitationToken(deps.linkSecret, ref)}` };
}

/** Fires `concurrent` simultaneous submits at a fresh link, `repeats` times, alternating named and anonymous rounds. */
async function fire(concurrent: number, repeats: number) {
  for (let i = 0; i < repeats; i++) {
    address = testAddress();
    const attribution = i % 2 === 0 ? 'named' : 'anonymous';
    const { agencyId, proId, round, ref, path } = await link(attribution, i);
    const answers = await Promise.all(
      Array.from({ length: concurrent }, async () => {
        const r = await app.request(path, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'responsiveness=4&recommend=8' });
        return [r.status, r.headers.get('Content-Type'), (await r.text()).includes('<h1>Thank you</h1>')];
      }),
    );
    expect({ repeat: i, attribution, answers }).toEqual({ repeat: i, attribution, answers: Array(concurrent).fill([200, 'text/html; charset=UTF-8', true]) });
    const stored = await getResponse(deps.db, ref);
    expect(stored).toMatchObject({ revision: concurrent, answers: { responsiveness: 4, recommend: 8 } });
    expect((await getRound(deps.db, agencyId, round.roundId)).counts).toMatchObject({ pending: 1, responded: 1 });
    const { Item: counter } = await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.proCounter(agencyId, proId, round.period, 'reporter') }));
    if (attribution === 'named') expect(counter).toMatchObject({ i_responsiveness_n: 1, i_responsiveness_s: 4, i_recommend_n: 1, i_recommend_s: 8 });
    else expect(counter?.i_responsiveness_n).toBeUndefined();
  }
}

describe('concurrent submits of one survey link', () => {
  it(`end, ${REPEATS} times over, all 10 on the thank-you page, with one response counted once`, () => fire(10, REPEATS), 180_000);

  // 25 failed before the retries spread out (8 attempts, little jitter); a link's limit lets 30 through.
  it('end all on the thank-you page at 25 at once, 4 times over', () => fire(25, 4), 180_000);
});
