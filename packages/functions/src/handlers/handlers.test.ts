/**
 * The real exported Lambda handlers, invoked with event shapes typed by `@types/aws-lambda`,
 * against this run's DynamoDB Local and SES server (configured through the environment, as on
 * Lambda without SST links).
 */
import type { APIGatewayProxyEventV2, SNSEvent, SNSEventRecord } from 'aws-lambda';
import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createAgency, createCampaign, createPro, createRound, getRound, keys, openInvitation, updateSettings, type Invitation } from '@rapport/core';
import { agencyFixture, sesEmails, sesEventTags, testConfig, testDeps } from '@rapport/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeJob } from '../adapters/send-job-message';
import { handler as api } from './api';
import { handler as sender } from './sender';
import { handler as sesEvents } from './ses-events';
import { resetLambdaDeps } from './runtime';
import { lambdaContext, lambdaEnv, sqsEvent, startFakeSqs, type FakeSqs } from './test-support';

const config = testConfig();
const deps = testDeps();
const logs: string[] = [];
let sqs: FakeSqs;

beforeAll(async () => {
  sqs = await startFakeSqs();
  Object.assign(process.env, lambdaEnv(config, sqs, { PUBLIC_URL: 'https://rapport.example', SEND_RATE_PER_SECOND: '100', SENDER_MAX_RECEIVES: '3' }));
  resetLambdaDeps();
  // The logger writes JSON lines to stdout (errors to stderr); keep them to check what they carry.
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      logs.push(String(chunk));
      return true;
    });
  }
});
afterAll(async () => {
  vi.restoreAllMocks();
  resetLambdaDeps();
  await sqs.close();
});

/** An HTTP API (payload format 2.0) event, as API Gateway sends it to the function. */
function httpEvent(method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'abc123.execute-api.us-east-1.amazonaws.com', 'user-agent': 'vitest', ...init.headers },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'vitest' },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '24/Nov/2026:10:00:00 +0000',
      timeEpoch: Date.now(),
    },
    isBase64Encoded: false,
    ...(init.body !== undefined ? { body: init.body } : {}),
  };
}

let n = 0;
/** A round with these recipients (colleagues), not sent yet. */
async function round(emails: string[]) {
  const now = new Date();
  const tag = `${++n}-${now.getTime()}`;
  const agency = await createAgency(deps.db, { name: `Handlers ${tag}` }, now);
  const pro = await createPro(deps.db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, now);
  const campaign = await createCampaign(deps.db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, now);
  const created = await createRound(deps.db, agency.agencyId, campaign.campaignId, { recipients: emails.map((email) => ({ email, audience: 'colleague' })) }, now);
  const jobs = created.accepted.map((i) => ({ kind: 'invitation' as const, roundId: created.round.roundId, invitationId: i.invitationId }));
  return { ...created, agencyId: agency.agencyId, campaignId: campaign.campaignId, jobs };
}

