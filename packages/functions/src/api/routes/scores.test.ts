import { beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { batchesReleased, closeRound, createCampaign, createPro, createRound, keys, submitResponse, type Audience } from '@rapport/core';
import { deliver } from '@rapport/core/sending/dispatch';
import { agencyFixture, testDeps, type AgencyFixture, type ApiAnswer } from '@rapport/testing';
import { deliveryDeps } from '../../deps';

const deps = testDeps();
const { db } = deps;

/**
 * One agency with k = 3 and hand-made answers, each round closed after its answers (anonymous
 * answers count in no figure before, the response rate included):
 * - Jane, January 2030 (closed 29 January): reporters answer responsiveness 4, 5, 3 (recommend 9,
 *   10, 6), one colleague 2, two clients 5 and 5 (recommend 10, 9); eight invitations delivered (a
 *   fourth reporter and a second colleague never answer). The reporters (3 = k) are released as a
 *   batch of the campaign and January; the colleague (1) and the clients (2) go to Jane's pools.
 * - Jane, February (closed 24 February): two reporters, 5 and 4: to the reporter pool (2).
 * - Jane, March (closed 20 March): one reporter 5, one client 2: both pools reach 3 and are
 *   released as batches of no campaign, counted in March. The client batch's recommend was given
 *   by 2 of 3 (< k): it counts nowhere.
 * - Bob, January (closed 29 January): one reporter, 1: to Bob's reporter pool, released nowhere.
 * - Bob, February: a named round, one colleague answers 3: released when given.
 * All Jane's rounds are of one campaign.
 */
let f: AgencyFixture;
let jane: string;
let bob: string;
let janeCampaign: string;
/** The reads as they were with every answer given but no round closed. */
const beforeClose: Record<'pro' | 'campaign' | 'agency', ApiAnswer> = {} as never;

type Answer = { audience: Audience; responsiveness?: number; recommend?: number };

async function round(proId: string, campaignId: string, at: string, answers: Answer[], attribution: 'anonymous' | 'named' = 'anonymous') {
  const when = new Date(at);
  const recipients = answers.map((a, i) => ({ email: `r${i}-${when.getTime()}-${f.agencyId.slice(3)}@news.example`, audience: a.audience }));
  const { round, accepted } = await createRound(db, f.agencyId, campaignId, { recipients, attribution }, when);
  const delivery = { ...deliveryDeps(deps), now: () => when };
  for (const [i, invitation] of accepted.entries()) {
    await deliver(delivery, { kind: 'invitation', roundId: round.roundId, invitationId: invitation.invitationId });
    const { responsiveness, recommend } = answers[i]!;
    if (responsiveness !== undefined) {
      await submitResponse(db, invitation, { responsiveness, ...(recommend !== undefined ? { recommend } : {}) }, new Date(when.getTime() + 3_600_000));
    }
  }
  return round.roundId;
}

const empty = { n: 0, items: {} };

beforeAll(async () => {
  f = await agencyFixture(deps);
  await f.call('PATCH', '/v1/settings', { body: { anonymityThreshold: 3 } });
  const at = new Date('2030-01-01T00:00:00Z');
  jane = (await createPro(db, f.agencyId, { name: 'Jane Doe', email: `jane-${f.agencyId.slice(3)}@acme.example` }, at)).proId;
  bob = (await createPro(db, f.agencyId, { name: 'Bob Roe', email: `bob-${f.agencyId.slice(3)}@acme.example` }, at)).proId;
  janeCampaign = (await createCampaign(db, f.agencyId, { proId: jane, name: 'Spring Launch' }, at)).campaignId;
  const bobCampaign = (await createCampaign(db, f.agencyId, { proId: bob, name: 'Bob Launch' }, at)).campaignId;
  const janeJanuary = await round(jane, janeCampaign, '2030-01-15T10:00:00Z', [
    { audience: 'reporter', responsiveness: 4, recommend: 9 },
    { audience: 'reporter', responsiveness: 5, recommend: 10 },
    { audience: 'reporter', responsiveness: 3, recommend: 6 },
    { audience: 'reporter' },
    { audience: 'colleague', responsiveness: 2 },
    { audience: 'colleague' },
    { audience: 'client', responsiveness: 5, recommend: 10 },
    { audience: 'client', responsiveness: 5, recommend: 9 },
  ]);
  const janeFebruary = await round(jane, janeCampaign, '2030-02-10T10:00:00Z', [
    { audience: 'reporter', responsiveness: 5 },
    { audience: 'reporter', responsiveness: 4 },
  ]);
  const janeMarch = await round(jane, janeCampaign, '2030-03-05T10:00:00Z', [
    { audience: 'reporter', responsiveness: 5 },
    { audience: 'client', responsiveness: 2 },
  ]);
  const bobJanuary = await round(bob, bobCampaign, '2030-01-20T10:00:00Z', [{ audience: 'reporter', responsiveness: 1 }]);
  await round(bob, bobCampaign, '2030-02-12T10:00:00Z', [{ audience: 'colleague', responsiveness: 3 }], 'named');

  beforeClose.pro = await f.call('GET', `/v1/pros/${jane}/scores?from=2030-01&to=2030-03`, { key: f.readKey });
  beforeClose.campaign = await f.call('GET', `/v1/campaigns/${janeCampaign}/scores`, { key: f.readKey });
  beforeClose.agency = await f.call('GET', '/v1/scores?from=2030-01&to=2030-03&granularity=total', { key: f.readKey });

  expect(await closeRound(db, janeJanuary, new Date('2030-01-29T00:00:00Z'))).toBe(true);
  expect(await closeRound(db, bobJanuary, new Date('2030-01-29T00:00:00Z'))).toBe(true);
  expect(await closeRound(db, janeFebruary, new Date('2030-02-24T00:00:00Z'))).toBe(true);
  expect(await closeRound(db, janeMarch, new Date('2030-03-20T00:00:00Z'))).toBe(true);
}, 60_000);

describe('scores over the API', () => {
  it('counts no anonymous answer anywhere before its round closes, not even in the response rate (a named answer at once)', async () => {
    expect(beforeClose.pro.status).toBe(200);
    // Deliveries count when sent; twelve anonymous answers given, none released.
    expect(beforeClose.pro.body.periods).toEqual([
      { period: '2030-01', delivered: 8, responses: 0, responseRatePercent: 0, total: empty, audiences: { reporter: empty, colleague: empty, client: empty } },
      { period: '2030-02', delivered: 2, responses: 0, responseRatePercent: 0, total: empty, audiences: { reporter: empty } },
      { period: '2030-03', delivered: 2, responses: 0, responseRatePercent: 0, total: empty, audiences: { reporter: empty, client: empty } },
    ]);
    expect(beforeClose.campaign.body).toMatchObject({ delivered: 12, responses: 0, responseRatePercent: 0, total: empty, audiences: { reporter: empty, colleague: empty, client: empty } });
    const [period] = beforeClose.agency.body.periods;
    // Bob's named colleague is a released batch of one.
    expect(period).toMatchObject({ period: 'total', delivered: 14, responses: 1, total: { n: 1, items: { responsiveness: { n: 1, mean: 3, ci: null } } } });
    expect(beforeClose.agency.body.pros).toEqual([
      { proId: jane, name: 'Jane Doe', ...empty },
      { proId: bob, name: 'Bob Roe', n: 1, items: { responsiveness: expect.objectContaining({ n: 1, mean: 3, ci: null }) } },
    ]);
    expect(JSON.stringify(beforeClose)).not.toContain('withheld');
  });

  it("gives a pro's month: n, means with t-intervals, % responsive with Wilson, NPS with adjusted Wald, and the response rate", async () => {
    const res = await f.call('GET', `/v1/pros/${jane}/scores?from=2030-01&to=2030-03`, { key: f.readKey });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ proId: jane, from: '2030-01', to: '2030-03', granularity: 'month', audience: null, anonymityThreshold: 3 });
    expect(JSON.stringify(res.body)).not.toContain('withheld');
    const [january, february, march] = res.body.periods;
    expect(res.body.periods.map((p: { period: string }) => p.period)).toEqual(['2030-01', '2030-02', '2030-03']);

    // 8 delivered, 6 answered; only the reporters' batch of 3 is released, and responses are released answers.
    expect(january).toMatchObject({ delivered: 8, responses: 3, responseRatePercent: 37.5, total: { n: 3 } });
    // Reporters: mean 4, s = 1, t(2) = 4.303, half = 4.303/√3 = 2.48434 → [1.51566, 5] (clamped).
    const reporters = january.audiences.reporter.items;
    expect(january.audiences.reporter.n).toBe(3);
    expect(reporters.responsiveness.n).toBe(3);
    expect(reporters.responsiveness.mean).toBe(4);
    expect(reporters.responsiveness.ci[0]).toBeCloseTo(1.51566, 4);
    expect(reporters.responsiveness.ci[1]).toBe(5);
    // % responsive: 2 of 3. Wilson, z = 1.96: centre = 2/3 + 3.8416/6 = 1.30694; margin = 1.96·√(2/27 + 3.8416/36)
    // = 0.83337; denominator 1 + 3.8416/3 = 2.28053 → [20.77, 93.85] percent.
    expect(reporters.responsiveness.percentResponsive.responsive).toBe(2);
    expect(reporters.responsiveness.percentResponsive.percent).toBeCloseTo(66.667, 2);
    expect(reporters.responsiveness.percentResponsive.ci[0]).toBeCloseTo(20.77, 1);
    expect(reporters.responsiveness.percentResponsive.ci[1]).toBeCloseTo(93.85, 1);
    // NPS: promoters 9 and 10, detractor 6: (2 − 1)/3 = 33.33. n′ = 6, p′ = 2.75/6, d′ = 1.75/6, p′ − d′ = 1/6;
    // √((0.75 − 1/36)/6) = 0.34694; ±1.96 · 0.34694 = ±0.68001 → [−51.33, 84.67].
    expect(reporters.recommend.n).toBe(3);
    expect(reporters.recommend.nps).toMatchObject({ promoters: 2, passives: 0, detractors: 1 });
    expect(reporters.recommend.nps.score).toBeCloseTo(33.333, 2);
    expect(reporters.recommend.nps.ci[0]).toBeCloseTo(-51.33, 1);
    expect(reporters.recommend.nps.ci[1]).toBeCloseTo(84.67, 1);
    // The total is the one batch: the same figures.
    expect(january.total.items).toEqual(january.audiences.reporter.items);
    // The colleague and the clients wait in pools: their month shows no figure, whatever k.
    expect(january.audiences.colleague).toEqual(empty);
    expect(january.audiences.client).toEqual(empty);

    // February's two reporters are pooled: answered, counted nowhere.
    expect(february).toEqual({ period: '2030-02', delivered: 2, responses: 0, responseRatePercent: 0, total: empty, audiences: { reporter: empty } });

    // March holds the two pooled batches (released then): reporters 5, 4, 5 and clients 5, 5, 2.
    // Their deliveries counted in their rounds' months, so March's rate is 6 over its own 2.
    expect(march).toMatchObject({ delivered: 2, responses: 6, responseRatePercent: 300, total: { n: 6 } });
    expect(march.audiences.reporter).toMatchObject({ n: 3, items: { responsiveness: { n: 3 } } });
    expect(march.audiences.reporter.items.responsiveness.mean).toBeCloseTo(14 / 3, 10);
    expect(march.audiences.client).toMatchObject({ n: 3, items: { responsiveness: { n: 3, mean: 4 } } });
    // Recommend: 2 of the 3 pooled clients gave it, fewer than k: it counts nowhere.
    expect(Object.keys(march.audiences.client.items)).toEqual(['responsiveness']);
    expect(Object.keys(march.total.items)).toEqual(['responsiveness']);
    // Σ = 26 over 6; Σx² = 120; s² = (6·120 − 26²)/30 = 44/30; s = 1.21106; t(5) = 2.571;
    // half = 2.571 · 1.21106/√6 = 1.27115 → [3.06218, 5] (clamped).
    expect(march.total.items.responsiveness.mean).toBeCloseTo(26 / 6, 10);
    expect(march.total.items.responsiveness.ci[0]).toBeCloseTo(3.06218, 4);
    expect(march.total.items.responsiveness.ci[1]).toBe(5);
  });

  it('groups by quarter or the whole range, and filters by audience', async () => {
    const quarter = await f.call('GET', `/v1/pros/${jane}/scores?from=2030-01&to=2030-03&granularity=quarter`);
    expect(quarter.body.periods).toHaveLength(1);
    const q1 = quarter.body.periods[0];
    // 10 answers of 12 delivered; the three batches released hold 9: 4,5,3 · 5,4,5 · 5,5,2 → Σ 38.
    expect(q1).toMatchObject({ period: '2030-Q1', delivered: 12, responses: 9, responseRatePercent: 75, total: { n: 9 } });
    expect(q1.total.items.responsiveness.mean).toBeCloseTo(38 / 9, 10);
    // Σx² = 170; s² = (9·170 − 38²)/72 = 86/72; s = 1.09291; t(8) = 2.306; half = 0.84008 → [3.38214, 5].
    expect(q1.total.items.responsiveness.ci[0]).toBeCloseTo(3.38214, 4);
    expect(q1.total.items.responsiveness.ci[1]).toBe(5);
    // Recommend only from the January reporters' batch.
    expect(q1.total.items.recommend).toMatchObject({ n: 3, nps: { promoters: 2, passives: 0, detractors: 1 } });
    expect(q1.audiences.reporter).toMatchObject({ n: 6 });
    expect(q1.audiences.reporter.items.responsiveness.mean).toBeCloseTo(26 / 6, 10);
    expect(q1.audiences.client).toMatchObject({ n: 3, items: { responsiveness: { n: 3, mean: 4 } } });
    expect(q1.audiences.colleague).toEqual(empty);

    const reportersOnly = await f.call('GET', `/v1/pros/${jane}/scores?from=2030-01&to=2030-02&granularity=total&audience=reporter`);
    expect(reportersOnly.body.audience).toBe('reporter');
    expect(reportersOnly.body.periods).toEqual([
      expect.objectContaining({ period: 'total', delivered: 6, responses: 3, responseRatePercent: 50, total: expect.objectContaining({ n: 3 }), audiences: { reporter: expect.objectContaining({ n: 3 }) } }),
    ]);
  });

  it("gives a campaign's scores per audience: its own batches, not the pooled ones", async () => {
    const res = await f.call('GET', `/v1/campaigns/${janeCampaign}/scores`, { key: f.readKey });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ campaignId: janeCampaign, proId: jane, anonymityThreshold: 3, delivered: 12, responses: 3, responseRatePercent: 25, total: { n: 3 } });
    expect(res.body.audiences.reporter.items.responsiveness).toMatchObject({ n: 3, mean: 4 });
    // The clients' answers were released in a pooled batch of "several campaigns".
    expect(res.body.audiences.client).toEqual(empty);
    expect(res.body.audiences.colleague).toEqual(empty);
    expect(JSON.stringify(res.body)).not.toContain('withheld');
  });

  it("gives the agency's scores and each pro's, every figure a sum of whole batches", async () => {
    const res = await f.call('GET', '/v1/scores?from=2030-01&to=2030-01', { key: f.readKey });
    expect(res.status).toBe(200);
    const [january] = res.body.periods;
    // Jane's 6 answers and Bob's 1 of 9 delivered; only Jane's reporters' batch is released.
    expect(january).toMatchObject({ delivered: 9, responses: 3, total: { n: 3 } });
    expect(january.responseRatePercent).toBeCloseTo(100 / 3, 10);
    expect(january.total.items.responsiveness.mean).toBe(4);
    expect(january.audiences.reporter).toMatchObject({ n: 3 });
    // Bob's lone answer waits in his pool: his n is 0, and the team's n is exactly the sum of the pros'.
    expect(res.body.pros).toEqual([
      { proId: jane, name: 'Jane Doe', n: 3, items: january.total.items },
      { proId: bob, name: 'Bob Roe', ...empty },
    ]);
    expect(JSON.stringify(res.body)).not.toContain('withheld');

    const all = await f.call('GET', '/v1/scores?from=2030-01&to=2030-03&granularity=total', { key: f.readKey });
    expect(all.body.periods[0]).toMatchObject({ period: 'total', delivered: 14, responses: 10, total: { n: 10 } });
    expect(all.body.pros.map((p: { proId: string; n: number }) => [p.proId, p.n])).toEqual([
      [jane, 9],
      [bob, 1],
    ]);
  });

  it('leaves the released batches and the pools in the table', async () => {
    const batches = (await batchesReleased(db, f.agencyId, jane, '2030', '2031')).map(({ audience, attribution, campaignId, period, releasedAt, k, size }) => ({
      audience,
      attribution,
      campaignId,
      period,
      releasedAt,
      k,
      size,
    }));
    expect(batches[0]).toEqual({ audience: 'reporter', attribution: 'anonymous', campaignId: janeCampaign, period: '2030-01', releasedAt: '2030-01-29T00:00:00.000Z', k: 3, size: 3 });
    // The two pooled batches, released by one close (in the order of their ids).
    expect(batches.slice(1).sort((a, b) => (a.audience < b.audience ? -1 : 1))).toEqual(
      ['client', 'reporter'].map((audience) => ({ audience, attribution: 'anonymous', campaignId: null, period: '2030-03', releasedAt: '2030-03-20T00:00:00.000Z', k: 3, size: 3 })),
    );
    expect((await batchesReleased(db, f.agencyId, bob, '2030', '2031')).map((b) => [b.attribution, b.audience, b.size])).toEqual([['named', 'colleague', 1]]);
    const pool = async (proId: string, audience: Audience) => {
      const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.pool(f.agencyId, proId, audience), ConsistentRead: true }));
      return Item && { size: Item.size, members: Item.members.length, seq: Item.seq ?? 0 };
    };
    // Emptied when released (the next pooled batch gets a new id); the others still wait.
    expect(await pool(jane, 'reporter')).toEqual({ size: 0, members: 0, seq: 1 });
    expect(await pool(jane, 'client')).toEqual({ size: 0, members: 0, seq: 1 });
    expect(await pool(jane, 'colleague')).toEqual({ size: 1, members: 1, seq: 0 });
    expect(await pool(bob, 'reporter')).toEqual({ size: 1, members: 1, seq: 0 });
  });

  it('refuses bad ranges naming the field, and hides other agencies\' pros and campaigns', async () => {
    expect((await f.call('GET', `/v1/pros/${jane}/scores?from=2030-13`)).body).toMatchObject({ status: 400, errors: [{ field: 'from' }] });
    expect((await f.call('GET', `/v1/pros/${jane}/scores?from=2030-03&to=2030-01`)).body).toMatchObject({ status: 400, errors: [{ field: 'from' }] });
    expect((await f.call('GET', `/v1/pros/${jane}/scores?from=2020-01&to=2030-01`)).body).toMatchObject({ status: 400, errors: [{ field: 'from', message: 'the range must be at most 36 months' }] });
    expect((await f.call('GET', `/v1/pros/${jane}/scores?granularity=week`)).body).toMatchObject({ status: 400, errors: [{ field: 'granularity' }] });
    expect((await f.call('GET', `/v1/scores?to=9999-12`)).body).toMatchObject({ status: 400, errors: [{ field: 'to', message: 'must be a month as YYYY-MM, from 2000-01 to 2999-12' }] });
    // A campaign is scored whole: a range or a granularity is refused, not silently ignored.
    for (const name of ['granularity', 'from']) {
      expect((await f.call('GET', `/v1/campaigns/${janeCampaign}/scores?${name}=2030-01`)).body).toMatchObject({
        status: 400,
        errors: [{ field: name, message: 'is not a known parameter: a campaign is scored whole' }],
      });
    }
    const other = await agencyFixture(deps);
    expect((await other.call('GET', `/v1/pros/${jane}/scores`)).status).toBe(404);
    expect((await other.call('GET', `/v1/campaigns/${janeCampaign}/scores`)).status).toBe(404);
  });
});
