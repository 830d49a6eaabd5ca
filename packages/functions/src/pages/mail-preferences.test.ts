import { afterAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { addressHash, keys, runSummaries, signInvitationToken, signMailToken } from '@rapport/core';
import { agencyFixture, headerLines, isolatedTestDeps, rawTo, recordingSesMailer, sesEmails } from '@rapport/testing';
import { createApp } from '../api/app';
import { inProcessSendQueue, type Deps } from '../deps';

/**
 * The preference links of Rapport's own emails, end to end: the jobs send through a mailer on the
 * local SES server that keeps the raw messages (the server's store drops custom headers), on a table
 * of their own (the summary run walks every agency), at a clock the test moves.
 */
const recorder = recordingSesMailer();
let clock = new Date('2031-01-08T10:00:00Z');
const queue = inProcessSendQueue(() => deps);
const deps: Deps = await isolatedTestDeps({ mailer: recorder.mailer, now: () => clock, queue });
afterAll(() => {
  recorder.destroy();
  deps.db.client.destroy();
});
const app = createApp(deps);
let n = 0;

const get = async (key: { PK: string; SK: string }) => (await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: key, ConsistentRead: true }))).Item;

/** The `List-Unsubscribe` URL and `List-Unsubscribe-Post` of a raw message. */
function unsubscribeHeaders(raw: Buffer) {
  const lines = headerLines(raw);
  const url = lines.find((l) => l.startsWith('List-Unsubscribe: '))?.match(/^List-Unsubscribe: <(.+)>$/)?.[1];
  return { url, post: lines.filter((l) => l.startsWith('List-Unsubscribe-Post: ')) };
}

const form = (path: string, body: string, on = app) =>
  on.request(path, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body });

/**
 * An agency (k = 3, early warnings on, one admin address) whose pro calls herself
 * `ceo@bank.example`, and `round()`: a named round to three new reporters, emailed, with one low
 * answer given (which queues an early warning), and the queue drained.
 */
async function team() {
  const f = await agencyFixture(deps, 'Acme PR');
  const tag = `${++n}-${f.agencyId.slice(-8).toLowerCase()}`;
  const proEmail = `jane-${tag}@acme.example`;
  const adminEmail = `boss-${tag}@acme.example`;
  expect((await f.call('PATCH', '/v1/settings', { body: { anonymityThreshold: 3, earlyWarnings: true, summary: { adminEmails: [adminEmail] } } })).status).toBe(200);
  const { proId } = (await f.call('POST', '/v1/pros', { body: { name: 'ceo@bank.example', email: proEmail } })).body;
  const { campaignId } = (await f.call('POST', '/v1/campaigns', { body: { proId, name: 'Spring Launch' } })).body;
  let rounds = 0;
  const round = async () => {
    const recipients = [0, 1, 2].map((i) => ({ email: `r${i}-${++rounds}-${tag}@news.example`, audience: 'reporter' }));
    const { surveyId } = (await f.call('POST', `/v1/campaigns/${campaignId}/surveys`, { body: { recipients, attribution: 'named' } })).body;
    await queue.drain();
    const { data } = (await f.call('GET', `/v1/surveys/${surveyId}/invitations?limit=100`)).body;
    const ref = { roundId: surveyId as string, invitationId: data[0].invitationId as string };
    expect((await form(`/s/${signInvitationToken(deps.linkSecret, ref)}`, 'responsiveness=1&recommend=2')).status).toBe(200);
    await queue.drain();
    return recipients.map((r) => r.email);
  };
  const summaries = async (period: string) => {
    await runSummaries({ db: deps.db, queue }, clock, { period });
    await queue.drain();
  };
  return { f, proId, proEmail, adminEmail, round, summaries };
}

