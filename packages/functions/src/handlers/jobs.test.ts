/**
 * The jobs handler with the event its schedule sends, on a table of its own (the scheduled job
 * sweeps whole indexes), queuing to a loopback SQS endpoint whose messages are then fed to the real
 * sender handler: schedule → SQS → sender → SES, short of AWS itself.
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  createAgency,
  createCampaign,
  createPro,
  createRound,
  createWebhook,
  deliveryIdOf,
  emitWebhookEvent,
  eventBody,
  eventIdFor,
  getRound,
  keys,
  openInvitation,
  submitResponse,
  updateSettings,
  type InvitationJob,
  type SendJob,
} from '@rapport/core';
import { isolatedTestDeps, sesEmails, testConfig } from '@rapport/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeJob, encodeJob } from '../adapters/send-job-message';
import type { Deps } from '../deps';
import { logger } from '../logger';
import { handler as jobs, type JobEvent } from './jobs';
import { resetLambdaDeps } from './runtime';
import { handler as sender } from './sender';
import { lambdaContext, lambdaEnv, sqsEvent, startFakeSqs, type FakeSqs } from './test-support';

let deps: Deps;
let sqs: FakeSqs;
const DAY = 86_400_000;

beforeAll(async () => {
  deps = await isolatedTestDeps();
  sqs = await startFakeSqs();
  const config = testConfig();
  Object.assign(process.env, lambdaEnv({ ...config, table: deps.config.table, linkSecret: deps.linkSecret }, sqs, { PUBLIC_URL: 'https://rapport.example', SEND_RATE_PER_SECOND: '100' }));
  resetLambdaDeps();
  logger.setLogLevel('SILENT');
});
afterAll(async () => {
  vi.useRealTimers();
  resetLambdaDeps();
  deps.db.client.destroy();
  await sqs.close();
});

/** Runs the jobs handler as the schedule would, as if at `at` (only `Date` is moved). */
async function runAt(at: Date, event: JobEvent = { job: 'scheduled' }) {
  vi.useFakeTimers({ toFake: ['Date'], now: at });
  try {
    return await jobs(event, lambdaContext());
  } finally {
    vi.useRealTimers();
  }
}

/** The jobs queued since `from` (an index into the fake queue's messages). */
const queuedSince = (from: number): SendJob[] => sqs.bodies.slice(from).map((b) => decodeJob(b)!);

/**
 * Feeds jobs to the sender handler as SQS would, as if at `at`. The sender is linked to the
 * link-signing secret (infra/sender.ts), even where a test runs the jobs function without it.
 */
async function sendAt(at: Date, queued: SendJob[]) {
  const unlinked = process.env.LINK_SECRET === undefined;
  if (unlinked) process.env.LINK_SECRET = deps.linkSecret;
  resetLambdaDeps();
  vi.useFakeTimers({ toFake: ['Date'], now: at });
  try {
    return (await sender(sqsEvent(queued.map(encodeJob)), lambdaContext())).batchItemFailures;
  } finally {
    vi.useRealTimers();
    if (unlinked) delete process.env.LINK_SECRET;
    resetLambdaDeps();
  }
}

const nothingElse = { releasesFinished: 0, remindersQueued: 0, requeued: 0, recorded: 0, resent: 0, eventsFannedOut: 0, deliveriesQueued: 0, retentionAgencies: 0, commentsRemoved: 0, identitiesErased: 0, agenciesDue: 0, agenciesQueued: 0 };

