import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  addressHash,
  closeRound,
  checkRounds,
  eventIdFor,
  handleSesNotification,
  recordedSends,
  recoverSends,
  signInvitationToken,
  SurveyClosedError,
  eraseAddress,
  ensureTable,
  keys,
  periodOf,
  runRetention,
  submitResponse,
  suppress,
  sweepWebhooks,
  type SendJob,
} from '@rapport/core';
import { deliver } from '@rapport/core/sending/dispatch';
import { agencyFixture, collectingQueue, consoleSession, faultyDb, itemsHolding, sesEmails, sesEventTags, testAddress, testConfig, workerAt, type AgencyFixture } from '@rapport/testing';
import { createDeps, type Deps } from '../../deps';

let deps: Deps;

beforeAll(async () => {
  // A table of its own: the test reads the whole table for the erased strings, and the retention pass its whole due index.
  const config = { ...testConfig({ WEBHOOKS_ALLOW_LOOPBACK: 'true' }), table: `rapport-test-${randomUUID().slice(0, 8)}` };
  const address = testAddress();
  deps = createDeps(config, { clientAddress: () => address, queue: collectingQueue() });
  await ensureTable(deps.db.client, config.table);
});
afterAll(() => deps.db.client.destroy());

const TARGET = { email: 'Jane.Target@Outlet.example', name: 'Jane Targetname', outlet: 'The Target Gazette' };
const COMMENT = 'Answers fast, a unique-erasure-comment-7Q';
const answers = (recommend: number, improve?: string) => ({ responsiveness: 5, recommend, listening: 4, ...(improve ? { improve, quoteConsent: true } : {}) });

/**
 * A pro and campaign, and a named round to the target and two others, all answered with comments
 * (the target's quotable). `tag` makes every string of it unique to the test.
 */
async function surveyed(fx: AgencyFixture, at: Date, tag = '', { targetAnswers = true } = {}) {
  const target = { email: tag ? `${tag}-${TARGET.email}` : TARGET.email, name: `${TARGET.name}${tag}`, outlet: `${TARGET.outlet}${tag}` };
  const comment = `${COMMENT}${tag}`;
  const otherComment = `Other comment stays${tag}`;
  const pro = (await fx.call('POST', '/v1/pros', { body: { name: `Pat Pro${tag}`, email: `pat-${randomUUID().slice(0, 6)}@agency.example` } })).body;
  const campaign = (await fx.call('POST', '/v1/campaigns', { body: { proId: pro.proId, name: 'Launch' } })).body;
  const created = await fx.call('POST', `/v1/campaigns/${campaign.campaignId}/surveys`, {
    body: {
      attribution: 'named',
      recipients: [
        { ...target, audience: 'reporter' },
        { email: `other1${tag}@outlet.example`, name: `Other One${tag}`, audience: 'reporter' },
        { email: `other2${tag}@outlet.example`, audience: 'reporter' },
      ],
    },
    headers: { 'Idempotency-Key': `round-${randomUUID()}` },
  });
  expect(created.status).toBe(202);
  const roundId = created.body.surveyId as string;
  const invitations = (await fx.call('GET', `/v1/surveys/${roundId}/invitations`)).body.data as { invitationId: string; email: string }[];
  expect(invitations).toHaveLength(3);
  const targetId = invitations.find((i) => i.email === target.email)!.invitationId;
  for (const i of invitations) {
    if (i.invitationId === targetId && !targetAnswers) continue;
    await submitResponse(deps.db, { roundId, invitationId: i.invitationId }, i.invitationId === targetId ? answers(10, comment) : answers(7, otherComment), at);
  }
  return { pro, campaign, roundId, target: targetId, strings: { ...target, comment, otherComment } };
}

