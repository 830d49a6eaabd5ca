import { describe, expect, it } from 'vitest';
import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { handleSesNotification, keys, openInvitation, signInvitationToken, type Audience, type SendJob } from '@rapport/core';
import { deliver } from '@rapport/core/sending/dispatch';
import { agencyFixture, sesEmails, sesEventTags, testDeps } from '@rapport/testing';
import { deliveryDeps, inProcessSendQueue, type Deps } from '../deps';

// A queue the test can drain, so it knows when the invitations and the warning are out.
const queue = inProcessSendQueue(() => deps);
const deps: Deps = { ...testDeps(), queue };

/**
 * An agency (early warnings on or off, other settings as given), a pro, and a round (anonymous
 * unless named) to named reporters and colleagues of an outlet, whose invitations the sender has
 * really emailed (the in-process queue runs the send worker).
 */
async function setup(earlyWarnings: boolean, audiences: Audience[], options: { attribution?: 'anonymous' | 'named'; settings?: Record<string, unknown> } = {}) {
  const f = await agencyFixture(deps);
  expect((await f.call('PATCH', '/v1/settings', { body: { earlyWarnings, ...options.settings } })).status).toBe(200);
  const tag = f.agencyId.slice(-10).toLowerCase();
  const proEmail = `jane-${tag}@acme.example`;
  const { proId } = (await f.call('POST', '/v1/pros', { body: { name: 'Jane Doe', email: proEmail } })).body;
  const { campaignId } = (await f.call('POST', '/v1/campaigns', { body: { proId, name: 'Spring Launch' } })).body;
  const recipients = audiences.map((audience, i) => ({ email: `who${i}-${tag}@news.example`, name: `Person${i} Secret`, outlet: 'The Daily Secret', audience }));
  const round = (await f.call('POST', `/v1/campaigns/${campaignId}/surveys`, { body: { recipients, attribution: options.attribution ?? 'anonymous' } })).body;
  const roundId: string = round.surveyId;
  const { data } = (await f.call('GET', `/v1/surveys/${roundId}/invitations?limit=100`)).body;
  // The invitation of recipient i (the list is not in the order given).
  const ref = (i: number) => ({ roundId, invitationId: data.find((d: { email: string }) => d.email === recipients[i]!.email).invitationId as string });
  const link = (i: number) => `/s/${signInvitationToken(deps.linkSecret, ref(i))}`;
  const answer = (i: number, form: Record<string, string>) =>
    f.app.request(link(i), { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  const page = async (i: number) => (await f.app.request(link(i))).text();
  await queue.drain();
  for (const [i, r] of recipients.entries()) expect(await sesEmails({ to: r.email }), `invitation ${i} emailed`).toHaveLength(1);
  return { f, roundId, proEmail, recipients, ref, answer, page };
}

/**
 * The early-warning marker of an invitation, written only when a warning is claimed: the
 * response's on a named round, the submission's (`revision`) on an anonymous one.
 */
async function warningMarker(ref: { roundId: string; invitationId: string }, revision?: number) {
  const { Item } = await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.earlyWarning(ref.roundId, ref.invitationId, revision), ConsistentRead: true }));
  return Item;
}

/** SES reporting a permanent bounce of an invitation's email, as the ses-events handler passes it on. */
async function bounce(ref: { roundId: string; invitationId: string }, email: string) {
  const { invitation } = await openInvitation(deps.db, ref);
  const message = JSON.stringify({
    eventType: 'Bounce',
    mail: { timestamp: new Date().toISOString(), source: 'surveys@rapport.example', messageId: invitation.messageId, destination: [email], tags: sesEventTags(invitation) },
    bounce: { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ emailAddress: email, action: 'failed', status: '5.1.1' }], timestamp: new Date().toISOString(), feedbackId: 'f1' },
  });
  expect((await handleSesNotification(deps.db, message, new Date())).invitation).toEqual({ ...ref, status: 'bounced' });
}

