import { beforeAll, describe, expect, it } from 'vitest';
import { createCampaign, createPro, createRound, deliver, submitResponse, type Audience } from '@rapport/core';
import { agencyFixture, testDeps, type AgencyFixture } from '@rapport/testing';
import { deliveryDeps } from '../../deps';

const deps = testDeps();
const { db } = deps;

/**
 * One agency with k = 3 and hand-made answers:
 * - Jane, January 2030: reporters answer responsiveness 4, 5, 3 (recommend 9, 10, 6), one
 *   colleague 2, two clients 5 and 5; eight invitations delivered (a fourth reporter and a second
 *   colleague never answer).
 * - Jane, February: two reporters, 5 and 4.
 * - Bob, January: one reporter, 1.
 */
let f: AgencyFixture;
let jane: string;
let bob: string;
let janeCampaign: string;

async function round(proId: string, campaignId: string, at: string, answers: { audience: Audience; responsiveness?: number; recommend?: number }[]) {
  const when = new Date(at);
  const recipients = answers.map((a, i) => ({ email: `r${i}-${when.getTime()}-${f.agencyId.slice(3)}@news.example`, audience: a.audience }));
  const { round, accepted } = await createRound(db, f.agencyId, campaignId, { recipients }, when);
  const delivery = { ...deliveryDeps(deps), now: () => when };
  for (const [i, invitation] of accepted.entries()) {
    await deliver(delivery, { kind: 'invitation', roundId: round.roundId, invitationId: invitation.invitationId });
    const { responsiveness, recommend } = answers[i]!;
    if (responsiveness !== undefined) {
      await submitResponse(db, invitation, { responsiveness, ...(recommend !== undefined ? { recommend } : {}) }, new Date(when.getTime() + 3_600_000));
    }
  }
  return round;
}

beforeAll(async () => {
  f = await agencyFixture(deps);
  await f.call('PATCH', '/v1/settings', { body: { anonymityThreshold: 3 } });
  const at = new Date('2030-01-01T00:00:00Z');
  jane = (await createPro(db, f.agencyId, { name: 'Jane Doe', email: `jane-${f.agencyId.slice(3)}@acme.example` }, at)).proId;
  bob = (await createPro(db, f.agencyId, { name: 'Bob Roe', email: `bob-${f.agencyId.slice(3)}@acme.example` }, at)).proId;
  janeCampaign = (await createCampaign(db, f.agencyId, { proId: jane, name: 'Spring Launch' }, at)).campaignId;
  const bobCampaign = (await createCampaign(db, f.agencyId, { proId: bob, name: 'Bob Launch' }, at)).campaignId;
  await round(jane, janeCampaign, '2030-01-15T10:00:00Z', [
    { audience: 'reporter', responsiveness: 4, recommend: 9 },
    { audience: 'reporter', responsiveness: 5, recommend: 10 },
    { audience: 'reporter', responsiveness: 3, recommend: 6 },
    { audience: 'reporter' },
    { audience: 'colleague', responsiveness: 2 },
    { audience: 'colleague' },
    { audience: 'client', responsiveness: 5 },
    { audience: 'client', responsiveness: 5 },
  ]);
  await round(jane, janeCampaign, '2030-02-10T10:00:00Z', [
    { audience: 'reporter', responsiveness: 5 },
    { audience: 'reporter', responsiveness: 4 },
  ]);
  await round(bob, bobCampaign, '2030-01-20T10:00:00Z', [{ audience: 'reporter', responsiveness: 1 }]);
}, 60_000);