describe('Erasure', () => {
  it('leaves no endpoint, export, webhook body, console page or item holding the address, name or comment; scores stay; the next round skips it as erased', async () => {
    const fx = await agencyFixture(deps);
    const now = new Date();
    const hook = await fx.call('POST', '/v1/webhooks', { body: { url: 'http://127.0.0.1:9/hook', events: ['response.created', 'recipient.unsubscribed'] } });
    expect(hook.status).toBe(201);
    const { pro, campaign, roundId } = await surveyed(fx, now);
    // The agency also suppressed them by hand: its list, the stored idempotent answer and a webhook event name them.
    expect((await fx.call('POST', '/v1/suppressions', { body: { email: TARGET.email }, headers: { 'Idempotency-Key': 'sup-1' } })).status).toBe(201);
    await sweepWebhooks(deps.db, collectingQueue(), new Date(now.getTime() + 1000));
    const needles = [TARGET.email, TARGET.name, TARGET.outlet, COMMENT];
    // Two webhook deliveries, the testimonial, the invitation, the response, the list entry, the stored answer.
    expect(await itemsHolding(deps.db, needles)).toHaveLength(7);
    const scores = (await fx.call('GET', `/v1/pros/${pro.proId}/scores`)).body;
    // The pro's summary email of the month (as the job would render it) quotes the comment before.
    const summaryPath = `/v1/pros/${pro.proId}/summary?period=${periodOf(now, (await fx.call('GET', '/v1/settings')).body.timezone)}`;
    expect((await fx.call('GET', summaryPath)).body.text).toContain(COMMENT);

    const erased = await fx.call('POST', '/v1/erasures', { body: { email: TARGET.email } });
    expect(erased.status).toBe(201);
    expect(erased.headers.get('Location')).toBe(`/v1/erasures/${erased.body.erasureId}`);
    expect(erased.body).toEqual({
      erasureId: expect.stringMatching(/^era_/),
      addressHash: addressHash(TARGET.email),
      status: 'done',
      requestedAt: erased.body.requestedAt,
      requestedBy: expect.stringMatching(/^key_/),
      completedAt: erased.body.requestedAt,
      erased: { invitations: 1, responses: 1, webhookBodies: 2, storedAnswers: 1 },
    });
    expect(await itemsHolding(deps.db, needles)).toEqual([]);
    // The hash-keyed suppression and the record are all that is left of it.
    const { Item: suppression } = await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.agencySuppression(addressHash(TARGET.email), fx.agencyId) }));
    expect(suppression).toMatchObject({ reason: 'erased' });

    const reveals = (body: unknown) => needles.some((n) => JSON.stringify(body).toLowerCase().includes(n.toLowerCase()));
    for (const path of [`/v1/surveys/${roundId}/invitations`, '/v1/responses', '/v1/testimonials', `/v1/surveys/${roundId}/skipped`, '/v1/responses.csv', '/v1/suppressions', `/v1/webhooks/${hook.body.webhookId}/deliveries`, summaryPath]) {
      const res = await fx.call('GET', path);
      expect(res.status, path).toBe(200);
      expect(reveals(res.body), path).toBe(false);
    }
    const session = await consoleSession(deps, { kind: 'pro', agencyId: fx.agencyId, proId: pro.proId });
    const page = await fx.app.request(`/app/rounds/${roundId}`, { headers: { Cookie: session.cookie } });
    expect(page.status).toBe(200);
    expect(reveals(await page.text())).toBe(false);
    // The released rows stay, without it: the others' comments too.
    expect(JSON.stringify((await fx.call('GET', '/v1/responses')).body)).toContain('Other comment stays');
    expect((await fx.call('GET', `/v1/pros/${pro.proId}/scores`)).body).toEqual(scores);

    const listed = await fx.call('GET', '/v1/erasures', { key: fx.readKey });
    expect(listed.body.data).toEqual([erased.body]);
    expect((await fx.call('GET', `/v1/erasures/${erased.body.erasureId}`, { key: fx.readKey })).body).toEqual(erased.body);
    // Asked again: done again, the first record kept.
    const again = await fx.call('POST', '/v1/erasures', { body: { email: TARGET.email.toLowerCase() } });
    expect(again.status).toBe(200);
    expect(again.headers.get('Location')).toBeNull();
    // The answer moved off the key its address gives with the first run: none found there again.
    expect(again.body).toMatchObject({ erasureId: erased.body.erasureId, requestedAt: erased.body.requestedAt, erased: { invitations: 1, responses: 0, webhookBodies: 0, storedAnswers: 0 } });

    const next = await fx.call('POST', `/v1/campaigns/${campaign.campaignId}/surveys`, { body: { recipients: [{ ...TARGET, audience: 'client' }, { email: 'fresh@outlet.example', audience: 'client' }] } });
    expect(next.status).toBe(202);
    expect(next.body.skipped).toEqual([{ index: 0, email: '', reason: 'erased' }]);
    expect(await itemsHolding(deps.db, needles)).toEqual([]);
    // Not liftable, not re-listed by a later unsubscribe of the agency.
    expect((await fx.call('DELETE', `/v1/suppressions/${encodeURIComponent(TARGET.email)}`)).status).toBe(409);
    expect((await fx.call('POST', '/v1/suppressions', { body: { email: TARGET.email } })).status).toBe(200);
    expect(await itemsHolding(deps.db, needles.slice(1))).toEqual([]);
  });

  it('interrupted between writes (injected fault), then retried, ends complete and consistent', async () => {
    const fx = await agencyFixture(deps);
    const now = new Date();
    const { roundId, target, strings } = await surveyed(fx, now, '-fault');
    const faulty = faultyDb(deps.db);
    // Record, suppression, the invitation closed to answers, the stored answer of the round, the two
    // list entries, the invitation: the 8th write (the testimonial's delete) fails, the response not yet erased.
    faulty.failWrite(8);
    await expect(eraseAddress(faulty.db, fx.agencyId, { email: strings.email }, 'key_test', now)).rejects.toThrow('Injected fault');
    const { Item: pending } = await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.erasure(fx.agencyId, (await fx.call('GET', '/v1/erasures')).body.data[0].erasureId) }));
    expect(pending).toMatchObject({ status: 'pending', completedAt: null });
    const needles = [strings.email, strings.name, strings.outlet, strings.comment];
    expect((await itemsHolding(deps.db, needles)).length).toBeGreaterThan(0);

    const { erasure, created } = await eraseAddress(deps.db, fx.agencyId, { email: strings.email }, 'key_other', new Date(now.getTime() + 1000));
    expect(created).toBe(false);
    expect(erasure).toMatchObject({ status: 'done', requestedBy: 'key_test', requestedAt: now.toISOString() });
    expect(await itemsHolding(deps.db, needles)).toEqual([]);
    // Listed under another id now (the one its address gives is a hash anyone knowing it can compute).
    const invitations = (await fx.call('GET', `/v1/surveys/${roundId}/invitations`)).body.data as { invitationId: string; email: string }[];
    expect(invitations.map((i) => i.invitationId)).not.toContain(target);
    expect(invitations.find((i) => i.email === '')).toMatchObject({ email: '', name: null, outlet: null, status: 'responded' });
  });
});