/** The survey page's promise, as a reader sees it (the names' bidi isolates dropped). */
const promise = (html: string) =>
  html
    .match(/<p class="note">([\s\S]*?)<\/p>/)![1]!
    .replace(/<\/?bdi>/g, '')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');

const reporters = (count: number): Audience[] => Array.from({ length: count }, () => 'reporter');
const LOW = { responsiveness: '2', recommend: '3', relevance: '1', improve: 'Answer <b>my</b> calls' };

describe('early warnings', () => {
  it('on an anonymous round, email the pro about a low answer once k invitations of its audience were delivered: once, with the scores and comment and no identity', async () => {
    // k = 5 (the default): exactly five reporters reached.
    const { proEmail, recipients, ref, answer, roundId } = await setup(true, reporters(5));
    expect((await answer(0, LOW)).status).toBe(200);
    expect((await answer(1, { responsiveness: '5', recommend: '10' })).status).toBe(200);
    await queue.drain();

    const warnings = await sesEmails({ to: proEmail });
    expect(warnings).toHaveLength(1);
    const [mail] = warnings;
    expect(mail!.subject).toBe('Early warning: a reporter rated your responsiveness 2/5 on the Spring Launch');
    expect(mail!.body.text).toContain('- Responsiveness: 2/5 (Slow)\n- Likely to recommend: 3/10\n- Relevant and accurate: 1/5');
    expect(mail!.body.text).toContain('What could be better: “Answer <b>my</b> calls”');
    expect(mail!.body.html).toContain('Answer &lt;b&gt;my&lt;/b&gt; calls');
    // It links to the round's page in the console.
    expect(mail!.body.text).toContain(`See the survey round in Rapport: http://localhost:3000/app/rounds/${roundId}\n`);
    expect(mail!.body.html).toContain(`<a href="http://localhost:3000/app/rounds/${roundId}" target="_blank"`);
    for (const secret of [...recipients.map((r) => r.email), 'Secret', 'The Daily Secret']) expect(JSON.stringify(mail)).not.toContain(secret);
    expect(await warningMarker(ref(0), 1)).toMatchObject({ type: 'earlyWarning' });
    expect(await warningMarker(ref(1), 1)).toBeUndefined();

    // The job run again (SQS delivers at least once), through the queue and by hand: still one warning.
    await queue.enqueue([{ kind: 'early-warning', ...ref(0) }]);
    await queue.drain();
    expect(await deliver(deliveryDeps(deps), { kind: 'early-warning', ...ref(0) })).toBe('not-due');
    expect(await sesEmails({ to: proEmail })).toHaveLength(1);
    // Each low submission warns, a revision too: whoever submits through a link quoted in a reply
    // is warned about exactly as for a first answer, so the warning says nothing of what its owner
    // had answered. A high one does not.
    expect((await answer(0, { responsiveness: '1' })).status).toBe(200);
    expect((await answer(1, { responsiveness: '4' })).status).toBe(200);
    await queue.drain();
    expect((await sesEmails({ to: proEmail })).map((m) => m.subject)).toEqual([
      'Early warning: a reporter rated your responsiveness 2/5 on the Spring Launch',
      'Early warning: a reporter rated your responsiveness 1/5 on the Spring Launch',
    ]);
    expect(await warningMarker(ref(0), 2)).toMatchObject({ type: 'earlyWarning' });
  });

  it('on an anonymous round, send nothing while fewer than k invitations of the audience were delivered', async () => {
    // Five reporters invited and three colleagues: seven delivered in all, but one reporter's
    // email bounced, so only four reporters (fewer than k = 5) were reached.
    const audiences: Audience[] = [...reporters(5), 'colleague', 'colleague', 'colleague'];
    const { proEmail, recipients, ref, answer } = await setup(true, audiences);
    await bounce(ref(4), recipients[4]!.email);
    expect((await openInvitation(deps.db, ref(4))).invitation.status).toBe('bounced');

    expect((await answer(0, LOW)).status).toBe(200);
    expect((await answer(5, { responsiveness: '1' })).status).toBe(200);
    await queue.drain();
    expect(await sesEmails({ to: proEmail })).toEqual([]);
    for (const i of [0, 5]) {
      expect(await warningMarker(ref(i), 1)).toBeUndefined();
      expect(await deliver(deliveryDeps(deps), { kind: 'early-warning', ...ref(i) })).toBe('skipped');
    }
    expect(await sesEmails({ to: proEmail })).toEqual([]);
  });

  it('keep the k the survey page promised when the agency lowers it later', async () => {
    const { f, proEmail, ref, answer, page } = await setup(true, reporters(4));
    expect((await f.call('PATCH', '/v1/settings', { body: { anonymityThreshold: 3 } })).status).toBe(200);
    // Four reporters reached: enough for the agency's k now (3), not for the 5 the page promised.
    expect(promise(await page(1))).toContain('only when at least 5 reporters were asked in this survey.');
    expect((await answer(0, LOW)).status).toBe(200);
    await queue.drain();
    expect(await sesEmails({ to: proEmail })).toEqual([]);
    expect(await warningMarker(ref(0), 1)).toBeUndefined();
  });

  it('on a named round, warn about a low answer from a single recipient, once and without naming them', async () => {
    const { proEmail, recipients, ref, answer } = await setup(true, ['reporter'], { attribution: 'named' });
    expect((await answer(0, LOW)).status).toBe(200);
    await queue.drain();
    await queue.enqueue([{ kind: 'early-warning', ...ref(0) }]);
    await queue.drain();
    const [mail, ...more] = await sesEmails({ to: proEmail });
    expect(more).toEqual([]);
    expect(mail!.subject).toBe('Early warning: a reporter rated your responsiveness 2/5 on the Spring Launch');
    for (const secret of [recipients[0]!.email, 'Secret', 'The Daily Secret']) expect(JSON.stringify(mail)).not.toContain(secret);
    expect(await warningMarker(ref(0))).toMatchObject({ type: 'earlyWarning' });
  });

  it('go to the pro’s address as it is now: a warning after the admin changed it reaches the new address, not the old one', async () => {
    const { f, proEmail, answer, roundId } = await setup(true, ['reporter'], { attribution: 'named' });
    const { proId } = (await f.call('GET', `/v1/surveys/${roundId}`)).body;
    const newEmail = proEmail.replace('jane-', 'jane.new-');
    expect((await f.call('PATCH', `/v1/pros/${proId}`, { body: { email: newEmail } })).status).toBe(200);
    expect((await answer(0, LOW)).status).toBe(200);
    await queue.drain();
    // The old address may be someone else's by now: the comment must not reach it.
    expect(await sesEmails({ to: proEmail })).toEqual([]);
    const [mail, ...more] = await sesEmails({ to: newEmail });
    expect(more).toEqual([]);
    expect(mail!.subject).toBe('Early warning: a reporter rated your responsiveness 2/5 on the Spring Launch');
  });

  it('queue a warning SES throttled again with backoff, free its claim, and send it once SES takes it (throttling stubbed)', async () => {
    const { proEmail, ref, answer } = await setup(true, ['reporter'], { attribution: 'named' });
    expect((await answer(0, LOW)).status).toBe(200);
    await queue.drain();
    expect(await sesEmails({ to: proEmail })).toHaveLength(1);
    // As if that warning had not gone out yet: the next try meets SES throttling.
    await deps.db.doc.send(new DeleteCommand({ TableName: deps.db.table, Key: keys.earlyWarning(ref(0).roundId, ref(0).invitationId) }));
    const throttled = Object.assign(new Error('Maximum sending rate exceeded.'), { name: 'Throttling', $metadata: { httpStatusCode: 400, attempts: 1 } });
    const requeued: { job: SendJob; delaySeconds: number }[] = [];
    const throttling = { ...deliveryDeps(deps), mailer: { send: () => Promise.reject(throttled) }, retry: { attempts: 2, baseDelayMs: 1 }, requeue: async (job: SendJob, delaySeconds: number) => void requeued.push({ job, delaySeconds }) };
    expect(await deliver(throttling, { kind: 'early-warning', ...ref(0) })).toBe('retry');
    expect(requeued).toEqual([{ job: { kind: 'early-warning', ...ref(0), retries: 1 }, delaySeconds: expect.any(Number) }]);
    expect(requeued[0]!.delaySeconds).toBeGreaterThanOrEqual(2);
    expect(await warningMarker(ref(0))).toBeUndefined();
    expect(await deliver(deliveryDeps(deps), requeued[0]!.job)).toBe('sent');
    expect(await sesEmails({ to: proEmail })).toHaveLength(2);
    expect(await deliver(deliveryDeps(deps), requeued[0]!.job)).toBe('not-due');
  });

  it('send nothing when the agency has not opted in', async () => {
    const { proEmail, ref, answer } = await setup(false, reporters(5));
    await answer(0, { responsiveness: '1' });
    await queue.drain();
    expect(await sesEmails({ to: proEmail })).toEqual([]);
    expect(await warningMarker(ref(0), 1)).toBeUndefined();
  });
});