describe('api handler (API Gateway HTTP API, payload 2.0)', () => {
  it('answers GET /health', async () => {
    const res = await api(httpEvent('GET', '/health'), lambdaContext());
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body!)).toMatchObject({ status: 'ok' });
  });

  it('creates a pro with POST /v1/pros and an agency API key', async () => {
    const { adminKey, call } = await agencyFixture(deps);
    const email = `pro-${Date.now()}@acme.example`;
    const res = await api(
      httpEvent('POST', '/v1/pros', {
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Jane Doe', email }),
      }),
      lambdaContext(),
    );
    expect(res.statusCode).toBe(201);
    expect(res.headers?.['content-type']).toMatch(/^application\/json/);
    const pro = JSON.parse(res.body!);
    expect(pro).toMatchObject({ proId: expect.stringMatching(/^pro_/), name: 'Jane Doe', email });
    expect((await call('GET', `/v1/pros/${pro.proId}`)).body).toEqual(pro);
  });

  it('queues a new round\'s invitations to SQS, and the sender emails them: API → SQS → sender → SES', async () => {
    const { adminKey, call } = await agencyFixture(deps);
    const tag = Date.now();
    const pro = await call('POST', '/v1/pros', { body: { name: 'Jane Doe', email: `jane-${tag}@acme.example` } });
    const campaign = await call('POST', '/v1/campaigns', { body: { proId: pro.body.proId, name: 'Spring Launch' } });
    const emails = [`ana-${tag}@news.example`, `cleo-${tag}@brand.example`];
    const before = sqs.bodies.length;
    const res = await api(
      httpEvent('POST', `/v1/campaigns/${campaign.body.campaignId}/surveys`, {
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ recipients: [{ email: emails[0], audience: 'reporter' }, { email: emails[1], audience: 'client' }] }),
      }),
      lambdaContext(),
    );
    expect(res.statusCode).toBe(202);
    const { surveyId } = JSON.parse(res.body!);
    const queued = sqs.bodies.slice(before);
    expect(queued.map((b) => JSON.parse(b))).toEqual([
      { kind: 'invitation', roundId: surveyId, invitationId: expect.stringMatching(/^inv_/) },
      { kind: 'invitation', roundId: surveyId, invitationId: expect.stringMatching(/^inv_/) },
    ]);
    expect(queued.join()).not.toContain('@');
    expect((await sender(sqsEvent(queued), lambdaContext())).batchItemFailures).toEqual([]);
    for (const email of emails) {
      const [mail, ...more] = await sesEmails({ to: email });
      expect(more).toEqual([]);
      expect(mail!.body.text).toContain(`https://rapport.example/s/${surveyId}.`);
    }
    expect((await call('GET', `/v1/surveys/${surveyId}`)).body.counts).toMatchObject({ pending: 0, sent: 2 });
  });

  it('serves the survey page from the emailed link and takes the answers posted as a base64 form; a low answer warns the pro through SQS', async () => {
    const now = new Date();
    const tag = `${++n}-${now.getTime()}`;
    const agency = await createAgency(deps.db, { name: `Pages ${tag}` }, now);
    // An anonymous round warns only once k (here 3) invitations of the audience were delivered.
    await updateSettings(deps.db, agency.agencyId, { earlyWarnings: true, anonymityThreshold: 3 }, now);
    const proEmail = `jane-${tag}@acme.example`;
    const pro = await createPro(deps.db, agency.agencyId, { name: 'Jane Doe', email: proEmail }, now);
    const campaign = await createCampaign(deps.db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, now);
    const emails = ['ana', 'ben', 'cleo'].map((who) => `${who}-${tag}@news.example`);
    const email = emails[0]!;
    const { round: created, accepted } = await createRound(deps.db, agency.agencyId, campaign.campaignId, { recipients: emails.map((e) => ({ email: e, audience: 'reporter' })) }, now);
    const invitations = accepted.map((i) => ({ kind: 'invitation' as const, roundId: created.roundId, invitationId: i.invitationId }));
    expect((await sender(sqsEvent(invitations.map(encodeJob)), lambdaContext())).batchItemFailures).toEqual([]);
    const job = invitations[accepted.findIndex((a) => a.email === email)]!;
    const path = new URL((await sesEmails({ to: email }))[0]!.body.text!.match(/https:\/\/rapport\.example\/s\/[^?\s]+/)![0]).pathname;

    const page = await api({ ...httpEvent('GET', path), rawQueryString: 'score=2', queryStringParameters: { score: '2' } }, lambdaContext());
    expect(page.statusCode).toBe(200);
    expect(page.headers?.['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('Jane Doe');
    expect((await openInvitation(deps.db, job)).invitation.status).toBe('sent'); // a GET records nothing

    const before = sqs.bodies.length;
    const form = new URLSearchParams({ responsiveness: '2', recommend: '5', improve: 'Call back sooner' }).toString();
    const posted = await api(
      { ...httpEvent('POST', path, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form).toString('base64') }), isBase64Encoded: true },
      lambdaContext(),
    );
    expect(posted.statusCode).toBe(200);
    expect(posted.body).toContain('Thank you');
    expect((await openInvitation(deps.db, job)).invitation.status).toBe('responded');

    const warning = sqs.bodies.slice(before);
    expect(warning.map((b) => JSON.parse(b))).toEqual([{ kind: 'early-warning', roundId: job.roundId, invitationId: job.invitationId }]);
    expect((await sender(sqsEvent(warning), lambdaContext())).batchItemFailures).toEqual([]);
    const [alert, ...more] = await sesEmails({ to: proEmail });
    expect(more).toEqual([]);
    expect(alert!.subject).toBe('Early warning: a reporter rated your responsiveness 2/5 on the Spring Launch');
    for (const address of emails) expect(JSON.stringify(alert)).not.toContain(address);
  });

  it('answers an unknown key with problem+json', async () => {
    const res = await api(httpEvent('GET', '/v1/pros', { headers: { authorization: 'Bearer rpk_nope' } }), lambdaContext());
    expect(res.statusCode).toBe(401);
    expect(res.headers?.['content-type']).toMatch(/^application\/problem\+json/);
  });
});