describe('Erasure, attacked', () => {
  it('an answer submitted between any two of the erasure’s writes is erased with the rest, or refused as closed', async () => {
    const fx = await agencyFixture(deps);
    const now = new Date();
    // Each write position in turn, until the erasure makes fewer writes than that (the answer refused, nothing of it to erase).
    for (let nth = 1; ; nth++) {
      const { target, roundId, strings } = await surveyed(fx, now, `-race${nth}`, { targetAnswers: false });
      const faulty = faultyDb(deps.db);
      let submitted: 'answered' | 'closed' | undefined;
      faulty.beforeWrite(nth, () =>
        submitResponse(deps.db, { roundId, invitationId: target }, answers(9, strings.comment), now).then(
          () => (submitted = 'answered'),
          (error: Error) => {
            // Closed, or (past the erasure's last write) moved off this id, which answers as closed.
            expect(error, `write ${nth}`).toBeInstanceOf(SurveyClosedError);
            submitted = 'closed';
          },
        ),
      );
      await eraseAddress(faulty.db, fx.agencyId, { email: strings.email }, 'key_test', now);
      expect(await itemsHolding(deps.db, [strings.email, strings.name, strings.outlet, strings.comment]), `submit before write ${nth}`).toEqual([]);
      if (submitted === undefined) {
        faulty.disarm();
        expect(nth).toBeGreaterThan(5);
        break;
      }
    }
  });

  it('the stored answer of a round created with an Idempotency-Key names no erased address, whichever write of the request the erasure comes before', async () => {
    const faulty = faultyDb(deps.db);
    const fx = await agencyFixture({ ...deps, db: faulty.db });
    const pro = (await fx.call('POST', '/v1/pros', { body: { name: 'Idem Pro', email: `idem-${randomUUID().slice(0, 6)}@agency.example` } })).body;
    const campaign = (await fx.call('POST', '/v1/campaigns', { body: { proId: pro.proId, name: 'Again' } })).body;
    for (let nth = 1; ; nth++) {
      const target = { email: `idem${nth}-${TARGET.email}`, name: `${TARGET.name} idem${nth}`, outlet: `${TARGET.outlet} idem${nth}` };
      // Surveyed a moment ago: the new round skips the address as throttled, and its 202 lists it.
      const first = await fx.call('POST', `/v1/campaigns/${campaign.campaignId}/surveys`, { body: { recipients: [{ ...target, audience: 'reporter' }] } });
      expect(first.status).toBe(202);
      const request = {
        body: { recipients: [{ ...target, audience: 'reporter' }, { email: `idem${nth}-other@outlet.example`, audience: 'reporter' }] },
        headers: { 'Idempotency-Key': `idem-erasure-${nth}-${randomUUID()}` },
      };
      let erased = false;
      faulty.beforeWrite(nth, () => eraseAddress(deps.db, fx.agencyId, { email: target.email }, 'key_test', new Date()).then(() => (erased = true)));
      const answer = await fx.call('POST', `/v1/campaigns/${campaign.campaignId}/surveys`, request);
      expect(answer.status, `write ${nth}`).toBe(202);
      if (!erased) {
        faulty.disarm();
        expect(nth).toBeGreaterThan(5);
        break;
      }
      const replayed = await fx.call('POST', `/v1/campaigns/${campaign.campaignId}/surveys`, request);
      expect(replayed.headers.get('Idempotent-Replayed'), `write ${nth}`).toBe('true');
      expect(JSON.stringify(replayed.body).toLowerCase(), `erasure before write ${nth}`).not.toContain(target.email.toLowerCase());
      expect(await itemsHolding(deps.db, [target.email, target.name, target.outlet]), `erasure before write ${nth}`).toEqual([]);
    }
  });

  it('erases the address from the deliveries of a webhook deleted since', async () => {
    const fx = await agencyFixture(deps);
    const now = new Date();
    const hook = await fx.call('POST', '/v1/webhooks', { body: { url: 'http://127.0.0.1:9/hook', events: ['response.created'] } });
    const { strings } = await surveyed(fx, now, '-gone');
    await sweepWebhooks(deps.db, collectingQueue(), new Date(now.getTime() + 1000));
    const needles = [strings.email, strings.name, strings.outlet, strings.comment];
    expect((await itemsHolding(deps.db, needles)).filter((k) => k.startsWith(`HOOK#${hook.body.webhookId}|`))).toHaveLength(1);
    expect((await fx.call('DELETE', `/v1/webhooks/${hook.body.webhookId}`)).status).toBe(204);

    expect((await fx.call('POST', '/v1/erasures', { body: { email: strings.email } })).body.erased).toMatchObject({ webhookBodies: 1 });
    expect(await itemsHolding(deps.db, needles)).toEqual([]);
  });
});