const AGAIN = ' Until the survey closes you can answer again with this link, which replaces your earlier answers; they are never shown here, so that nobody else with the link can read them.';

describe('the survey page', () => {
  it('tells an anonymous respondent exactly what the pro sees, and when a low score warns them', async () => {
    const on = await setup(true, ['reporter', 'colleague']);
    expect(promise(await on.page(0))).toBe(
      'Your answers are anonymous: Jane Doe sees them only after this survey closes, pooled with the answers of at least 5 people, never with your name or when you answered.' +
        ' A low score (2 or less, or 6 or less for recommending) sends Jane Doe your scores and comment right away, without your name, so they can put things right; only when at least 5 reporters were asked in this survey.' +
        AGAIN,
    );
    expect(promise(await on.page(1))).toContain('only when at least 5 colleagues were asked in this survey.');
    // The k is the round's: it is what the agency's setting was when the round began.
    const three = await setup(false, ['client'], { settings: { anonymityThreshold: 3 } });
    const before = promise(await three.page(0));
    expect(before).toBe('Your answers are anonymous: Jane Doe sees them only after this survey closes, pooled with the answers of at least 3 people, never with your name or when you answered.' + AGAIN);
    // After answering, the page says the answers are kept, not that they reached the pro.
    const thanks = await (await three.answer(0, { responsiveness: '4' })).text();
    expect(thanks.replace(/&#39;/g, "'").replace(/<\/?bdi>/g, '')).toContain(
      'Your answers are saved. Jane Doe sees them only after this survey closes, pooled with the answers of at least 3 people, and never with your name.',
    );
    // Whoever opens the link afterwards (a reply quoting the email) learns nothing: the same page.
    expect(promise(await three.page(0))).toBe(before);
  });

  it('tells a named respondent their name is shared, and that a low score alerts the pro', async () => {
    const named = await setup(true, ['reporter'], { attribution: 'named' });
    expect(promise(await named.page(0))).toBe(
      "Your answers will be shared with Jane Doe's team together with your name. A low score alerts Jane Doe right away, so they can put things right.",
    );
    const quiet = await setup(false, ['reporter'], { attribution: 'named' });
    expect(promise(await quiet.page(0))).toBe("Your answers will be shared with Jane Doe's team together with your name.");
    const thanks = await (await quiet.answer(0, { responsiveness: '4' })).text();
    expect(thanks).toContain('Your answers are saved. <bdi>Jane Doe</bdi> and their team see them with your name, as this survey said.');
  });
});