describe('sender handler (SQS, partial batch responses)', () => {
  it('sends the good records of a batch once and reports exactly the one that fails (a job whose invitation does not exist: a real failure, no stub)', async () => {
    const tag = Date.now();
    const emails = [`ana-${tag}@news.example`, `ben-${tag}@news.example`];
    const { jobs } = await round(emails);
    const missing = { ...jobs[0]!, invitationId: 'inv_01JDOESNOTEXIST0000000000' };
    const event = sqsEvent([encodeJob(jobs[0]!), encodeJob(missing), encodeJob(jobs[1]!)]);

    const first = await sender(event, lambdaContext());
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: event.Records[1]!.messageId }]);
    // SQS delivers the whole batch again (at least once): the person still gets one email.
    const again = await sender(event, lambdaContext());
    expect(again.batchItemFailures).toEqual([{ itemIdentifier: event.Records[1]!.messageId }]);
    for (const [i, email] of emails.entries()) {
      expect(await sesEmails({ to: email })).toHaveLength(1);
      expect((await openInvitation(deps.db, jobs[i]!)).invitation.status).toBe('sent');
    }
  });

  it('marks nothing failed when an email cannot be made: the record fails once, the invitation stays claimed with its lease for the recovery sweep, and a redelivery finds it claimed and does nothing (its stored audience corrupted)', async () => {
    const tag = Date.now();
    const { jobs, agencyId, round: created } = await round([`broken-${tag}@news.example`]);
    const key = { PK: `RND#${jobs[0]!.roundId}`, SK: `INV#${jobs[0]!.invitationId}` };
    await deps.db.doc.send(new UpdateCommand({ TableName: deps.db.table, Key: key, UpdateExpression: 'SET audience = :n', ExpressionAttributeValues: { ':n': 42 } }));
    const leased = (await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: key }))).Item!;
    const event = sqsEvent([encodeJob(jobs[0]!)]);
    const seen = logs.length;
    expect((await sender(event, lambdaContext())).batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
    const failedLog = logs.slice(seen).flatMap((l) => l.split('\n')).filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.message === 'send job failed');
    expect(failedLog).toMatchObject({ level: 'ERROR', lastReceive: false, invitationId: jobs[0]!.invitationId });
    // Claimed (the claim reads nothing first), then the email could not be made: still `sending`,
    // leased, so the recovery sweep settles it from SES's record once the lease runs out.
    const after = (await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: key }))).Item!;
    expect(after).toMatchObject({ status: 'sending', checkAt: expect.any(String) });
    expect(after.checkAt > leased.checkAt).toBe(true);
    // SQS delivers it again: the claim finds it taken, nothing is sent and nothing fails.
    event.Records[0]!.attributes.ApproximateReceiveCount = '2';
    expect((await sender(event, lambdaContext())).batchItemFailures).toEqual([]);
    expect((await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: key }))).Item).toMatchObject({ status: 'sending', checkAt: after.checkAt });
    expect((await getRound(deps.db, agencyId, created.roundId)).counts).toMatchObject({ pending: 0, sending: 1, failed: 0 });
  });

  it('hands the records it has no time left for back to the queue instead of timing out', async () => {
    const tag = Date.now();
    const emails = [`first-${tag}@news.example`, `second-${tag}@news.example`];
    const { jobs } = await round(emails);
    const event = sqsEvent(jobs.map(encodeJob));
    let remaining = 30_000;
    const context = { ...lambdaContext(), getRemainingTimeInMillis: () => (remaining -= 10_000) };
    expect((await sender(event, context)).batchItemFailures).toEqual([{ itemIdentifier: event.Records[1]!.messageId }]);
    expect(await sesEmails({ to: emails[0]! })).toHaveLength(1);
    expect(await sesEmails({ to: emails[1]! })).toEqual([]);
  });

  /**
   * Runs a test at a slow sending rate (`SEND_RATE_PER_SECOND`) from a fresh slots item, then puts
   * the rate back and forgets the slots reserved, so the next tests (at 100 a second) find theirs due.
   */
  async function atRate(rate: number, test: () => Promise<void>) {
    const forgetSlots = () => deps.db.doc.send(new DeleteCommand({ TableName: deps.db.table, Key: keys.sendingSlots() }));
    Object.assign(process.env, { SEND_RATE_PER_SECOND: String(rate) });
    resetLambdaDeps();
    await forgetSlots();
    try {
      await test();
    } finally {
      Object.assign(process.env, { SEND_RATE_PER_SECOND: '100' });
      resetLambdaDeps();
      await forgetSlots();
    }
  }

  /** Which of these addresses the SES server holds an email for. */
  const delivered = async (emails: string[]) => (await Promise.all(emails.map(async (email) => (await sesEmails({ to: email })).length > 0 && email))).filter(Boolean);

  it('never waits for a sending slot: runs what is due, hands the rest back to SQS delayed until the slot reserved for it, unclaimed; back from SQS, a record runs in its slot', () =>
    // Two emails a second for the whole account, no burst.
    atRate(2, async () => {
      const tag = Date.now();
      const emails = ['one', 'two', 'three'].map((who) => `${who}-${tag}@news.example`);
      const { jobs } = await round(emails);
      const before = sqs.messages.length;
      const t0 = Date.now();
      expect((await sender(sqsEvent(jobs.map(encodeJob)), lambdaContext())).batchItemFailures).toEqual([]);
      const back = sqs.messages.slice(before);
      // Its slot was due: the first is sent. The others are new messages, due 0.5 s and 1 s on.
      expect(await sesEmails({ to: emails[0]! })).toHaveLength(1);
      expect(back.map((m) => JSON.parse(m.body))).toEqual(jobs.slice(1));
      expect(back.map((m) => m.delaySeconds)).toEqual([1, 1]);
      const slots = back.map((m) => Number(m.attributes!.slotAt!.StringValue));
      expect(slots[1]! - slots[0]!).toBe(500);
      expect(slots[0]! - t0).toBeGreaterThan(0);
      for (const job of jobs.slice(1)) expect((await openInvitation(deps.db, job)).invitation).toMatchObject({ status: 'pending' });
      for (const email of emails.slice(1)) expect(await sesEmails({ to: email })).toEqual([]);

      // SQS delivers them when their delay is over; they hold their slots, so they run, and nothing goes back.
      await new Promise((resolve) => setTimeout(resolve, Math.max(...slots) - Date.now()));
      const returned = sqsEvent(back.map((m) => m.body));
      returned.Records.forEach((r, i) => (r.messageAttributes = { slotAt: { stringValue: String(slots[i]), dataType: 'Number' } }));
      expect((await sender(returned, lambdaContext())).batchItemFailures).toEqual([]);
      expect(sqs.messages.length).toBe(before + 2);
      for (const email of emails) expect(await sesEmails({ to: email })).toHaveLength(1);
    }));

  it('keeps the account\'s sending rate when its container is replaced while slots it promised are away in SQS: the new container promises no slot an earlier one holds', () =>
    // One email a second for the whole account, no burst: the second batch comes well within the
    // six seconds the first one's promises cover, even on a loaded machine (three were once too few).
    atRate(1, async () => {
      const tag = Date.now();
      const emails = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].map((who) => `${who}-${tag}@news.example`);
      const { jobs } = await round(emails);
      const before = sqs.messages.length;
      const t0 = Date.now();
      expect((await sender(sqsEvent(jobs.slice(0, 6).map(encodeJob)), lambdaContext())).batchItemFailures).toEqual([]);
      expect(await delivered(emails)).toEqual(emails.slice(0, 1));
      // Lambda retires the container (recycled, or scaled in and out again); the next batch lands
      // on a fresh one, while the two slots the first promised are still away in SQS.
      resetLambdaDeps();
      const t1 = Date.now();
      expect((await sender(sqsEvent(jobs.slice(6).map(encodeJob)), lambdaContext())).batchItemFailures).toEqual([]);
      // Its slots follow the promised ones: none is due yet, so it sends nothing and promises all three.
      expect(await delivered(emails)).toEqual(emails.slice(0, 1));
      const promised = sqs.messages.slice(before).map((m) => Number(m.attributes!.slotAt!.StringValue));
      expect(promised).toHaveLength(8);
      expect(promised[5]! - t1).toBeGreaterThan(0);
      // Every SES call, sent now or promised: 1 s apart at most rate (a timer's 100 ms of
      // tolerance aside), as one container would have kept them.
      const calls = [t0, ...promised].sort((a, b) => a - b);
      const gaps = calls.slice(1).map((c, i) => c - calls[i]!);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(900);
      // The promised slots are the account's next eight, back to back.
      expect(promised.slice(1).map((p, i) => p - promised[i]!)).toEqual(Array(7).fill(1000));
    }));

  it('keeps the account\'s sending rate across senders running at once: their blocks of slots never overlap', () =>
    atRate(2, async () => {
      const tag = Date.now();
      const emails = Array.from({ length: 8 }, (_, i) => `together${i}-${tag}@news.example`);
      const { jobs } = await round(emails);
      const before = sqs.messages.length;
      const t0 = Date.now();
      // Two batches at once (two senders, or one warm container given two batches), each reserving its block.
      const results = await Promise.all([sender(sqsEvent(jobs.slice(0, 4).map(encodeJob)), lambdaContext()), sender(sqsEvent(jobs.slice(4).map(encodeJob)), lambdaContext())]);
      expect(results.map((r) => r.batchItemFailures)).toEqual([[], []]);
      const promised = sqs.messages.slice(before).map((m) => Number(m.attributes!.slotAt!.StringValue));
      // One slot was due (the first of one block); the seven others are promised.
      expect(await delivered(emails)).toHaveLength(1);
      expect(promised).toHaveLength(7);
      const calls = [t0, ...promised].sort((a, b) => a - b);
      const gaps = calls.slice(1).map((c, i) => c - calls[i]!);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(400);
      expect(calls.slice(2).map((c, i) => c - calls[i + 1]!)).toEqual(Array(6).fill(500));
    }));

  it('takes no sending slot for a job that never emails (a close): it runs beside the email that takes the one slot due', () =>
    atRate(2, async () => {
      const tag = Date.now();
      const email = `alone-${tag}@news.example`;
      const { jobs } = await round([email]);
      // Another round's close: closing this one would skip its invitation, whichever job ran first.
      const other = await round([`other-${tag}@news.example`]);
      const before = sqs.messages.length;
      const close = { kind: 'close-round' as const, roundId: other.jobs[0]!.roundId };
      expect((await sender(sqsEvent([encodeJob(close), encodeJob(jobs[0]!)]), lambdaContext())).batchItemFailures).toEqual([]);
      expect(sqs.messages.length).toBe(before);
      expect(await sesEmails({ to: email })).toHaveLength(1);
    }));

  it('reports a body that is not a send job (a poison message, bound for the dead-letter queue)', async () => {
    const event = sqsEvent(['not json', '{"kind":"invitation"}']);
    const { batchItemFailures } = await sender(event, lambdaContext());
    expect(batchItemFailures.map((f) => f.itemIdentifier)).toEqual(event.Records.map((r) => r.messageId));
  });
});