describe('Erasure and anonymity', () => {
  it('tells nothing of whether the person answered an anonymous round: the record of one who answered equals that of one who did not', async () => {
    const fx = await agencyFixture(deps);
    const now = new Date();
    const pro = (await fx.call('POST', '/v1/pros', { body: { name: 'Anon Pro', email: `anon-${randomUUID().slice(0, 6)}@agency.example` } })).body;
    const campaign = (await fx.call('POST', '/v1/campaigns', { body: { proId: pro.proId, name: 'Quiet' } })).body;
    const recipients = ['answered@anon.example', 'silent@anon.example', 'third@anon.example'].map((email) => ({ email, audience: 'reporter' }));
    const created = await fx.call('POST', `/v1/campaigns/${campaign.campaignId}/surveys`, { body: { attribution: 'anonymous', recipients } });
    expect(created.status).toBe(202);
    const invitations = (await fx.call('GET', `/v1/surveys/${created.body.surveyId}/invitations`)).body.data as { invitationId: string; email: string }[];
    const answered = invitations.find((i) => i.email === 'answered@anon.example')!;
    await submitResponse(deps.db, { roundId: created.body.surveyId, invitationId: answered.invitationId }, answers(3), now);

    const records = [];
    for (const email of ['answered@anon.example', 'silent@anon.example']) {
      records.push((await fx.call('POST', '/v1/erasures', { body: { email } })).body.erased);
    }
    expect(records[0]).toEqual(records[1]);
  });

  it('leaves a released anonymous answer as published (no row, quote or count shows which was theirs), only no longer tied to them', async () => {
    const fx = await agencyFixture(deps);
    await fx.call('PATCH', '/v1/settings', { body: { anonymityThreshold: 3 } });
    const pro = (await fx.call('POST', '/v1/pros', { body: { name: 'Anon Pro', email: `anon-${randomUUID().slice(0, 6)}@agency.example` } })).body;
    const campaign = (await fx.call('POST', '/v1/campaigns', { body: { proId: pro.proId, name: 'Quiet' } })).body;
    const u = randomUUID().slice(0, 6);
    const emails = ['a', 'b', 'c'].map((who) => `${who}-${u}@anon.example`);
    const created = await fx.call('POST', `/v1/campaigns/${campaign.campaignId}/surveys`, { body: { attribution: 'anonymous', recipients: emails.map((email) => ({ email, audience: 'reporter' })) } });
    const roundId = created.body.surveyId as string;
    const invitations = (await fx.call('GET', `/v1/surveys/${roundId}/invitations`)).body.data as { invitationId: string; email: string }[];
    for (const [n, i] of invitations.entries()) await submitResponse(deps.db, { roundId, invitationId: i.invitationId }, answers(8 + n, `Quote ${n} ${u}`), new Date());
    expect(await closeRound(deps.db, roundId, new Date())).toBe(true);
    const published = async () => [
      (await fx.call('GET', `/v1/responses?proId=${pro.proId}`)).body,
      (await fx.call('GET', `/v1/testimonials?proId=${pro.proId}`)).body,
      (await fx.call('GET', `/v1/pros/${pro.proId}/scores?granularity=total`)).body,
      (await fx.call('GET', `/v1/responses.csv?proId=${pro.proId}`)).body,
    ];
    const before = await published();
    expect(before[0].data).toHaveLength(3);

    const target = invitations.find((i) => i.email === emails[1])!;
    const erased = await fx.call('POST', '/v1/erasures', { body: { email: emails[1] } });
    expect([erased.status, erased.body.erased.responses]).toEqual([201, 0]);
    expect(await published()).toEqual(before);
    // Nothing keyed by their address's hash holds the answer any more, and the address is nowhere.
    const { Item } = await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.response(roundId, target.invitationId) }));
    expect(Item).toBeUndefined();
    expect(await itemsHolding(deps.db, [emails[1]!])).toEqual([]);
    // Asking again finds nothing more to do and changes nothing published.
    expect((await fx.call('POST', '/v1/erasures', { body: { email: emails[1] } })).status).toBe(200);
    expect(await published()).toEqual(before);
  });
});

