import { describe, expect, it } from 'vitest';
import { closeRound, createRound, getRound, signInvitationToken, submitResponse, type Audience } from '@rapport/core';
import { agencyFixture, parseCsv, sesEmails, testDeps } from '@rapport/testing';
import { inProcessSendQueue, type Deps } from '../deps';

/**
 * The seven attacks of issue 10, each tried through the HTTP API as an agency with its own key
 * would, with k = 5 (the default). Each recovered one person's answer before release batches; each
 * must now recover nothing. The general property is the attacker test beside this file.
 */

const queue = inProcessSendQueue(() => deps, { ratePerSecond: 100 });
const deps: Deps = { ...testDeps(), queue };
const { db } = deps;

const HOUR = 3_600_000;

/** An agency, two pros, and a way to run a round: invitations really sent, answers posted to the survey pages. */
async function setup(settings: Record<string, unknown> = {}) {
  const f = await agencyFixture(deps);
  if (Object.keys(settings).length) expect((await f.call('PATCH', '/v1/settings', { body: settings })).status).toBe(200);
  const tag = f.agencyId.slice(-10).toLowerCase();
  const pro = async (name: string) => (await f.call('POST', '/v1/pros', { body: { name, email: `${name.toLowerCase()}-${tag}@acme.example` } })).body.proId as string;
  const campaign = async (proId: string, name: string) => (await f.call('POST', '/v1/campaigns', { body: { proId, name } })).body.campaignId as string;
  let rounds = 0;
  /** Sends a round and posts the given answers (one per recipient, `null` = no answer); returns its id and posting helpers. */
  async function round(campaignId: string, audiences: Audience[], answers: (Record<string, string> | null)[] = []) {
    const r = rounds++;
    const recipients = audiences.map((audience, i) => ({ email: `r${r}-${i}-${tag}@news.example`, name: `Person ${r}-${i}`, audience }));
    const created = await f.call('POST', `/v1/campaigns/${campaignId}/surveys`, { body: { recipients } });
    expect(created.status).toBe(202);
    const surveyId: string = created.body.surveyId;
    await queue.drain();
    const { data } = (await f.call('GET', `/v1/surveys/${surveyId}/invitations?limit=100`)).body;
    const link = (i: number) => {
      const invitationId = data.find((d: { email: string }) => d.email === recipients[i]!.email).invitationId;
      return `/s/${signInvitationToken(deps.linkSecret, { roundId: surveyId, invitationId })}`;
    };
    const answer = async (i: number, form: Record<string, string>) => {
      const res = await f.app.request(link(i), { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
      expect(res.status).toBe(200);
    };
    for (const [i, a] of answers.entries()) if (a) await answer(i, a);
    /** Closes the round an hour after its time; returns when. */
    const close = async () => {
      const at = new Date(Date.parse((await getRound(db, f.agencyId, surveyId)).closesAt) + HOUR);
      expect(await closeRound(db, surveyId, at)).toBe(true);
      return at;
    };
    return { surveyId, recipients, answer, close };
  }
  return { f, tag, pro, campaign, round };
}

const reporters = (scores: number[]): Record<string, string>[] => scores.map((s) => ({ responsiveness: String(s), recommend: String(s * 2) }));
const scoresOf = async (f: Awaited<ReturnType<typeof setup>>['f'], path: string) => {
  const res = await f.call('GET', path);
  expect(res.status).toBe(200);
  return res.body;
};

describe('the seven attacks of issue 10 recover nothing', () => {
  it('1. the audience filter: the total minus the reporters gives no colleague', async () => {
    const { f, pro, campaign, round } = await setup();
    const a = await pro('Ana');
    const r = await round(await campaign(a, 'Launch'), [...Array(6).fill('reporter'), 'colleague'], [...reporters([4, 4, 5, 3, 4, 5]), { responsiveness: '1' }]);
    await r.close();
    const all = (await scoresOf(f, `/v1/pros/${a}/scores?granularity=total`)).periods[0];
    const only = (await scoresOf(f, `/v1/pros/${a}/scores?granularity=total&audience=reporter`)).periods[0];
    // The lone colleague waits in the pool: the total is exactly the reporters' batch.
    expect(all.total.n).toBe(6);
    expect(only.total).toEqual(all.total);
    expect(all.audiences.colleague).toEqual({ n: 0, items: {} });
  });

  it("2. agency minus pro: the agency's reporters minus Ana's give nothing of Bo's", async () => {
    const { f, pro, campaign, round } = await setup();
    const [a, b] = [await pro('Ana'), await pro('Bo')];
    await (await round(await campaign(a, 'Launch'), Array(6).fill('reporter'), reporters([4, 4, 5, 3, 4, 5]))).close();
    await (await round(await campaign(b, 'Other'), ['reporter', 'reporter'], reporters([1]))).close();
    const agency = (await scoresOf(f, '/v1/scores?granularity=total&audience=reporter')).periods[0];
    const ana = (await scoresOf(f, `/v1/pros/${a}/scores?granularity=total&audience=reporter`)).periods[0];
    expect(agency.total).toEqual(ana.total);
    const pros = (await scoresOf(f, '/v1/scores?granularity=total')).pros;
    expect(pros.find((p: { proId: string }) => p.proId === b)).toMatchObject({ n: 0, items: {} });
  });

  it('3. overlapping periods: January and February minus January gives no February answer', async () => {
    const { f, pro, campaign } = await setup();
    const a = await pro('Ana');
    const c = await campaign(a, 'Launch');
    const run = async (at: string, audiences: Audience[], scores: number[]) => {
      const { round, accepted } = await createRound(db, f.agencyId, c, { recipients: audiences.map((audience, i) => ({ email: `${at.slice(0, 7)}-${i}-${f.agencyId.slice(3)}@news.example`, audience })) }, new Date(at));
      for (const [i, score] of scores.entries()) await submitResponse(db, accepted[i]!, { responsiveness: score }, new Date(Date.parse(at) + HOUR));
      await closeRound(db, round.roundId, new Date(Date.parse(round.closesAt) + HOUR));
    };
    await run('2030-01-05T09:00:00.000Z', Array(6).fill('reporter'), [4, 4, 5, 3, 4, 5]);
    await run('2030-02-05T09:00:00.000Z', ['reporter', 'reporter'], [1]);
    const both = (await scoresOf(f, `/v1/pros/${a}/scores?from=2030-01&to=2030-02&granularity=total`)).periods[0];
    const january = (await scoresOf(f, `/v1/pros/${a}/scores?from=2030-01&to=2030-01&granularity=total`)).periods[0];
    // February's lone answer waits in the pool: both months together are exactly January.
    expect(both.total).toEqual(january.total);
    expect(both.total.n).toBe(6);
  });

  it("4. the summary: the commitment's \"since then\" minus the previous period is a whole batch, never one answer", async () => {
    const { f, pro, campaign, round } = await setup();
    const a = await pro('Ana');
    const c = await campaign(a, 'Launch');
    expect((await f.call('POST', `/v1/pros/${a}/commitments`, { body: { text: 'Call back within a day' } })).status).toBe(201);
    await (await round(c, Array(5).fill('reporter'), reporters([4, 4, 5, 3, 4]))).close();
    const closedAt = await (await round(c, ['colleague', 'colleague'], [{ responsiveness: '1' }])).close();
    // The reporters' batch was released at its close; the lone colleague went to the pool.
    const month = closedAt.toISOString().slice(0, 7);
    const preview = (await scoresOf(f, `/v1/pros/${a}/summary?period=${month}`)).summary;
    const headline = preview.headline.find((h: { key: string }) => h.key === 'responsiveness');
    expect(headline.current.n).toBe(5);
    expect(preview.commitment.responsiveness.n).toBe(5);
    expect(preview.commitment.responsiveness.value).toBe(headline.current.value);
  });

  it('5. reading before and after an answer: nothing moves until the round closes, then a whole batch does', async () => {
    const { f, pro, campaign, round } = await setup();
    const a = await pro('Ana');
    const r = await round(await campaign(a, 'Launch'), Array(6).fill('reporter'), reporters([4, 4, 5, 3, 4]));
    const reads = async () =>
      JSON.stringify([
        await scoresOf(f, `/v1/pros/${a}/scores?granularity=total`),
        await scoresOf(f, '/v1/scores?granularity=total'),
        (await f.call('GET', '/v1/responses')).body,
        (await f.call('GET', '/v1/testimonials')).body,
        (await f.call('GET', `/v1/pros/${a}/summary`)).body,
      ]);
    const before = await reads();
    await r.answer(5, { responsiveness: '1', recommend: '0', improve: 'Never called back' });
    expect(await reads()).toBe(before);
    await r.answer(5, { responsiveness: '2' }); // a revision: still nothing
    expect(await reads()).toBe(before);
    await r.close();
    expect((await scoresOf(f, `/v1/pros/${a}/scores?granularity=total`)).periods[0].total.n).toBe(6);
  });

  it('6. lists joined to lists: the invitation list shows delivery only, and rows carry no time of answer', async () => {
    const { f, pro, campaign, round } = await setup();
    const a = await pro('Ana');
    const r = await round(await campaign(a, 'Launch'), Array(6).fill('reporter'), [
      ...reporters([4, 4, 5, 3, 4]).map((x) => ({ ...x, recommend: '10', improve: 'Great work', quoteConsent: 'yes' })),
    ]);
    const invitations = async () => (await f.call('GET', `/v1/surveys/${r.surveyId}/invitations?limit=100`)).body.data;
    for (const i of await invitations()) expect(i).toMatchObject({ status: 'sent', respondedAt: null, remindersSent: null, nextReminderAt: null });
    await r.answer(5, { responsiveness: '1', improve: 'Late and slow' });
    const after = await invitations();
    for (const i of after) expect(i).toMatchObject({ status: 'sent', respondedAt: null, remindersSent: null, nextReminderAt: null });
    const survey = (await f.call('GET', `/v1/surveys/${r.surveyId}`)).body;
    expect(survey.counts).toMatchObject({ sent: 6, responded: 6 });
    await r.close();
    for (const i of await invitations()) expect(i.status).toBe('sent');
    const rows = (await f.call('GET', '/v1/responses')).body.data;
    expect(rows).toHaveLength(6);
    for (const row of rows) expect(row).toMatchObject({ firstSubmittedAt: null, submittedAt: null, revision: null, surveyId: null, invitationId: null, respondent: null });
    expect(new Set(rows.map((row: { releasedAt: string }) => row.releasedAt)).size).toBe(1);
    const csv = parseCsv((await f.call('GET', '/v1/responses.csv')).body as string);
    const header = csv[0]!;
    for (const line of csv.slice(1)) {
      for (const column of ['first_submitted_at', 'submitted_at', 'revision', 'survey_id', 'invitation_id', 'respondent_email']) expect(line[header.indexOf(column)]).toBe('');
    }
    const quotes = (await f.call('GET', '/v1/testimonials')).body.data;
    expect(quotes).toHaveLength(5);
    for (const q of quotes) expect(Object.keys(q)).not.toContain('firstSubmittedAt');
  });

  it('7. early warnings: none for a group below k, so a lone reporter is never named by one', async () => {
    const { tag, pro, campaign, round } = await setup({ earlyWarnings: true });
    const a = await pro('Ana');
    await round(await campaign(a, 'Launch'), ['reporter', 'colleague', 'colleague', 'colleague', 'colleague', 'colleague'], [
      { responsiveness: '1', improve: 'Never answers' },
      { responsiveness: '2', improve: 'Slow' },
    ]);
    await queue.drain();
    // One reporter delivered, below k = 5: no warning for the reporter. Five colleagues: the colleague's comes, once.
    const warnings = await sesEmails({ to: `ana-${tag}@acme.example` });
    expect(warnings.map((w) => w.subject)).toEqual(['Early warning: a colleague rated your responsiveness 2/5 on the Launch']);
    expect(warnings[0]!.body.text).not.toContain('Never answers');
  });
});
