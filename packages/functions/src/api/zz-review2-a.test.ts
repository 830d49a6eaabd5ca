import { describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { closeRound, createRound, deliver, getRound, handleSesNotification, signInvitationToken, submitResponse, type Audience } from '@rapport/core';
import { agencyFixture, sesEmails, testDeps } from '@rapport/testing';
import { deliveryDeps, inProcessSendQueue, type Deps } from '../deps';

const queue = inProcessSendQueue(() => deps, { ratePerSecond: 100 });
const deps: Deps = { ...testDeps(), queue };
const { db } = deps;
const HOUR = 3_600_000;

async function setup(settings: Record<string, unknown> = {}) {
  const f = await agencyFixture(deps);
  if (Object.keys(settings).length) expect((await f.call('PATCH', '/v1/settings', { body: settings })).status).toBe(200);
  const tag = f.agencyId.slice(-10).toLowerCase();
  const pro = async (name: string) => (await f.call('POST', '/v1/pros', { body: { name, email: `${name.toLowerCase()}-${tag}@acme.example` } })).body.proId as string;
  const campaign = async (proId: string, name: string) => (await f.call('POST', '/v1/campaigns', { body: { proId, name } })).body.campaignId as string;
  let rounds = 0;
  async function round(campaignId: string, audiences: Audience[]) {
    const r = rounds++;
    const recipients = audiences.map((audience, i) => ({ email: `r${r}-${i}-${tag}@news.example`, name: `Person ${r}-${i}`, audience }));
    const created = await f.call('POST', `/v1/campaigns/${campaignId}/surveys`, { body: { recipients } });
    expect(created.status).toBe(202);
    const surveyId: string = created.body.surveyId;
    await queue.drain();
    const { data } = (await f.call('GET', `/v1/surveys/${surveyId}/invitations?limit=100`)).body;
    const invitationId = (i: number) => data.find((d: { email: string }) => d.email === recipients[i]!.email).invitationId as string;
    const link = (i: number) => `/s/${signInvitationToken(deps.linkSecret, { roundId: surveyId, invitationId: invitationId(i) })}`;
    const answer = async (i: number, form: Record<string, string>) => {
      const res = await f.app.request(link(i), { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
      expect(res.status).toBe(200);
      await queue.drain();
    };
    const responded = async () => (await f.call('GET', `/v1/surveys/${surveyId}`)).body.counts.responded as number;
    const statuses = async () => ((await f.call('GET', `/v1/surveys/${surveyId}/invitations?limit=100`)).body.data as { email: string; status: string }[]).map((i) => `${i.email.split('-')[1]}:${i.status}`).sort();
    return { surveyId, recipients, invitationId, link, answer, responded, statuses };
  }
  return { f, tag, pro, campaign, round };
}

describe('review 2', () => {
  it('A. a quoted link is an oracle: overwriting tells whether the person answered, and whether theirs was the warned answer', async () => {
    const { tag, pro, campaign, round } = await setup({ earlyWarnings: true, anonymityThreshold: 3 });
    const r = await round(await campaign(await pro('Ana'), 'Launch'), ['reporter', 'reporter', 'reporter', 'reporter']);
    // The real respondents: 0 low (warned), 1 high, 2 and 3 silent.
    await r.answer(0, { responsiveness: '1', improve: 'Never calls back' });
    await r.answer(1, { responsiveness: '5' });
    const warnings = async () => (await sesEmails({ to: `ana-${tag}@acme.example` })).length;
    expect(await warnings()).toBe(1);
    // The pro holds links 0, 1 and 2 (each quoted in a reply). Probe: post a low answer through each.
    const probe = async (i: number) => {
      const [c0, w0] = [await r.responded(), await warnings()];
      await r.answer(i, { responsiveness: '1' });
      return { hadAnswered: (await r.responded()) === c0, wasTheWarnedOne: (await warnings()) === w0 };
    };
    expect(await probe(2)).toEqual({ hadAnswered: false, wasTheWarnedOne: false });
    expect(await probe(1)).toEqual({ hadAnswered: true, wasTheWarnedOne: false });
    // Person 0 had answered, and their answer was the one warned about ("Never calls back").
    expect(await probe(0)).toEqual({ hadAnswered: true, wasTheWarnedOne: true });
  });

  it('B. address aliases make one lone client k people: the pool releases her answers alone', async () => {
    const { f, pro, campaign } = await setup({ anonymityThreshold: 3, throttle: { clientDays: 0, minHoursBetweenSurveys: 0 } });
    const a = await pro('Ana');
    const c = await campaign(a, 'Retainer');
    const tag = f.agencyId.slice(3).toLowerCase();
    const one = async (email: string, at: string, answers: Record<string, unknown>) => {
      const { round, accepted, skipped } = await createRound(db, f.agencyId, c, { recipients: [{ email, audience: 'client' }] }, new Date(at));
      expect(skipped).toEqual([]);
      await submitResponse(db, accepted[0]!, answers, new Date(Date.parse(at) + HOUR));
      await closeRound(db, round.roundId, new Date(Date.parse(round.closesAt) + HOUR));
    };
    await one(`alice+q1-${tag}@client.example`, '2030-01-05T09:00:00.000Z', { responsiveness: 1, improve: 'Q1: slow' });
    await one(`alice+q2-${tag}@client.example`, '2030-04-05T09:00:00.000Z', { responsiveness: 2, improve: 'Q2: still slow' });
    await one(`alice+q3-${tag}@client.example`, '2030-07-05T09:00:00.000Z', { responsiveness: 1, improve: 'Q3: gave up' });
    const rows = (await f.call('GET', `/v1/responses?proId=${a}`)).body.data as { answers: { improve: string } }[];
    expect(rows.map((x) => x.answers.improve).sort()).toEqual(['Q1: slow', 'Q2: still slow', 'Q3: gave up']);
  });

  it('C. reminders go only to non-respondents, reply-to the pro, and their bounce shows as a skip reason later', async () => {
    const { f, tag, pro, campaign, round } = await setup({ throttle: { reporterDays: 0, minHoursBetweenSurveys: 0 } });
    const a = await pro('Ana');
    const r = await round(await campaign(a, 'Launch'), ['reporter', 'reporter']);
    await r.answer(0, { responsiveness: '4' });
    for (const i of [0, 1]) {
      const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: { PK: `RND#${r.surveyId}`, SK: `INV#${r.invitationId(i)}` } }));
      if (Item!.nextReminderAt) await deliver(deliveryDeps(deps), { kind: 'reminder', roundId: r.surveyId, invitationId: r.invitationId(i), dueAt: Item!.nextReminderAt });
    }
    const reminders = async (i: number) => (await sesEmails({ to: r.recipients[i]!.email })).filter((m) => m.subject.startsWith('Reminder'));
    expect(await reminders(0)).toHaveLength(0);
    const [reminder] = await reminders(1);
    // A reply (or an auto-reply honouring Reply-To) to it reaches the pro, saying "Reminder:".
    expect(reminder!.replyTo.join()).toContain(`ana-${tag}@acme.example`);
    const bounce = JSON.stringify({
      eventType: 'Bounce',
      mail: { messageId: reminder!.messageId },
      bounce: { bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: r.recipients[1]!.email }] },
    });
    await handleSesNotification(db, bounce, new Date());
    expect(await r.statuses()).toEqual(['0:sent', '1:sent']);
    // Next campaign: the same two addresses. The one that got a reminder is "bounced": the non-respondent.
    const again = await f.call('POST', `/v1/campaigns/${await campaign(a, 'Next')}/surveys`, { body: { recipients: r.recipients.map(({ email, audience }) => ({ email, audience })) } });
    expect(again.body.skipped).toEqual([{ index: 1, email: r.recipients[1]!.email, reason: 'bounced' }]);
  });

  it('D. an early warning is checked against bounces known at send time only: later bounces leave the warned answer alone', async () => {
    const { tag, pro, campaign, round } = await setup({ earlyWarnings: true, anonymityThreshold: 3 });
    const r = await round(await campaign(await pro('Ana'), 'Launch'), ['reporter', 'reporter', 'reporter']);
    await r.answer(0, { responsiveness: '1', improve: 'Never calls back' });
    expect((await sesEmails({ to: `ana-${tag}@acme.example` })).length).toBe(1);
    for (const i of [1, 2]) {
      const [mail] = await sesEmails({ to: r.recipients[i]!.email });
      await handleSesNotification(db, JSON.stringify({ eventType: 'Bounce', mail: { messageId: mail!.messageId }, bounce: { bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: r.recipients[i]!.email }] } }), new Date());
    }
    // The warning was about the only invitation delivered: person 0.
    expect(await r.statuses()).toEqual(['0:sent', '1:bounced', '2:bounced']);
  });
});