describe('Erasure and the ids an address gives', () => {
  it('leaves no listing, page, cursor, export, console page or webhook delivery with an id the address gives; counts and scores stay; a job, reminder, sweep, link, bounce or close for the old id does nothing', async () => {
    const fx = await agencyFixture(deps);
    await fx.call('PATCH', '/v1/settings', { body: { anonymityThreshold: 3 } });
    const now = new Date();
    const hook = await fx.call('POST', '/v1/webhooks', { body: { url: 'http://127.0.0.1:9/hook', events: ['response.created'] } });
    const u = randomUUID().slice(0, 6);
    // A named round the target answered, and an anonymous one another person was invited to (sent, a reminder due).
    const named = await surveyed(fx, now, `-ids${u}`);
    const anonEmail = `invited-${u}@anon.example`;
    const anon = await fx.call('POST', `/v1/campaigns/${named.campaign.campaignId}/surveys`, {
      body: { attribution: 'anonymous', recipients: [anonEmail, `a-${u}@anon.example`, `b-${u}@anon.example`].map((email) => ({ email, audience: 'reporter' })) },
    });
    const anonRound = anon.body.surveyId as string;
    const anonInvitations = (await fx.call('GET', `/v1/surveys/${anonRound}/invitations`)).body.data as { invitationId: string; email: string }[];
    const worker = workerAt(deps, now);
    for (const i of anonInvitations) expect(await deliver(worker, { kind: 'invitation', roundId: anonRound, invitationId: i.invitationId })).toBe('sent');
    const anonOld = anonInvitations.find((i) => i.email === anonEmail)!.invitationId;
    await submitResponse(deps.db, { roundId: anonRound, invitationId: anonInvitations.find((i) => i.email !== anonEmail)!.invitationId }, answers(6), now);
    await sweepWebhooks(deps.db, collectingQueue(), new Date(now.getTime() + 1000));

    // The ids whoever knows the addresses can compute (the listings show them now), and those derived from them.
    const row = ((await fx.call('GET', `/v1/responses?proId=${named.pro.proId}`)).body.data as { invitationId: string; batchId: string }[]).find((r) => r.invitationId === named.target)!;
    // A webhook delivery's id is its event's: a hash of what happened, with the time the answer was given.
    const deliveryIds = ((await fx.call('GET', `/v1/webhooks/${hook.body.webhookId}/deliveries`)).body.data as { deliveryId: string }[]).map((d) => d.deliveryId);
    expect(deliveryIds).toHaveLength(3);
    const derived = [named.target, anonOld, row.batchId, eventIdFor(now, 'response.created', named.roundId, named.target).slice(4)];
    const surveys = async () => [(await fx.call('GET', `/v1/surveys/${named.roundId}`)).body, (await fx.call('GET', `/v1/surveys/${anonRound}`)).body];
    const scores = async () => (await fx.call('GET', `/v1/pros/${named.pro.proId}/scores`)).body;
    const before = { surveys: await surveys(), scores: await scores() };

    for (const email of [named.strings.email, anonEmail]) expect((await fx.call('POST', '/v1/erasures', { body: { email } })).status).toBe(201);

    const found: string[] = [];
    const look = (where: string, text: string) => {
      for (const id of derived) if (text.includes(id)) found.push(`${id} in ${where}`);
    };
    // Every page of each listing one item at a time, with its cursor (a key of the table).
    for (const path of [`/v1/surveys/${named.roundId}/invitations`, `/v1/surveys/${anonRound}/invitations`, '/v1/responses', `/v1/webhooks/${hook.body.webhookId}/deliveries`]) {
      let cursor: string | null = '';
      let pages = 0;
      while (cursor !== null) {
        const res = await fx.call('GET', `${path}?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status, path).toBe(200);
        look(path, JSON.stringify(res.body));
        cursor = res.body.nextCursor as string | null;
        if (cursor) look(`${path} cursor`, Buffer.from(cursor, 'base64url').toString('utf8'));
        pages++;
      }
      expect(pages, path).toBeGreaterThan(1);
    }
    for (const path of ['/v1/testimonials', '/v1/responses.csv', `/v1/surveys/${named.roundId}`, `/v1/surveys/${anonRound}`]) look(path, JSON.stringify((await fx.call('GET', path)).body));
    const session = await consoleSession(deps, { kind: 'pro', agencyId: fx.agencyId, proId: named.pro.proId });
    for (const roundId of [named.roundId, anonRound]) {
      const page = await fx.app.request(`/app/rounds/${roundId}`, { headers: { Cookie: session.cookie } });
      expect(page.status).toBe(200);
      look(`console ${roundId}`, await page.text());
    }
    expect(found).toEqual([]);
    // Left in the table only where no agency reads: the mark of each old id.
    expect((await itemsHolding(deps.db, derived)).sort()).toEqual([`RND#${anonRound}|GONE#${anonOld}`, `RND#${named.roundId}|GONE#${named.target}`].sort());
    // Still listed, under another id: the round's counts and the scores do not change.
    expect((await fx.call('GET', `/v1/surveys/${named.roundId}/invitations`)).body.data).toHaveLength(3);
    expect({ surveys: await surveys(), scores: await scores() }).toEqual(before);

    // What still names the old id does nothing: a queued first email, a reminder, the sweep, a bounce, a link, the close.
    const emailsBefore = (await sesEmails({ to: anonEmail })).length;
    expect(await deliver(worker, { kind: 'invitation', roundId: anonRound, invitationId: anonOld })).toBe('not-due');
    // Past the first reminder (day 3), before the close (day 14).
    const later = new Date(now.getTime() + 5 * 86_400_000);
    const queue = collectingQueue();
    await checkRounds({ db: deps.db, queue, records: recordedSends(deps.db) }, later);
    // The two who did not answer: the erased one under its new id, dropped (no email); the other's sent.
    const reminders = queue.jobs.filter((j): j is Extract<SendJob, { kind: 'reminder' }> => j.kind === 'reminder' && j.roundId === anonRound);
    expect(reminders.map((j) => j.invitationId === anonOld)).toEqual([false, false]);
    expect((await Promise.all(reminders.map((job) => deliver(workerAt(deps, later), job)))).sort()).toEqual(['sent', 'skipped']);
    const { dueAt } = reminders[0]!;
    expect(await deliver(workerAt(deps, later), { kind: 'reminder', roundId: anonRound, invitationId: anonOld, dueAt })).toBe('not-due');
    await recoverSends({ db: deps.db, queue: collectingQueue(), records: recordedSends(deps.db) }, later);
    const bounce = (invitationId: string) =>
      JSON.stringify({ eventType: 'Bounce', mail: { messageId: `ses-${randomUUID()}`, tags: sesEventTags({ agencyId: fx.agencyId, roundId: anonRound, invitationId }) }, bounce: { bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: anonEmail }] } });
    await handleSesNotification(deps.db, bounce(anonOld), now);
    expect((await sesEmails({ to: anonEmail })).length).toBe(emailsBefore);
    for (const [roundId, invitationId] of [[named.roundId, named.target], [anonRound, anonOld]] as const) {
      const link = await fx.app.request(`/s/${signInvitationToken(deps.linkSecret, { roundId, invitationId })}`);
      expect(link.status, roundId).toBe(409);
      await expect(submitResponse(deps.db, { roundId, invitationId }, answers(2), now)).rejects.toThrow('closed');
    }
    expect(await surveys()).toEqual(before.surveys);
    expect(await closeRound(deps.db, anonRound, later)).toBe(true);
    // Closed, the moved invitation expires with the others: none is left behind, none added.
    const closed = (await fx.call('GET', `/v1/surveys/${anonRound}`)).body as { counts: Record<string, number> };
    expect(Object.values(closed.counts).reduce((a, b) => a + b, 0)).toBe(Object.values((before.surveys[1] as { counts: Record<string, number> }).counts).reduce((a, b) => a + b, 0));
  });
});

describe('Erasure of an anonymous answer not yet released', () => {
  it('leaves it tied to the person nowhere once released, whether its round was open or its answer waiting in the pool', async () => {
    for (const waiting of ['open', 'pool'] as const) {
      const fx = await agencyFixture(deps);
      await fx.call('PATCH', '/v1/settings', { body: { anonymityThreshold: 3 } });
      const pro = (await fx.call('POST', '/v1/pros', { body: { name: 'Anon Pro', email: `anon-${randomUUID().slice(0, 6)}@agency.example` } })).body;
      const campaign = (await fx.call('POST', '/v1/campaigns', { body: { proId: pro.proId, name: 'Quiet' } })).body;
      const u = randomUUID().slice(0, 6);
      // One-person rounds: the first's answer waits in the pool until the last's close brings it to k (3).
      const rounds = [];
      for (const who of ['target', 'other', 'third']) {
        const email = `${who}-${u}@anon.example`;
        const created = await fx.call('POST', `/v1/campaigns/${campaign.campaignId}/surveys`, { body: { attribution: 'anonymous', recipients: [{ email, audience: 'reporter' }] } });
        const roundId = created.body.surveyId as string;
        const [invitation] = (await fx.call('GET', `/v1/surveys/${roundId}/invitations`)).body.data as { invitationId: string }[];
        await submitResponse(deps.db, { roundId, invitationId: invitation!.invitationId }, answers(9, `Quote of ${who} ${u}`), new Date());
        rounds.push({ email, roundId, invitationId: invitation!.invitationId });
      }
      const target = rounds[0]!;
      if (waiting === 'pool') expect(await closeRound(deps.db, target.roundId, new Date())).toBe(true);
      expect((await fx.call('POST', '/v1/erasures', { body: { email: target.email } })).status).toBe(201);
      for (const { roundId } of waiting === 'pool' ? rounds.slice(1) : rounds) expect(await closeRound(deps.db, roundId, new Date())).toBe(true);
      expect((await fx.call('GET', `/v1/responses?proId=${pro.proId}`)).body.data, waiting).toHaveLength(3);
      // Released, it is no longer under the key its address gives, as an answer released before the erasure.
      const { Item } = await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.response(target.roundId, target.invitationId), ConsistentRead: true }));
      expect(Item, waiting).toBeUndefined();
      expect(await itemsHolding(deps.db, [target.email, `Quote of target ${u}`]), waiting).toEqual([]);
    }
  });
});