describe('jobs handler (CronV2 schedule event)', () => {
  it('"scheduled" queues the reminders due to SQS, which the sender emails, and later closes the round', async () => {
    const start = new Date();
    const tag = start.getTime();
    const agency = await createAgency(deps.db, { name: 'Jobs handler' }, start);
    // No summaries: at the real time, which periods come due in these days depends on the weekday
    // (the next test has the summaries the run queues).
    await updateSettings(deps.db, agency.agencyId, { summary: { cadence: 'never' } }, start);
    const pro = await createPro(deps.db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, start);
    const campaign = await createCampaign(deps.db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, start);
    const emails = [`ben-${tag}@acme.example`, `cleo-${tag}@brand.example`];
    const { round, accepted } = await createRound(deps.db, agency.agencyId, campaign.campaignId, { recipients: [{ email: emails[0], audience: 'colleague' }, { email: emails[1], audience: 'client' }] }, start);
    const invitations = accepted.map((i) => ({ kind: 'invitation' as const, roundId: round.roundId, invitationId: i.invitationId }));
    expect((await sender(sqsEvent(invitations.map(encodeJob)), lambdaContext())).batchItemFailures).toEqual([]);

    // Nothing is due yet.
    let from = sqs.bodies.length;
    expect(await runAt(new Date(start.getTime() + 60_000))).toEqual({
      job: 'scheduled',
      at: new Date(start.getTime() + 60_000).toISOString(),
      roundsToClose: 0,
      releasesFinished: 0,
      remindersQueued: 0,
      requeued: 0,
      recorded: 0,
      resent: 0,
      eventsFannedOut: 0,
      deliveriesQueued: 0,
      retentionAgencies: 0,
      commentsRemoved: 0,
      identitiesErased: 0,
      agenciesDue: 0,
      agenciesQueued: 0,
    });
    expect(queuedSince(from)).toEqual([]);

    // Four days on, each gets the day-3 reminder, through SQS and the sender.
    from = sqs.bodies.length;
    expect(await runAt(new Date(start.getTime() + 4 * DAY))).toMatchObject({ remindersQueued: 2, roundsToClose: 0 });
    const reminders = queuedSince(from);
    expect(reminders.map((j) => j.kind)).toEqual(['reminder', 'reminder']);
    expect(reminders.map((j) => ('invitationId' in j ? j.invitationId : undefined)).sort()).toEqual(accepted.map((i) => i.invitationId).sort());
    expect((await sender(sqsEvent(reminders.map(encodeJob)), lambdaContext())).batchItemFailures).toEqual([]);
    for (const email of emails) expect(await sesEmails({ to: email })).toHaveLength(2);

    // After fourteen days the round is queued to close, in a job of its own the sender runs;
    // unanswered invitations expire.
    const end = new Date(start.getTime() + 15 * DAY);
    from = sqs.bodies.length;
    expect(await runAt(end)).toEqual({ job: 'scheduled', at: end.toISOString(), ...nothingElse, roundsToClose: 1, remindersQueued: 2 });
    // The second reminders, due meanwhile, are queued beside the close and send nothing: the round's time is up.
    const last = queuedSince(from);
    expect(last.map((j) => j.kind).sort()).toEqual(['close-round', 'reminder', 'reminder']);
    expect(last.find((j) => j.kind === 'close-round')).toEqual({ kind: 'close-round', roundId: round.roundId });
    expect((await getRound(deps.db, agency.agencyId, round.roundId)).status).toBe('open');
    expect(await sendAt(end, last)).toEqual([]);
    for (const email of emails) expect(await sesEmails({ to: email })).toHaveLength(2);
    expect((await getRound(deps.db, agency.agencyId, round.roundId)).status).toBe('closed');
    expect((await openInvitation(deps.db, invitations[0]!)).invitation.status).toBe('expired');
  });

  it('"scheduled" also queues the summaries: each pro with a release gets theirs at the agency\'s slot, once, after the run closed the round; "summaries" runs them alone', async () => {
    // Its function is not linked to the link-signing secret (infra/jobs.ts): it runs without it.
    // The sender is (it signs survey links), and sends the summaries.
    const secret = process.env.LINK_SECRET;
    const withSecret = (linked: boolean) => {
      if (linked) process.env.LINK_SECRET = secret;
      else delete process.env.LINK_SECRET;
      resetLambdaDeps();
    };
    // Week of Monday 4 March 2030 (UTC, weekly by default); the slot is Monday 11 March 09:00.
    const week = new Date('2030-03-04T10:00:00Z');
    const agency = await createAgency(deps.db, { name: 'Summaries handler', timezone: 'UTC' }, week);
    // k = 3, and rounds close after two days (on Wednesday 6 March, 10:00), reminders before that.
    const reminders = { reporterDays: [1], colleagueDays: [1], clientDays: [1] };
    await updateSettings(deps.db, agency.agencyId, { anonymityThreshold: 3, surveyExpiryDays: 2, reminders }, week);
    const email = `jane-summary-${Date.now()}@acme.example`;
    const pro = await createPro(deps.db, agency.agencyId, { name: 'Jane Doe', email }, week);
    const campaign = await createCampaign(deps.db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, week);
    const recipients = [0, 1, 2].map((i) => ({ email: `r${i}-${email}`, audience: 'reporter' }));
    const { round, accepted } = await createRound(deps.db, agency.agencyId, campaign.campaignId, { recipients }, week);
    for (const [i, invitation] of accepted.entries()) {
      await submitResponse(deps.db, invitation, { responsiveness: 4 + (i % 2), recommend: 9 }, new Date(week.getTime() + 3_600_000 + i * 60_000));
    }

    // Each run queues to SQS; each job is fed to the sender until the queue is empty (the sender
    // lists the agency's pros and queues each one's summary there, which it sends).
    const runAndSend = async (at: Date, event: JobEvent = { job: 'scheduled' }) => {
      let from = sqs.bodies.length;
      withSecret(false);
      const run = await runAt(at, event);
      withSecret(true);
      const kinds: string[] = [];
      for (let queued = queuedSince(from); queued.length > 0; queued = queuedSince(from)) {
        from = sqs.bodies.length;
        kinds.push(...queued.map((j) => j.kind));
        expect(await sendAt(at, queued)).toEqual([]);
      }
      return { run, kinds };
    };
    // The agency is due from its creation: the week before (W09) is the one due, Jane was quiet
    // then, and nothing is emailed. The answers are anonymous: they count in a summary only once
    // the run has closed the round and released them, which it does only once its time is up.
    const scheduled = { job: 'scheduled', roundsToClose: 0, ...nothingElse };
    expect(await runAndSend(new Date('2030-03-06T09:59:00Z'))).toEqual({ run: { ...scheduled, at: '2030-03-06T09:59:00.000Z', agenciesDue: 1, agenciesQueued: 1 }, kinds: ['summaries'] });
    expect((await getRound(deps.db, agency.agencyId, round.roundId)).status).toBe('open');
    // W09 is complete: the agency moves on to its next slot.
    expect(await runAndSend(new Date('2030-03-06T10:01:00Z'))).toEqual({ run: { ...scheduled, at: '2030-03-06T10:01:00.000Z', roundsToClose: 1, agenciesDue: 1 }, kinds: ['close-round'] });
    expect((await getRound(deps.db, agency.agencyId, round.roundId)).status).toBe('closed');
    expect(await sesEmails({ to: email })).toEqual([]);

    // Before the slot, nothing is due; at it, W10 is, with Jane's released answers.
    expect(await runAndSend(new Date('2030-03-11T08:00:00Z'))).toEqual({ run: { ...scheduled, at: '2030-03-11T08:00:00.000Z' }, kinds: [] });
    expect(await runAndSend(new Date('2030-03-11T09:00:00Z'))).toEqual({ run: { ...scheduled, at: '2030-03-11T09:00:00.000Z', agenciesDue: 1, agenciesQueued: 1 }, kinds: ['summaries', 'summary'] });
    // Run by hand (an operator's `summaries` event), the summaries alone: W10 is complete, nothing is queued.
    expect(await runAndSend(new Date('2030-03-11T09:30:00Z'), { job: 'summaries' })).toEqual({ run: { job: 'summaries', at: '2030-03-11T09:30:00.000Z', agenciesDue: 1, agenciesQueued: 0 }, kinds: [] });
    expect(await runAndSend(new Date('2030-03-11T10:00:00Z'))).toEqual({ run: { ...scheduled, at: '2030-03-11T10:00:00.000Z' }, kinds: [] });
    const inbox = await sesEmails({ to: email });
    expect(inbox).toHaveLength(1);
    expect(inbox[0]!.subject).toBe('Your responsiveness in the week of 4 Mar to 10 Mar 2030: 4.3 out of 5 from 3 answers');
    expect(inbox[0]!.body.html).toContain('Jane Doe');
  });

  it('refuses an event that names no known job, or a time between runs that is not whole seconds', async () => {
    await expect(jobs({ job: 'nightly' } as unknown as JobEvent, lambdaContext())).rejects.toThrow(/must be one of scheduled, summaries/);
    await expect(jobs({ job: 'scheduled', everySeconds: -1 }, lambdaContext())).rejects.toThrow(/everySeconds: must be a whole number of seconds/);
  });
});