/** An SNS event carrying one SES event (the configuration set's event destination). */
function snsEvent(message: string): SNSEvent {
  const record: SNSEventRecord = {
    EventSource: 'aws:sns',
    EventVersion: '1.0',
    EventSubscriptionArn: 'arn:aws:sns:us-east-1:123456789012:rapport-SesEvents:sub',
    Sns: {
      Type: 'Notification',
      MessageId: crypto.randomUUID(),
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:rapport-SesEvents',
      Subject: null as unknown as string,
      Message: message,
      Timestamp: new Date().toISOString(),
      SignatureVersion: '1',
      Signature: 'EXAMPLE',
      SigningCertUrl: 'https://sns.us-east-1.amazonaws.com/cert.pem',
      UnsubscribeUrl: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
      MessageAttributes: {},
    },
  };
  return { Records: [record] };
}

const sesEvent = (eventType: 'Bounce' | 'Complaint', invitation: Invitation, email: string) =>
  JSON.stringify({
    eventType,
    mail: { timestamp: new Date().toISOString(), source: 'surveys@rapport.example', messageId: invitation.messageId, destination: [email], tags: sesEventTags(invitation) },
    ...(eventType === 'Bounce'
      ? { bounce: { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ emailAddress: email, action: 'failed', status: '5.1.1' }], timestamp: new Date().toISOString(), feedbackId: 'f1' } }
      : { complaint: { complainedRecipients: [{ emailAddress: email }], complaintFeedbackType: 'abuse', timestamp: new Date().toISOString(), feedbackId: 'f2' } }),
  });