describe('Suppressions API', () => {
  it('lists, adds and lifts; a global bounce is listed but not liftable (409); an unknown address is 404', async () => {
    const fx = await agencyFixture(deps);
    const added = await fx.call('POST', '/v1/suppressions', { body: { email: 'Ask@Phone.example' } });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({ email: 'Ask@Phone.example', reason: 'unsubscribed', scope: 'agency', at: added.body.at, addedBy: expect.stringMatching(/^key_/) });
    expect((await fx.call('POST', '/v1/suppressions', { body: { email: 'ask@phone.example' } })).status).toBe(200);
    expect((await fx.call('POST', '/v1/suppressions', { body: { email: 'nope' } })).body.errors).toEqual([{ field: 'email', message: expect.any(String) }]);
    expect((await fx.call('POST', '/v1/suppressions', { key: fx.readKey, body: { email: 'a@b.example' } })).status).toBe(403);
    await suppress(deps.db, 'bounced@outlet.example', 'bounced', { global: true, agencyId: fx.agencyId }, new Date());
    const list = await fx.call('GET', '/v1/suppressions', { key: fx.readKey });
    expect(list.body.data.map((s: { email: string; scope: string; reason: string }) => [s.email, s.scope, s.reason])).toEqual([
      ['Ask@Phone.example', 'agency', 'unsubscribed'],
      ['bounced@outlet.example', 'global', 'bounced'],
    ]);
    const bounce = await fx.call('DELETE', `/v1/suppressions/${encodeURIComponent('bounced@outlet.example')}`);
    expect(bounce.status).toBe(409);
    expect(bounce.headers.get('Content-Type')).toContain('application/problem+json');
    expect(bounce.body.errors).toEqual([{ field: 'email', message: expect.stringContaining('every agency') }]);
    expect((await fx.call('DELETE', `/v1/suppressions/${encodeURIComponent('ask@phone.example')}`)).status).toBe(204);
    expect((await fx.call('DELETE', `/v1/suppressions/${encodeURIComponent('ask@phone.example')}`)).status).toBe(404);
    expect((await fx.call('GET', '/v1/suppressions')).body.data.map((s: { email: string }) => s.email)).toEqual(['bounced@outlet.example']);
  });

  it('keeps agencies apart: another agency’s suppression is neither listed nor liftable', async () => {
    const a = await agencyFixture(deps);
    const b = await agencyFixture(deps);
    expect((await a.call('POST', '/v1/suppressions', { body: { email: 'private@outlet.example' } })).status).toBe(201);
    expect((await b.call('GET', '/v1/suppressions')).body.data).toEqual([]);
    expect((await b.call('DELETE', `/v1/suppressions/${encodeURIComponent('private@outlet.example')}`)).status).toBe(404);
    expect((await a.call('GET', '/v1/suppressions')).body.data).toHaveLength(1);
  });
});

