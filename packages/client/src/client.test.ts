import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitResponse } from '@rapport/core';
import { deliver } from '@rapport/core/sending/dispatch';
import { createApp, deliveryDeps } from '@rapport/functions';
import { agencyFixture, collectingQueue, serveOnFreePort, testDeps, type AgencyFixture } from '@rapport/testing';
import { createRapportClient, type RapportClient, type Schemas } from './index';

/** The README's tour through the typed client, against the app served on a local port. */
const NOW = new Date('2031-03-10T09:00:00.000Z');
const queue = collectingQueue();
const deps = testDeps({ queue, now: () => NOW });
let f: AgencyFixture;
let server: Awaited<ReturnType<typeof serveOnFreePort>>;
let client: RapportClient;

beforeAll(async () => {
  f = await agencyFixture(deps);
  server = await serveOnFreePort(createApp(deps).fetch);
  client = createRapportClient({ baseUrl: `${server.url}/`, apiKey: f.adminKey });
});
afterAll(() => server?.close());

describe('the typed client (@rapport/client)', () => {
  it('creates a pro, a campaign and a round, reads them back, and reads the scores', async () => {
    const email = `jane-${f.agencyId.slice(3).toLowerCase()}@agency.example`;
    const pro = await client.POST('/v1/pros', { body: { name: 'Jane Doe', email } });
    expect(pro.response.status).toBe(201);
    const { proId } = pro.data!;
    expect(pro.data).toEqual({ proId, name: 'Jane Doe', email, createdAt: NOW.toISOString(), updatedAt: NOW.toISOString() });
    expect(pro.response.headers.get('Location')).toBe(`/v1/pros/${proId}`);

    const campaign = await client.POST('/v1/campaigns', { body: { proId, name: 'Product launch', startsOn: '2031-03-01' } });
    const { campaignId } = campaign.data!;
    expect(campaign.data).toEqual({ campaignId, proId, name: 'Product launch', startsOn: '2031-03-01', endsOn: null, tags: [], createdAt: NOW.toISOString() });

    const reporter = `sam-${f.agencyId.slice(3).toLowerCase()}@newsroom.example`;
    const created = await client.POST('/v1/campaigns/{campaignId}/surveys', {
      params: { path: { campaignId } },
      body: { recipients: [{ email: reporter, name: 'Sam', audience: 'reporter' }, { email: 'not-an-address', audience: 'reporter' }], attribution: 'named' },
    });
    expect(created.response.status).toBe(202);
    const { surveyId } = created.data!;
    expect(created.response.headers.get('Location')).toBe(`/v1/surveys/${surveyId}`);
    const open: Schemas['Survey'] = {
      surveyId,
      campaignId,
      proId,
      attribution: 'named',
      status: 'open',
      counts: { pending: 1, sending: 0, sent: 0, responded: 0, bounced: 0, failed: 0, expired: 0, skipped: 0 },
      responseRatePercent: null,
      createdAt: NOW.toISOString(),
      closesAt: '2031-03-24T09:00:00.000Z',
    };
    expect(created.data).toEqual({
      ...open,
      accepted: 1,
      skippedTotal: 1,
      skippedCounts: { invalid: 1, duplicate: 0, unsubscribed: 0, bounced: 0, complained: 0, erased: 0, throttled: 0 },
      skipped: [{ index: 1, email: 'not-an-address', reason: 'invalid' }],
    });
    expect((await client.GET('/v1/surveys/{surveyId}', { params: { path: { surveyId } } })).data).toEqual(open);

    // Sam gets the email and answers (a named answer counts at once).
    const [job] = queue.jobs.filter((j) => j.kind === 'invitation' && j.roundId === surveyId);
    await deliver({ ...deliveryDeps(deps), now: () => NOW }, job!);
    if (job?.kind !== 'invitation') throw new Error('no invitation queued');
    await submitResponse(deps.db, { roundId: surveyId, invitationId: job.invitationId }, { responsiveness: 5, recommend: 10 }, new Date(NOW.getTime() + 3_600_000));
    expect((await client.GET('/v1/surveys/{surveyId}', { params: { path: { surveyId } } })).data).toMatchObject({ counts: { ...open.counts, pending: 0, responded: 1 }, responseRatePercent: 100 });

    const scores = await client.GET('/v1/pros/{proId}/scores', { params: { path: { proId }, query: { from: '2031-03', to: '2031-03' } } });
    expect(scores.response.status).toBe(200);
    expect(scores.data).toEqual(SCORES(proId));
  });

  it('answers a problem as `error`, typed, and refuses an unknown query parameter', async () => {
    const missing = await client.GET('/v1/pros/{proId}', { params: { path: { proId: 'pro_01J00000000000000000000000' } } });
    expect(missing.data).toBeUndefined();
    expect(missing.error).toEqual({ type: 'urn:rapport:problem:not-found', title: 'Not found', status: 404, detail: expect.any(String) });
    // Types know the parameters: this query does not exist, and the API says so too.
    // @ts-expect-error `granularity` is not a parameter of GET /v1/campaigns
    const unknown = await client.GET('/v1/campaigns', { params: { query: { granularity: 'month' } } });
    expect(unknown.error).toMatchObject({ status: 400, errors: [{ field: 'granularity', message: 'is not a known parameter' }] });
  });
});

/** One named answer, 5 and 10, of one delivered invitation (k = 5 does not hold back named answers). */
const group: Schemas['ScoreGroup'] = {
  n: 1,
  items: {
    responsiveness: { n: 1, mean: 5, ci: null, percentResponsive: { responsive: 1, percent: 100, ci: [20.654329147389294, 100] } },
    recommend: { n: 1, mean: 10, ci: null, nps: { promoters: 1, passives: 0, detractors: 0, score: 100, ci: [-48.5, 98.5] } },
  },
};
const SCORES = (proId: string): Schemas['ProScores'] => ({
  proId,
  from: '2031-03',
  to: '2031-03',
  granularity: 'month',
  audience: null,
  anonymityThreshold: 5,
  periods: [{ period: '2031-03', delivered: 1, responses: 1, responseRatePercent: 100, total: group, audiences: { reporter: group } }],
});