describe('ses-events handler (SNS from SES)', () => {
  it('a bounce marks the invitation bounced and a complaint suppresses the address, for every agency', async () => {
    const tag = Date.now();
    const [gone, annoyed] = [`gone-${tag}@news.example`, `annoyed-${tag}@news.example`];
    const { jobs } = await round([gone, annoyed]);
    expect((await sender(sqsEvent(jobs.map(encodeJob)), lambdaContext())).batchItemFailures).toEqual([]);
    const [bounced, complained] = await Promise.all(jobs.map(async (job) => (await openInvitation(deps.db, job)).invitation));

    await sesEvents(snsEvent(sesEvent('Bounce', bounced!, gone)), lambdaContext());
    await sesEvents(snsEvent(sesEvent('Complaint', complained!, annoyed)), lambdaContext());

    expect((await openInvitation(deps.db, jobs[0]!)).invitation.status).toBe('bounced');
    expect((await openInvitation(deps.db, jobs[1]!)).invitation.status).toBe('sent');
    // Another agency's round now skips both addresses, with the reason.
    const later = await round([gone, annoyed]);
    expect(later.accepted).toEqual([]);
    expect(later.skipped.map((s) => s.reason).sort()).toEqual(['bounced', 'complained']);
  });

  it('drops a malformed notification without failing the invocation', async () => {
    await expect(sesEvents(snsEvent('{"eventType":"Bounce"}'), lambdaContext())).resolves.toBeUndefined();
  });
});

describe('handler logs', () => {
  it('are JSON lines with the Lambda request id, and carry no address, key or link token', async () => {
    const context = lambdaContext();
    const tag = Date.now();
    const { jobs } = await round([`logged-${tag}@news.example`]);
    await sender(sqsEvent(jobs.map(encodeJob)), context);
    const lines = logs.flatMap((l) => l.split('\n')).filter(Boolean).map((l) => JSON.parse(l));
    expect(lines.some((l) => l.level === 'ERROR' && l.error?.name === 'NotFoundError')).toBe(true);
    expect(lines.find((l) => l.function_request_id === context.awsRequestId)).toMatchObject({ message: 'send job done', outcome: 'sent', level: 'INFO' });
    const all = logs.join('\n');
    expect(all).not.toMatch(/@[\w.-]+\.example/);
    expect(all).not.toMatch(/rpk_[\w-]{8}/);
    expect(all).not.toMatch(/\/s\/|\/u\//);
  });
});
