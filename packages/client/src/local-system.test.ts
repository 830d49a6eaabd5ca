import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { periodOf } from '@rapport/core';
import { startLocalSystem, systemPorts, type LocalSystem } from '@rapport/local';
import { runTool } from '@rapport/testing';
import { createRapportClient, type RapportClient, type Schemas } from './index';

/**
 * The README's TypeScript tour, through the typed client only, against the whole system as
 * `npm start` runs it (in memory, on free ports): DynamoDB Local, the SES server, the app, and its
 * in-process queue and sender. The agency comes from the admin CLI, as a newcomer's does; the
 * emails go out through the system's own worker, and the reporters answer from the links in them.
 */
type Email = { subject: string; destination: { to: string[] }; body: { text: string } };

describe('the typed client against the local system (npm start)', () => {
  let system: LocalSystem;
  // The state file (instance.json) through which the admin CLI finds this instance, as it finds `npm start`'s.
  const stateDir = mkdtempSync(join(tmpdir(), 'rapport-client-'));
  beforeAll(async () => {
    system = await startLocalSystem({ ...(await systemPorts()), stateDir, env: {} });
  }, 90_000);
  afterAll(async () => {
    try {
      await system?.stop();
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  const inbox = async (): Promise<Email[]> => ((await (await fetch(`${system.urls.ses}/store`)).json()) as { emails: Email[] }).emails;
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('walks the tour: a pro, a campaign, a round sent by the worker, answered from its emails, closed, scored', async () => {
    const started = new Date();
    const created = await runTool('packages/local/src/admin.ts', ['create-agency', '--name', 'Acme PR', '--timezone', 'Europe/Madrid'], {
      DATA_DIR: stateDir,
      DYNAMODB_ENDPOINT: '',
      SES_ENDPOINT: '',
      PUBLIC_URL: '',
      LINK_SECRET: '',
      TABLE_NAME: '',
    });
    expect(created.code, created.stderr).toBe(0);
    const agency = created.result as { agencyId: string; apiKey: string };
    expect(created.result).toEqual({
      agencyId: expect.stringMatching(/^ag_[0-9A-Z]{26}$/),
      name: 'Acme PR',
      timezone: 'Europe/Madrid',
      keyId: expect.stringMatching(/^key_[0-9A-Z]{26}$/),
      role: 'admin',
      apiKey: expect.stringMatching(/^rpk_/),
    });
    const rapport: RapportClient = createRapportClient({ baseUrl: system.urls.api, apiKey: agency.apiKey });

    const settings = await rapport.PATCH('/v1/settings', { body: { anonymityThreshold: 3 } });
    expect(settings.response.status).toBe(200);
    expect(settings.data!.anonymityThreshold).toBe(3);

    const pro = await rapport.POST('/v1/pros', { body: { name: 'Jane Doe', email: 'jane@acme.example' } });
    expect(pro.response.status).toBe(201);
    const { proId, createdAt } = pro.data!;
    expect(pro.data).toEqual({ proId: expect.stringMatching(/^pro_[0-9A-Z]{26}$/), name: 'Jane Doe', email: 'jane@acme.example', createdAt, updatedAt: createdAt });
    expect(Date.parse(createdAt)).toBeGreaterThanOrEqual(started.getTime());
    expect(pro.response.headers.get('Location')).toBe(`/v1/pros/${proId}`);

    const campaign = await rapport.POST('/v1/campaigns', { body: { proId, name: 'Spring Launch', tags: ['launch'] } });
    expect(campaign.response.status).toBe(201);
    const { campaignId } = campaign.data!;
    expect(campaign.data).toEqual({ campaignId: expect.stringMatching(/^cmp_[0-9A-Z]{26}$/), proId, name: 'Spring Launch', startsOn: null, endsOn: null, tags: ['launch'], createdAt: campaign.data!.createdAt });

    const reporters = ['ana@news.example', 'dan@wire.example', 'eva@trade.example'];
    const round = await rapport.POST('/v1/campaigns/{campaignId}/surveys', {
      params: { path: { campaignId } },
      body: {
        recipients: [
          { email: 'ana@news.example', name: 'Ana Ruiz', audience: 'reporter', outlet: 'Daily News' },
          { email: 'dan@wire.example', name: 'Dan', audience: 'reporter', outlet: 'The Wire' },
          { email: 'eva@trade.example', name: 'Eva', audience: 'reporter' },
        ],
      },
    });
    expect(round.response.status).toBe(202);
    const { surveyId } = round.data!;
    const opened = Date.parse(round.data!.createdAt);
    const base: Omit<Schemas['Survey'], 'status' | 'counts' | 'responseRatePercent'> = {
      surveyId,
      campaignId,
      proId,
      attribution: 'anonymous',
      createdAt: round.data!.createdAt,
      closesAt: new Date(opened + 14 * 86_400_000).toISOString(),
    };
    const counts = { pending: 0, sending: 0, sent: 0, responded: 0, bounced: 0, failed: 0, expired: 0, skipped: 0 };
    expect(round.data).toEqual({
      ...base,
      status: 'open',
      counts: { ...counts, pending: 3 },
      responseRatePercent: null,
      accepted: 3,
      skippedTotal: 0,
      skippedCounts: { invalid: 0, duplicate: 0, unsubscribed: 0, bounced: 0, complained: 0, erased: 0, throttled: 0 },
      skipped: [],
    });
    expect(surveyId).toMatch(/^rnd_[0-9A-Z]{26}$/);
    expect(opened).toBeGreaterThanOrEqual(started.getTime());

    // The system's worker sends the three emails in the background, as the tour waits for them (30 s at most).
    const survey = { params: { path: { surveyId } } };
    let status: Schemas['Survey'] | undefined;
    for (let i = 0; i < 150; i++) {
      status = (await rapport.GET('/v1/surveys/{surveyId}', survey)).data;
      if (status!.counts.sent === 3) break;
      await wait(200);
    }
    // Anonymous: delivery only, no answers counted before the close.
    expect(status).toEqual({ ...base, status: 'open', counts: { ...counts, sent: 3 }, responseRatePercent: 0 });

    // Each reporter has the invitation in the SES server's store, and answers by posting the survey page from its link.
    const emails = await inbox();
    const answers: Record<string, Record<string, string>> = {
      'ana@news.example': { responsiveness: '5', recommend: '9', improve: 'Call back a bit sooner' },
      'dan@wire.example': { responsiveness: '4', recommend: '8' },
      'eva@trade.example': { responsiveness: '3', recommend: '6', improve: 'Send fewer, better pitches' },
    };
    for (const reporter of reporters) {
      const to = emails.filter((e) => e.destination.to.join().includes(reporter));
      expect(to.map((e) => e.subject)).toEqual(['How responsive was Jane Doe on the Spring Launch?']);
      const link = to[0]!.body.text.match(/http\S+\/s\/[^?\s]+/)![0];
      expect(link.startsWith(`${system.urls.api}/s/`)).toBe(true);
      const page = await fetch(link, { method: 'POST', body: new URLSearchParams(answers[reporter]) });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Your answers are saved.');
    }
    expect((await rapport.GET('/v1/surveys/{surveyId}', survey)).data).toEqual({ ...base, status: 'open', counts: { ...counts, sent: 3 }, responseRatePercent: 0 });

    // Nothing to show before the close.
    const scoresQuery = { params: { path: { proId }, query: { granularity: 'total' as const } } };
    const before = await rapport.GET('/v1/pros/{proId}/scores', scoresQuery);
    const to = periodOf(new Date(), 'Europe/Madrid');
    const from = periodOf(new Date(Date.UTC(Number(to.slice(0, 4)), Number(to.slice(5)) - 12, 15)), 'UTC');
    const scores = (total: Schemas['PeriodScores']): Schemas['ProScores'] => ({ proId, from, to, granularity: 'total', audience: null, anonymityThreshold: 3, periods: [total] });
    const nothing: Schemas['ScoreGroup'] = { n: 0, items: {} };
    expect(before.response.status).toBe(200);
    expect(before.data).toEqual(scores({ period: 'total', delivered: 3, responses: 0, responseRatePercent: 0, total: nothing, audiences: { reporter: nothing } }));

    // Closed now: the three reporters' answers are released as one batch (k = 3).
    const closed = await rapport.POST('/v1/surveys/{surveyId}/close', survey);
    expect(closed.response.status).toBe(200);
    // Its close time is now, and each invitation counts as sent and answered.
    const closesAt = closed.data!.closesAt;
    expect(Date.parse(closesAt)).toBeGreaterThan(opened);
    expect(Date.parse(closesAt)).toBeLessThanOrEqual(Date.now());
    expect(closed.data).toEqual({ ...base, closesAt, status: 'closed', counts: { ...counts, sent: 3, responded: 3 }, responseRatePercent: 100 });
    expect((await rapport.GET('/v1/surveys/{surveyId}', survey)).data).toEqual(closed.data);

    const after = await rapport.GET('/v1/pros/{proId}/scores', scoresQuery);
    expect(after.response.status).toBe(200);
    expect(after.error).toBeUndefined();
    expect(after.data).toEqual(scores({ period: 'total', delivered: 3, responses: 3, responseRatePercent: 100, total: REPORTERS, audiences: { reporter: REPORTERS } }));
  }, 60_000);
});

/**
 * Ana 5 and 9, Dan 4 and 8, Eva 3 and 6. Responsiveness: mean 4, sd 1, t(2) = 4.303, so 4 − 4.303/√3
 * (the top clipped to the scale); 2 of 3 answered 4 or 5, Wilson at 95%. Recommend: mean 23/3,
 * sd √(7/3), so 23/3 − 4.303·√(7/9); one promoter, one passive, one detractor: NPS 0, adjusted Wald.
 */
const REPORTERS: Schemas['ScoreGroup'] = {
  n: 3,
  items: {
    responsiveness: { n: 3, mean: 4, ci: [1.51566179167704, 5], percentResponsive: { responsive: 2, percent: 66.66666666666666, ci: [20.765495512648787, 93.85096847238394] } },
    recommend: { n: 3, mean: 7.666666666666667, ci: [3.8717773694963555, 10], nps: { promoters: 1, passives: 1, detractors: 1, score: 0, ci: [-61.1137373173077, 61.1137373173077] } },
  },
};