describe('jobs handler (the table stream, new webhook events)', () => {
  /** A stream batch as Lambda delivers it for a keys-only stream: INSERTs of these keys. */
  const streamEvent = (written: { PK: string; SK: string }[], eventName: 'INSERT' | 'REMOVE' = 'INSERT'): DynamoDBStreamEvent => ({
    Records: written.map((key, i) => ({
      eventID: String(i),
      eventName,
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      dynamodb: { Keys: { PK: { S: key.PK }, SK: { S: key.SK } }, SequenceNumber: String(100 + i), SizeBytes: 40, StreamViewType: 'KEYS_ONLY' },
    })),
  });

  it('fans a new event out to SQS at once from its stream record, not at the next hourly run; a record seen again, another item\'s or a removal does nothing', async () => {
    const now = new Date();
    const agency = await createAgency(deps.db, { name: 'Stream' }, now);
    const { webhook } = await createWebhook(deps.db, agency.agencyId, { url: 'https://hooks.example/rapport', events: ['round.closed'] }, now, { allowLoopback: false });
    const event = { eventId: eventIdFor(now, 'stream-test', agency.agencyId), agencyId: agency.agencyId, type: 'round.closed' as const, timestamp: now.toISOString(), data: { surveyId: 'srv_x' } };
    await emitWebhookEvent(deps.db, event);
    const key = keys.webhookEvent(event.eventId);
    const from = sqs.bodies.length;

    const result = await jobs(streamEvent([key, keys.agency(agency.agencyId), key]), lambdaContext());
    expect(result).toMatchObject({ job: 'webhook-events', fannedOut: 1 });
    const deliveryId = deliveryIdOf(event.eventId);
    expect(queuedSince(from)).toEqual([{ kind: 'webhook', webhookId: webhook.webhookId, deliveryId }]);
    const delivery = await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.webhookDelivery(webhook.webhookId, deliveryId), ConsistentRead: true }));
    expect(delivery.Item).toMatchObject({ status: 'pending', body: eventBody(event) });
    expect((await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: key, ConsistentRead: true }))).Item).toBeUndefined();

    // Seen again (streams deliver at least once), or removed: nothing more.
    expect(await jobs(streamEvent([key]), lambdaContext())).toMatchObject({ fannedOut: 0 });
    expect(await jobs(streamEvent([key], 'REMOVE'), lambdaContext())).toMatchObject({ fannedOut: 0 });
    expect(queuedSince(from)).toHaveLength(1);
  });
});