describe('DELETE /v1/pros/{id}', () => {
  it('deactivates; with erase=true also erases name, address, sign-in lookup, email claim and commitments, keeping scores', async () => {
    const fx = await agencyFixture(deps);
    const now = new Date();
    const { pro, roundId } = await surveyed(fx, now, '-pro');
    expect((await fx.call('POST', `/v1/pros/${pro.proId}/commitments`, { body: { text: 'Reply within a day, promised by Pat' } })).status).toBe(201);
    const scores = (await fx.call('GET', `/v1/pros/${pro.proId}/scores`)).body;
    const deactivated = await fx.call('DELETE', `/v1/pros/${pro.proId}`);
    expect(deactivated.status).toBe(200);
    expect(deactivated.body).toMatchObject({ name: 'Pat Pro-pro', email: pro.email, deactivatedAt: expect.any(String) });
    expect((await fx.call('DELETE', `/v1/pros/${pro.proId}?erase=maybe`)).status).toBe(400);

    const erased = await fx.call('DELETE', `/v1/pros/${pro.proId}?erase=true`);
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ name: 'Former pro', email: '', deactivatedAt: deactivated.body.deactivatedAt });
    expect(await itemsHolding(deps.db, [pro.email, 'Pat Pro-pro', 'promised by Pat'])).toEqual([]);
    expect((await fx.call('GET', `/v1/surveys/${roundId}`)).status).toBe(200);
    expect((await fx.call('GET', `/v1/pros/${pro.proId}/scores`)).body).toEqual(scores);
    // The address is free again.
    expect((await fx.call('POST', '/v1/pros', { body: { name: 'Pat Again', email: pro.email } })).status).toBe(201);
  });
});

