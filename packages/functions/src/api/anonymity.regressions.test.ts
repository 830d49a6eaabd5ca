import { describe, expect, it } from 'vitest';
import { closeRound, createRound, deliveryResponseRate, getRound, handleSesNotification, signInvitationToken, submitResponse, type Audience, type Round, type RoundWithProgress } from '@rapport/core';
import { deliver } from '@rapport/core/sending/dispatch';
import { agencyFixture, parseCsv, sesEmails, sesEventTags, testDeps } from '@rapport/testing';
import { deliveryDeps, inProcessSendQueue, type Deps } from '../deps';

/**
 * The seven attacks of issue 10, each tried through the HTTP API as an agency with its own key
 * would, with k = 5 (the default). Each recovered one person's answer before release batches; each
 * must now recover nothing. The general property is the attacker test beside this file.
 */

const queue = inProcessSendQueue(() => deps);
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
    // No live count of answers either: it would tell a link's holder whether its owner answered.
    const survey = (await f.call('GET', `/v1/surveys/${r.surveyId}`)).body;
    expect(survey).toMatchObject({ counts: { sent: 6, responded: 0 }, responseRatePercent: 0 });
    await r.close();
    expect((await f.call('GET', `/v1/surveys/${r.surveyId}`)).body).toMatchObject({ counts: { sent: 6, expired: 0, responded: 6 }, responseRatePercent: 100 });
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