describe('preference links of summaries, agency summaries and early warnings', () => {
  it('every kind of email carries a List-Unsubscribe that fits it, From names never pass for an address, and the one-click POST stops the next summary and warning', async () => {
    const { f, proId, proEmail, adminEmail, round, summaries } = await team();
    const reporters = await round();
    await summaries('2031-01');

    // Survey mail unsubscribes the recipient (/u/); the pro's name, an address, gives way to the agency's.
    for (const email of reporters) {
      const [raw, ...more] = rawTo(recorder.sent, email);
      expect(more).toEqual([]);
      const { url, post } = unsubscribeHeaders(raw!);
      expect(url).toMatch(/^http:\/\/localhost:3000\/u\/rnd_/);
      expect(post).toEqual(['List-Unsubscribe-Post: List-Unsubscribe=One-Click']);
      expect((await sesEmails({ to: email }))[0]!.from).toBe(`"Acme PR via Rapport" <${deps.config.mailFrom}>`);
    }
    // The pro got an early warning and a summary, the admin the agency summary: each with its own preference link.
    const proMail = rawTo(recorder.sent, proEmail);
    expect(proMail).toHaveLength(2);
    const [warning, summary] = proMail.map(unsubscribeHeaders);
    const [agencySummary, ...moreAdmin] = rawTo(recorder.sent, adminEmail).map(unsubscribeHeaders);
    expect(moreAdmin).toEqual([]);
    const now = clock;
    expect(warning!.url).toBe(`http://localhost:3000/m/${signMailToken(deps.linkSecret, { stream: 'earlyWarnings', agencyId: f.agencyId, proId }, now)}`);
    expect(summary!.url).toBe(`http://localhost:3000/m/${signMailToken(deps.linkSecret, { stream: 'summaries', agencyId: f.agencyId, proId }, now)}`);
    expect(agencySummary!.url).toBe(
      `http://localhost:3000/m/${signMailToken(deps.linkSecret, { stream: 'agencySummary', agencyId: f.agencyId, adminHash: addressHash(adminEmail) }, now)}`,
    );
    for (const m of [warning!, summary!, agencySummary!]) expect(m.post).toEqual(['List-Unsubscribe-Post: List-Unsubscribe=One-Click']);
    for (const email of [proEmail, adminEmail]) {
      for (const stored of await sesEmails({ to: email })) expect(stored.from).toBe(`"Acme PR via Rapport" <${deps.config.mailFrom}>`);
    }
    // The visible link is in the text and HTML parts too.
    const [storedWarning, storedSummary] = await sesEmails({ to: proEmail });
    expect(storedWarning!.body.text).toContain(`Stop these alerts: ${warning!.url}`);
    expect(storedSummary!.body.text).toContain(`Stop or change these emails: ${summary!.url}`);
    expect(storedSummary!.body.html).toContain(`href="${summary!.url}"`);

    const path = (url: string | undefined) => new URL(url!).pathname;
    // A GET (a mail scanner) shows the choice and changes nothing.
    const page = await app.request(path(summary!.url));
    expect(page.status).toBe(200);
    expect(page.headers.get('Cache-Control')).toBe('no-store');
    const html = await page.text();
    expect(html).toContain('Stop these emails');
    expect(html).toMatch(/<input type="radio" id="stop-summaries" name="stop" value="summaries" checked=""/);
    expect(await get(keys.pro(f.agencyId, proId))).not.toHaveProperty('summariesOff');

    // The one-click POSTs (RFC 8058) each stop their own stream.
    for (const m of [summary!, warning!, agencySummary!]) {
      const res = await form(path(m.url), 'List-Unsubscribe=One-Click');
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('<button type="submit">Undo</button>');
    }
    expect(await get(keys.pro(f.agencyId, proId))).toMatchObject({ summariesOff: now.toISOString(), earlyWarningsOff: now.toISOString() });
    expect(await get(keys.adminMail(f.agencyId, addressHash(adminEmail)))).toMatchObject({ agencySummaryOff: now.toISOString() });

    // The next month: a low answer and the summaries send nothing, each settled as unsubscribed, never retried.
    clock = new Date('2031-02-10T10:00:00Z');
    await round();
    await summaries('2031-02');
    expect(rawTo(recorder.sent, proEmail)).toHaveLength(2);
    expect(rawTo(recorder.sent, adminEmail)).toHaveLength(1);
    expect(await get(keys.summarySent(f.agencyId, proId, '2031-02'))).toMatchObject({ status: 'unsubscribed' });
    expect(await get(keys.agencyAdminSummarySent(f.agencyId, '2031-02', addressHash(adminEmail)))).toMatchObject({ status: 'unsubscribed' });

    // Undo brings the summaries back (and only them).
    const undo = await form(path(summary!.url), 'resume=summaries');
    expect(await undo.text()).toContain('You will get improvement summaries again.');
    const pro = await get(keys.pro(f.agencyId, proId));
    expect(pro).not.toHaveProperty('summariesOff');
    expect(pro).toHaveProperty('earlyWarningsOff');
  }, 60_000);

  it('lets the page stop both streams, or resume one, and refuses a POST that chooses nothing', async () => {
    const { f, proId } = await team();
    const path = `/m/${signMailToken(deps.linkSecret, { stream: 'earlyWarnings', agencyId: f.agencyId, proId }, clock)}`;
    expect((await form(path, 'stop=all')).status).toBe(200);
    expect(await get(keys.pro(f.agencyId, proId))).toMatchObject({ summariesOff: clock.toISOString(), earlyWarningsOff: clock.toISOString() });
    const page = await (await app.request(path)).text();
    expect(page).toContain('You have stopped improvement summaries.');
    expect(page).toContain('Get early warnings again');
    expect((await form(path, 'resume=earlyWarnings')).status).toBe(200);
    expect(await get(keys.pro(f.agencyId, proId))).not.toHaveProperty('earlyWarningsOff');
    // A stream that is not the link's recipient's, or no choice at all, changes nothing.
    expect((await form(path, 'stop=agencySummary')).status).toBe(400);
    expect((await form(path, '')).status).toBe(400);
    expect(await get(keys.pro(f.agencyId, proId))).not.toHaveProperty('earlyWarningsOff');
  });

  it('gives forged, altered, expired and survey-purpose tokens the invalid-link page, and changes nothing', async () => {
    const { f, proId } = await team();
    const token = signMailToken(deps.linkSecret, { stream: 'summaries', agencyId: f.agencyId, proId }, clock);
    const invalid = await (await app.request('/s/garbage')).text();
    const altered = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    const otherPro = signMailToken(deps.linkSecret, { stream: 'summaries', agencyId: f.agencyId, proId: 'pro_01JAAAAAAAAAAAAAAAAAAAAAAA' }, clock);
    // A survey link's token, whatever it names, is no preference token, and the other way round.
    const surveyToken = signInvitationToken(deps.linkSecret, { roundId: 'rnd_01JAAAAAAAAAAAAAAAAAAAAAAA', invitationId: 'inv_01JAAAAAAAAAAAAAAAAAAAAAAA' });
    const later = createApp({ ...deps, now: () => new Date(clock.getTime() + 366 * 86_400_000) });
    const answers = [
      await app.request(`/m/${altered}`),
      await app.request(`/m/${otherPro}`),
      await app.request(`/m/${surveyToken}`),
      await app.request(`/s/${token}`),
      await app.request('/m/garbage'),
      await later.request(`/m/${token}`),
      await form(`/m/${altered}`, 'List-Unsubscribe=One-Click'),
      await form(`/m/${token}`, 'List-Unsubscribe=One-Click', later),
    ];
    expect(answers.map((a) => a.status)).toEqual([404, 404, 404, 404, 404, 404, 404, 404]);
    for (const a of answers) expect(await a.text()).toBe(invalid);
    expect(await get(keys.pro(f.agencyId, proId))).not.toHaveProperty('summariesOff');
  });
});