describe('scores over the API', () => {
  it("gives a pro's month: n, means with t-intervals, % responsive with Wilson, NPS with adjusted Wald, and the response rate", async () => {
    const res = await f.call('GET', `/v1/pros/${jane}/scores?from=2030-01&to=2030-03`, { key: f.readKey });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ proId: jane, from: '2030-01', to: '2030-03', granularity: 'month', audience: null, anonymityThreshold: 3 });
    const [january, february, march] = res.body.periods;
    expect(res.body.periods.map((p: { period: string }) => p.period)).toEqual(['2030-01', '2030-02', '2030-03']);

    // 6 responses of 8 delivered.
    expect(january).toMatchObject({ delivered: 8, responses: 6, responseRate: 0.75 });
    // Total responsiveness: (4+5+3+2+5+5)/6 = 4; Σx² = 16+25+9+4+25+25 = 104; s² = (6·104 − 24²)/(6·5) = 48/30 = 1.6;
    // s = 1.26491; t(5) = 2.571; half = 2.571 · 1.26491 / √6 = 1.32762 → [2.67238, 5.32762] clamped to [2.67238, 5].
    const total = january.total.items.responsiveness;
    expect(total.n).toBe(6);
    expect(total.mean).toBe(4);
    expect(total.ci[0]).toBeCloseTo(2.67238, 4);
    expect(total.ci[1]).toBe(5);

    // Reporters (n = 3 = k, shown): mean 4, s = 1, t(2) = 4.303, half = 4.303/√3 = 2.48434 → [1.51566, 5].
    const reporters = january.audiences.reporter.items;
    expect(reporters.responsiveness.mean).toBe(4);
    expect(reporters.responsiveness.ci[0]).toBeCloseTo(1.51566, 4);
    // % responsive: 2 of 3. Wilson, z = 1.96: centre = 2/3 + 3.8416/6 = 1.30694; margin = 1.96·√(2/27 + 3.8416/36)
    // = 0.83337; denominator 1 + 3.8416/3 = 2.28053 → [20.77, 93.85] percent.
    expect(reporters.responsiveness.percentResponsive.responsive).toBe(2);
    expect(reporters.responsiveness.percentResponsive.percent).toBeCloseTo(66.667, 2);
    expect(reporters.responsiveness.percentResponsive.ci[0]).toBeCloseTo(20.77, 1);
    expect(reporters.responsiveness.percentResponsive.ci[1]).toBeCloseTo(93.85, 1);
    // NPS: promoters 9 and 10, detractor 6: (2 − 1)/3 = 33.33. n′ = 6, p′ = 2.75/6, d′ = 1.75/6, p′ − d′ = 1/6;
    // √((0.75 − 1/36)/6) = 0.34694; ±1.96 · 0.34694 = ±0.68001 → [−51.33, 84.67].
    expect(reporters.recommend.nps).toMatchObject({ promoters: 2, passives: 0, detractors: 1 });
    expect(reporters.recommend.nps.score).toBeCloseTo(33.333, 2);
    expect(reporters.recommend.nps.ci[0]).toBeCloseTo(-51.33, 1);
    expect(reporters.recommend.nps.ci[1]).toBeCloseTo(84.67, 1);

    // Colleagues (1) and clients (2) are below k: n only. Together they are 3 = k, so nothing more is withheld.
    expect(january.audiences.colleague).toEqual({ n: 1, withheld: true });
    expect(january.audiences.client).toEqual({ n: 2, withheld: true });

    // February: 2 responses in all, below k: everything withheld, the total too.
    expect(february).toMatchObject({ delivered: 2, responses: 2, responseRate: 1, total: { n: 2, withheld: true }, audiences: { reporter: { n: 2, withheld: true } } });
    expect(march).toEqual({ period: '2030-03', delivered: 0, responses: 0, responseRate: null, total: { n: 0, withheld: true }, audiences: {} });
  });

  it('groups by quarter or the whole range, and filters by audience', async () => {
    const quarter = await f.call('GET', `/v1/pros/${jane}/scores?from=2030-01&to=2030-03&granularity=quarter`);
    expect(quarter.body.periods).toHaveLength(1);
    const q1 = quarter.body.periods[0];
    // 8 responses: Σ = 24 + 9 = 33 → 4.125; reporters 5 (4,5,3,5,4 → 4.2), colleague 1, client 2 withheld (3 = k together).
    expect(q1).toMatchObject({ period: '2030-Q1', delivered: 10, responses: 8, responseRate: 0.8 });
    expect(q1.total.items.responsiveness.mean).toBe(4.125);
    expect(q1.audiences.reporter.items.responsiveness.mean).toBeCloseTo(4.2, 10);

    const reportersOnly = await f.call('GET', `/v1/pros/${jane}/scores?from=2030-01&to=2030-02&granularity=total&audience=reporter`);
    expect(reportersOnly.body.periods).toEqual([
      expect.objectContaining({ period: 'total', delivered: 6, responses: 5, audiences: { reporter: expect.objectContaining({ n: 5, withheld: false }) } }),
    ]);
  });

  it("gives a campaign's scores per audience", async () => {
    const res = await f.call('GET', `/v1/campaigns/${janeCampaign}/scores`, { key: f.readKey });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ campaignId: janeCampaign, proId: jane, delivered: 10, responses: 8, responseRate: 0.8, total: { n: 8, withheld: false } });
    expect(res.body.audiences.reporter.items.responsiveness).toMatchObject({ n: 5, mean: 4.2 });
    expect(res.body.audiences.client).toEqual({ n: 2, withheld: true });
  });

  it("gives the agency's scores and each pro's, withholding a second pro when one small pro could be recovered by subtraction", async () => {
    const res = await f.call('GET', '/v1/scores?from=2030-01&to=2030-01', { key: f.readKey });
    expect(res.status).toBe(200);
    const [january] = res.body.periods;
    // Jane's 6 and Bob's 1: responsiveness Σ = 24 + 1 = 25 over 7.
    expect(january).toMatchObject({ delivered: 9, responses: 7, total: { n: 7, withheld: false } });
    expect(january.total.items.responsiveness.mean).toBeCloseTo(25 / 7, 10);
    expect(january.audiences.reporter).toMatchObject({ n: 4, withheld: false });
    // Bob (1) is below k; showing Jane (6) beside the total of 7 would give away Bob's answer.
    expect(res.body.pros).toEqual(
      expect.arrayContaining([
        { proId: jane, name: 'Jane Doe', n: 6, withheld: true },
        { proId: bob, name: 'Bob Roe', n: 1, withheld: true },
      ]),
    );
  });

  it('refuses bad ranges naming the field, and hides other agencies\' pros and campaigns', async () => {
    expect((await f.call('GET', `/v1/pros/${jane}/scores?from=2030-13`)).body).toMatchObject({ status: 400, errors: [{ field: 'from' }] });
    expect((await f.call('GET', `/v1/pros/${jane}/scores?from=2030-03&to=2030-01`)).body).toMatchObject({ status: 400, errors: [{ field: 'from' }] });
    expect((await f.call('GET', `/v1/pros/${jane}/scores?from=2020-01&to=2030-01`)).body).toMatchObject({ status: 400, errors: [{ field: 'from', message: 'the range must be at most 36 months' }] });
    expect((await f.call('GET', `/v1/pros/${jane}/scores?granularity=week`)).body).toMatchObject({ status: 400, errors: [{ field: 'granularity' }] });
    const other = await agencyFixture(deps);
    expect((await other.call('GET', `/v1/pros/${jane}/scores`)).status).toBe(404);
    expect((await other.call('GET', `/v1/campaigns/${janeCampaign}/scores`)).status).toBe(404);
  });
});