describe('what the review of the release batches found, closed', () => {
  it('a survey link quoted in a reply shows nothing of the anonymous answer, nor that there is one', async () => {
    const { f, pro, campaign, round } = await setup();
    const r = await round(await campaign(await pro('Ana'), 'Launch'), ['reporter', 'reporter']);
    const { data } = (await f.call('GET', `/v1/surveys/${r.surveyId}/invitations?limit=100`)).body;
    const link = (i: number) => `/s/${signInvitationToken(deps.linkSecret, { roundId: r.surveyId, invitationId: data.find((d: { email: string }) => d.email === r.recipients[i]!.email).invitationId })}`;
    await r.answer(0, { responsiveness: '1', recommend: '2', improve: 'Ana never calls back' });
    const answered = await (await f.app.request(link(0))).text();
    const unanswered = await (await f.app.request(link(1))).text();
    expect(answered).not.toContain('Ana never calls back');
    expect(answered).not.toContain('checked');
    expect(answered).not.toContain('answered already');
    // The two pages are the same but for the link itself.
    expect(answered.replaceAll(link(0), '')).toBe(unanswered.replaceAll(link(1), ''));
  });

  it('one person answering several small rounds never fills a pool alone', async () => {
    const { f, pro, campaign } = await setup({ anonymityThreshold: 3, throttle: { clientDays: 0, minHoursBetweenSurveys: 0 } });
    const a = await pro('Ana');
    const c = await campaign(a, 'Retainer');
    const month = (m: number) => `2030-0${m}-05T09:00:00.000Z`;
    const oneClient = async (email: string, at: string, score: number) => {
      const { round, accepted } = await createRound(db, f.agencyId, c, { recipients: [{ email, audience: 'client' }] }, new Date(at));
      await submitResponse(db, accepted[0]!, { responsiveness: score }, new Date(Date.parse(at) + HOUR));
      await closeRound(db, round.roundId, new Date(Date.parse(round.closesAt) + HOUR));
    };
    const lone = `lone-${f.agencyId.slice(3)}@client.example`;
    for (const m of [1, 2, 3, 4]) await oneClient(lone, month(m), 1);
    const total = async () => (await scoresOf(f, `/v1/pros/${a}/scores?from=2030-01&to=2030-12&granularity=total`)).periods[0].total.n;
    expect(await total()).toBe(0);
    // Two more people: three different people in the pool, released together with all six answers.
    await oneClient(`second-${f.agencyId.slice(3)}@client.example`, month(5), 4);
    expect(await total()).toBe(0);
    await oneClient(`third-${f.agencyId.slice(3)}@client.example`, month(6), 5);
    expect(await total()).toBe(6);
  });

  it('an early warning counts only the deliveries made before the answer', async () => {
    const { f, tag, pro, campaign } = await setup({ earlyWarnings: true, anonymityThreshold: 3 });
    const c = await campaign(await pro('Ana'), 'Launch');
    const at = new Date();
    const { round, accepted } = await createRound(db, f.agencyId, c, { recipients: [0, 1, 2].map((i) => ({ email: `w${i}-${tag}@news.example`, audience: 'reporter' as const })) }, at);
    const send = (i: number) => deliver(deliveryDeps(deps), { kind: 'invitation', roundId: round.roundId, invitationId: accepted[i]!.invitationId });
    const warn = (i: number) => deliver(deliveryDeps(deps), { kind: 'early-warning', roundId: round.roundId, invitationId: accepted[i]!.invitationId });
    // Only the first email is out when its reader answers low; the others go out later.
    expect(await send(0)).toBe('sent');
    await submitResponse(db, accepted[0]!, { responsiveness: 1 }, new Date());
    expect(await send(1)).toBe('sent');
    expect(await send(2)).toBe('sent');
    expect(await warn(0)).toBe('skipped');
    // An answer given once all three were out warns.
    await new Promise((r) => setTimeout(r, 5));
    await submitResponse(db, accepted[2]!, { responsiveness: 2 }, new Date());
    expect(await warn(2)).toBe('sent');
    expect((await sesEmails({ to: `ana-${tag}@acme.example` })).map((m) => m.subject)).toEqual(['Early warning: a reporter rated your responsiveness 2/5 on the Launch']);
  });

  it("a reminder's bounce changes nothing an anonymous round shows", async () => {
    const { f, round } = await setup();
    const { campaignId, proId } = await f.call('POST', '/v1/pros', { body: { name: 'Bea', email: `bea-${f.agencyId.slice(3)}@acme.example` } }).then(async (p) => ({
      proId: p.body.proId as string,
      campaignId: (await f.call('POST', '/v1/campaigns', { body: { proId: p.body.proId, name: 'Launch' } })).body.campaignId as string,
    }));
    expect(proId).toMatch(/^pro_/);
    const r = await round(campaignId, ['reporter', 'reporter'], [{ responsiveness: '4' }]);
    const invitations = async () => (await f.call('GET', `/v1/surveys/${r.surveyId}/invitations?limit=100`)).body.data as { email: string; status: string }[];
    const unanswered = (await invitations()).find((i) => i.email === r.recipients[1]!.email)!;
    const { data } = (await f.call('GET', `/v1/surveys/${r.surveyId}/invitations?limit=100`)).body;
    const invitationId = data.find((d: { email: string }) => d.email === unanswered.email).invitationId;
    const { nextReminderAt } = (await db.doc.send(new (await import('@aws-sdk/lib-dynamodb')).GetCommand({ TableName: db.table, Key: { PK: `RND#${r.surveyId}`, SK: `INV#${invitationId}` } }))).Item!;
    expect(await deliver(deliveryDeps(deps), { kind: 'reminder', roundId: r.surveyId, invitationId, dueAt: nextReminderAt })).toBe('sent');
    const reminder = (await sesEmails({ to: unanswered.email })).find((m) => m.subject.startsWith('Reminder'))!;
    const bounce = JSON.stringify({
      eventType: 'Bounce',
      mail: { timestamp: new Date().toISOString(), source: 'surveys@rapport.example', messageId: reminder.messageId, destination: [unanswered.email], tags: sesEventTags({ agencyId: f.agencyId, roundId: r.surveyId, invitationId }, { kind: 'reminder', reminder: 1 }) },
      bounce: { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ emailAddress: unanswered.email }], timestamp: new Date().toISOString(), feedbackId: 'f' },
    });
    const outcome = await handleSesNotification(db, bounce, new Date());
    expect(outcome).toMatchObject({ kind: 'bounce', suppressed: [unanswered.email], invitation: null });
    expect((await invitations()).map((i) => i.status)).toEqual(['sent', 'sent']);
  });

  it('a closed anonymous round whose answers wait in the pool shows the same counts whether one recipient answered or none', async () => {
    const { f, pro, campaign, round } = await setup();
    const a = await pro('Ana');
    const answered = await round(await campaign(a, 'Launch'), ['reporter', 'reporter'], [reporters([4])[0]!, null]);
    const silent = await round(await campaign(a, 'Relaunch'), ['reporter', 'reporter']);
    await answered.close();
    await silent.close();
    const shown = async (surveyId: string) => {
      const { counts, responseRatePercent } = (await f.call('GET', `/v1/surveys/${surveyId}`)).body;
      return { counts, responseRatePercent };
    };
    // One answer is below k = 5: it waits in the pool, so the round releases nothing and must not
    // show, as `expired` against `sent`, how many of its recipients answered.
    expect(await shown(answered.surveyId)).toEqual(await shown(silent.surveyId));
    expect((await shown(silent.surveyId)).counts).toMatchObject({ sent: 2, expired: 0, responded: 0 });
  });

  it("an anonymous round's response rate is the same whichever invitation answered", () => {
    // a was sent; b's worker died after SES took the email, so b shows failed. One of them answered.
    const zero = { pending: 0, sending: 0, sent: 0, responded: 0, bounced: 0, failed: 0, expired: 0, skipped: 0 };
    const base = { attribution: 'anonymous', counts: { ...zero, sent: 1, responded: 1, failed: 1 } };
    const aAnswered = { ...base, counts: { ...base.counts, sent: 0 }, answeredFrom: { ...zero, sent: 1 } } as unknown as RoundWithProgress;
    const bAnswered = { ...base, counts: { ...base.counts, failed: 0 }, answeredFrom: { ...zero, failed: 1 } } as unknown as RoundWithProgress;
    expect(deliveryResponseRate(aAnswered)).toBe(deliveryResponseRate(bAnswered));
  });
});