describe('Retention', () => {
  it('removes comments and identities older than the limits, keeps newer ones and the counters, and a second run changes nothing', async () => {
    const fx = await agencyFixture(deps);
    const old = await surveyed(fx, new Date(), '-ret');
    await closeRound(deps.db, old.roundId, new Date());
    const { strings } = old;
    const before = (await fx.call('GET', `/v1/pros/${old.pro.proId}/scores`)).body;
    expect((await fx.call('PATCH', '/v1/settings', { body: { retention: { commentsMonths: 12, identitiesMonths: 24 } } })).body.retention).toEqual({ commentsMonths: 12, identitiesMonths: 24 });
    expect((await fx.call('PATCH', '/v1/settings', { body: { retention: { commentsMonths: 0 } } })).body.errors).toEqual([{ field: 'retention.commentsMonths', message: expect.any(String) }]);
    // Now: nothing is old enough.
    expect(await runRetention(deps.db, new Date())).toEqual({ retentionAgencies: 1, commentsRemoved: 0, identitiesErased: 0 });
    expect((await itemsHolding(deps.db, [strings.comment])).length).toBeGreaterThan(0);

    // 13 months on: the comments go, identities (24 months) stay.
    const later = new Date(Date.now() + 400 * 86_400_000);
    expect(await runRetention(deps.db, later)).toEqual({ retentionAgencies: 1, commentsRemoved: 3, identitiesErased: 0 });
    expect(await itemsHolding(deps.db, [strings.comment, strings.otherComment])).toEqual([]);
    expect((await fx.call('GET', '/v1/testimonials')).body.data).toEqual([]);
    expect((await itemsHolding(deps.db, [strings.email])).length).toBeGreaterThan(0);
    expect((await fx.call('GET', `/v1/pros/${old.pro.proId}/scores`)).body).toEqual(before);
    // Again the same day: not due, nothing read.
    expect(await runRetention(deps.db, later)).toEqual({ retentionAgencies: 0, commentsRemoved: 0, identitiesErased: 0 });

    // A round begun later: its comments stay while the older ones' identities go.
    const fresh = await surveyed(fx, new Date(), '-ret2');
    await closeRound(deps.db, fresh.roundId, new Date());
    const muchLater = new Date(Date.now() + 740 * 86_400_000);
    expect(await runRetention(deps.db, muchLater)).toEqual({ retentionAgencies: 1, commentsRemoved: 3, identitiesErased: 6 });
    expect(await itemsHolding(deps.db, [strings.email, strings.name, strings.outlet, 'Other One-ret', fresh.strings.email])).toEqual([]);
    expect((await fx.call('GET', `/v1/pros/${old.pro.proId}/scores`)).body).toEqual(before);
    expect(await runRetention(deps.db, new Date(muchLater.getTime() + 2 * 86_400_000))).toEqual({ retentionAgencies: 1, commentsRemoved: 0, identitiesErased: 0 });
  });
});