describe('review 2, counts', () => {
  it('E. after the close, responded minus the released batch sizes is a per-audience count: a lone colleague is seen to have answered', async () => {
    const { f, pro, campaign, round } = await setup({ anonymityThreshold: 5 });
    const a = await pro('Ana');
    const c = await campaign(a, 'Launch');
    const r = await round(c, [...Array(6).fill('reporter'), 'colleague']);
    for (const i of [0, 1, 2, 3, 4]) await r.answer(i, { responsiveness: '4' });
    await r.answer(6, { responsiveness: '1' });
    expect(await r.responded()).toBe(6); // 6 of 7: one reporter or the colleague is missing
    const at = new Date(Date.parse((await getRound(db, f.agencyId, r.surveyId)).closesAt) + HOUR);
    expect(await closeRound(db, r.surveyId, at)).toBe(true);
    const scores = (await f.call('GET', `/v1/campaigns/${c}/scores`)).body;
    console.log(JSON.stringify(scores).slice(0, 600));
    const rows = (await f.call('GET', `/v1/responses?campaignId=${c}&audience=reporter`)).body.data;
    expect(rows).toHaveLength(5); // 5 reporters released, so the 6th answer is the colleague's
  });
});

describe('review 2, reminders and warnings', () => {
  it('C2. with early warnings, the reminders (reply-to the pro) name whose answer the warning was', async () => {
    const { tag, pro, campaign, round } = await setup({ earlyWarnings: true, anonymityThreshold: 3 });
    const r = await round(await campaign(await pro('Ana'), 'Launch'), ['reporter', 'reporter', 'reporter']);
    await r.answer(2, { responsiveness: '1', improve: 'Never calls back' });
    expect((await sesEmails({ to: `ana-${tag}@acme.example` })).map((m) => m.subject)).toHaveLength(1);
    for (const i of [0, 1, 2]) {
      const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: { PK: `RND#${r.surveyId}`, SK: `INV#${r.invitationId(i)}` } }));
      if (Item!.nextReminderAt) await deliver(deliveryDeps(deps), { kind: 'reminder', roundId: r.surveyId, invitationId: r.invitationId(i), dueAt: Item!.nextReminderAt });
    }
    const got = async (i: number) => (await sesEmails({ to: r.recipients[i]!.email })).filter((m) => m.subject.startsWith('Reminder')).map((m) => m.replyTo.join());
    expect(await got(0)).toEqual([expect.stringContaining(`ana-${tag}@acme.example`)]);
    expect(await got(1)).toEqual([expect.stringContaining(`ana-${tag}@acme.example`)]);
    expect(await got(2)).toEqual([]);
    // Replies from 0 and 1 to a "Reminder:" email reach Ana: the warned answer is 2's.
  });
});
