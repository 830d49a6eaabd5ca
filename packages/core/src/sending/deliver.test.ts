import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { faultyDb, sesEmails, testConfig, testDeps } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { keys } from '../db/keys';
import { createPro } from '../pro/pro';
import { erasePro } from '../rights/pro-erasure';
import { closeRoundNow } from '../jobs/expiry';
import { createCampaign } from '../campaign/campaign';
import { createSesMailer, MailerError, type Mailer } from '../email/mailer';
import { cancelRound, createRound, getRound } from '../survey/round';
import { openInvitation } from '../survey/response';
import { suppress } from '../survey/suppression';
import { verifyInvitationToken } from '../survey/token';
import { LEASE_MS, type DeliveryDeps } from './deliver';
import { deliver } from './dispatch';
import type { SendJob } from './queue';
import { roundForSending } from './survey-email';

const config = testConfig();
const { db, linkSecret } = testDeps();
const sesMailer = createSesMailer({ region: config.region, endpoint: config.sesEndpoint });
const deliveryDeps = (mailer: Mailer = sesMailer, extra: Partial<DeliveryDeps> = {}): DeliveryDeps => ({
  db,
  mailer,
  linkSecret,
  publicUrl: config.publicUrl,
  mailFrom: config.mailFrom,
  now: () => new Date(),
  ...extra,
});

let n = 0;
async function roundFixture(count = 2) {
  const now = new Date();
  const tag = `${++n}-${now.getTime()}`;
  const agency = await createAgency(db, { name: `Delivery ${tag}` }, now);
  const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, now);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, now);
  const recipients = Array.from({ length: count }, (_, i) => ({ email: `rcpt${i}-${tag}@news.example`, name: `Reporter ${i}`, audience: 'reporter' }));
  const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients }, now);
  const jobs = accepted.map((i) => ({ kind: 'invitation' as const, roundId: round.roundId, invitationId: i.invitationId }));
  return { agencyId: agency.agencyId, pro, round, jobs, emails: recipients.map((r) => r.email) };
}

/** The stored item, index keys included. */
async function rawInvitation(ref: { roundId: string; invitationId: string }) {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.invitation(ref.roundId, ref.invitationId) }));
  return Item as { status: string; checkAt?: string; queuedAt: string; sendingAt: string; lastFailureAt: string };
}


/** A creation's write of invitations: one by one (PutItem), or a batch of new addresses' (PartiQL INSERTs). */
const invitationWrite = (command: string | undefined, input: string) =>
  (command === 'PutItemCommand' || command === 'BatchExecuteStatementCommand') && input.includes('"invitation"');
describe('delivering invitations', () => {
  it('emails each person once through SES, however often and however concurrently the job runs', async () => {
    const { agencyId, pro, round, jobs, emails } = await roundFixture(3);
    const deps = deliveryDeps();
    const firstRun = await Promise.all(jobs.flatMap((job) => [deliver(deps, job), deliver(deps, job)]));
    expect(firstRun.filter((o) => o === 'sent')).toHaveLength(3);
    expect(firstRun.filter((o) => o === 'not-due')).toHaveLength(3);
    expect(await Promise.all(jobs.map((job) => deliver(deps, job)))).toEqual(['not-due', 'not-due', 'not-due']);

    for (const [i, email] of emails.entries()) {
      const inbox = await sesEmails({ to: email });
      expect(inbox).toHaveLength(1);
      const mail = inbox[0]!;
      expect(mail.subject).toBe('How responsive was Jane Doe on the Spring Launch?');
      expect(mail.replyTo.join()).toContain(pro.email);
      const links = [...mail.body.text!.matchAll(/http:\/\/localhost:3000\/s\/([^?\s]+)\?score=(\d)/g)];
      expect(links.map((l) => l[2])).toEqual(['1', '2', '3', '4', '5']);
      expect(verifyInvitationToken(linkSecret, links[0]![1]!)).toEqual({ roundId: round.roundId, invitationId: jobs[i]!.invitationId });
    }
    const stored = await openInvitation(db, jobs[0]!);
    expect(stored.invitation).toMatchObject({ status: 'sent', sentAt: expect.any(String), messageId: expect.any(String) });
    expect((await getRound(db, agencyId, round.roundId)).counts).toMatchObject({ pending: 0, sending: 0, sent: 3 });
  });

  it('lets no CR/LF in the pro, campaign or recipient name inject a header, end to end through SES', async () => {
    const now = new Date();
    const tag = `inject-${++n}-${now.getTime()}`;
    const agency = await createAgency(db, { name: `Delivery ${tag}` }, now);
    const pro = await createPro(db, agency.agencyId, { name: `Jane\r\nBcc: pro-${tag}@evil.example`, email: `jane-${tag}@acme.example` }, now);
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: `Launch\r\nBcc: cmp-${tag}@evil.example` }, now);
    const email = `rcpt-${tag}@news.example`;
    const recipients = [{ email, name: `Ann\nBcc: rcpt-${tag}@evil.example\r\nX-Injected: yes`, audience: 'reporter' }];
    const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients }, now);
    expect(await deliver(deliveryDeps(), { kind: 'invitation', roundId: round.roundId, invitationId: accepted[0]!.invitationId })).toBe('sent');

    const [mail, ...more] = await sesEmails({ to: email });
    expect(more).toEqual([]);
    // The line breaks became spaces inside a quoted display name (which also loses the word holding an address): one recipient, no Bcc.
    expect(mail!.destination).toEqual({ to: [`"Ann Bcc: X-Injected: yes" <${email}>`], cc: [], bcc: [] });
    expect(mail!.subject).toBe(`How responsive was Jane Bcc: pro-${tag}@evil.example on the Launch Bcc: cmp-${tag}@evil.example?`);
  });

  it('sends nothing for a cancelled round or an address suppressed since the round began', async () => {
    const cancelled = await roundFixture(1);
    await cancelRound(db, cancelled.agencyId, cancelled.round.roundId);
    // Cancelling skipped the invitation already; its queued job finds nothing to do.
    expect(await deliver(deliveryDeps(), cancelled.jobs[0]!)).toBe('not-due');
    expect((await openInvitation(db, cancelled.jobs[0]!)).invitation.status).toBe('skipped');
    expect(await sesEmails({ to: cancelled.emails[0]! })).toEqual([]);

    const suppressed = await roundFixture(1);
    await suppress(db, suppressed.emails[0]!, 'unsubscribed', { agencyId: suppressed.agencyId }, new Date());
    // The unsubscribe skipped the pending invitation where it was written: the job finds nothing to send.
    expect(await deliver(deliveryDeps(), suppressed.jobs[0]!)).toBe('not-due');
    expect(await sesEmails({ to: suppressed.emails[0]! })).toEqual([]);
    expect((await getRound(db, suppressed.agencyId, suppressed.round.roundId)).counts).toMatchObject({ pending: 0, skipped: 1 });
  });

  it('sends no email once a cancel has answered but the one its answer counts in flight: a worker that knew the round open claimed an invitation between the cancel reading it and skipping it (the cancel pauses before skipping; stub: an SES call slow to start)', async () => {
    const { agencyId, round, jobs, emails } = await roundFixture(3);
    // This worker sent the round's first invitation: it keeps the round, read while open.
    expect(await deliver(deliveryDeps(), jobs[0]!)).toBe('sent');
    const faulty = faultyDb(db);
    const { reached, resume } = faulty.pauseTransactWrite();
    const pausing = faulty.db;
    const cancelling = cancelRound(pausing, agencyId, round.roundId);
    await reached;
    // The cancel has marked the round and read the pending invitations; the worker claims one now,
    // and its SES call starts only after the cancel has answered.
    let cancelled!: () => void;
    const answered = new Promise<void>((resolve) => (cancelled = resolve));
    const slow: Mailer = { send: async (message) => (await answered, sesMailer.send(message)) };
    const sending = deliver(deliveryDeps(slow), jobs[1]!);
    while ((await openInvitation(db, jobs[1]!)).invitation.status === 'pending') await new Promise((r) => setTimeout(r, 5));
    resume();
    const answer = await cancelling;
    // The claim won the race: the cancel's skip failed on it, and its answer counts it in flight.
    expect(answer.status).toBe('cancelled');
    expect(answer.counts).toMatchObject({ pending: 0, sending: 1, sent: 1, skipped: 1 });
    // Nothing else can be claimed after the answer.
    expect(await deliver(deliveryDeps(), jobs[2]!)).toBe('not-due');
    cancelled();
    expect(await sending).toBe('sent');
    // The one email after the answer is the one it counted.
    expect((await sesEmails({ to: emails[1]! })).length).toBe(1);
    expect(await sesEmails({ to: emails[2]! })).toEqual([]);
    expect((await getRound(db, agencyId, round.roundId)).counts).toMatchObject({ pending: 0, sending: 0, sent: 2, skipped: 1 });
  });

  it('sends no reminder once a cancel has answered, to an invitation whose worker read the round open just before the cancel (the cancel lands between the worker\'s read and its claim)', async () => {
    const { agencyId, round, jobs, emails } = await roundFixture(1);
    expect(await deliver(deliveryDeps(), jobs[0]!)).toBe('sent');
    const dueAt = (await openInvitation(db, jobs[0]!)).invitation.nextReminderAt!;
    const faulty = faultyDb(db);
    faulty.beforeWrite(1, () => cancelRound(db, agencyId, round.roundId));
    const at = new Date(Date.parse(dueAt) + 1000);
    expect(await deliver(deliveryDeps(sesMailer, { db: faulty.db, now: () => at }), { ...jobs[0]!, kind: 'reminder', dueAt })).toBe('skipped');
    expect((await getRound(db, agencyId, round.roundId)).status).toBe('cancelled');
    expect((await sesEmails({ to: emails[0]! })).map((m) => m.subject.startsWith('Reminder'))).toEqual([false]);
    expect((await openInvitation(db, jobs[0]!)).invitation).toMatchObject({ status: 'sent', remindersSent: 0, nextReminderAt: null });
  });

  it("emails nothing of an erased pro from a worker that sent the round's earlier invitations and keeps the round: the erasure skipped the rest, and one in flight SES did not take is not queued again (stubbed throttling)", async () => {
    const { agencyId, pro, round, jobs, emails } = await roundFixture(3);
    expect(await deliver(deliveryDeps(), jobs[0]!)).toBe('sent');
    // The erasure comes while the worker holds the second invitation's claim; SES then takes nothing.
    let erased = false;
    const throttled: Mailer = {
      send: async () => {
        if (!erased) await erasePro(db, agencyId, pro.proId, new Date());
        erased = true;
        throw new MailerError('Rate exceeded', 'Throttling', true, undefined, true);
      },
    };
    expect(await deliver(deliveryDeps(throttled, { retry: { attempts: 1, baseDelayMs: 1 } }), jobs[1]!)).toBe('not-due');
    expect(erased).toBe(true);
    expect((await openInvitation(db, jobs[1]!)).invitation.status).toBe('skipped');
    // The worker's copy of the round still names the pro, but nothing of the round can be claimed.
    expect(await deliver(deliveryDeps(), jobs[2]!)).toBe('not-due');
    expect(await deliver(deliveryDeps(), jobs[1]!)).toBe('not-due');
    expect(await sesEmails({ to: emails[1]! })).toEqual([]);
    expect(await sesEmails({ to: emails[2]! })).toEqual([]);
    expect((await getRound(db, agencyId, round.roundId)).counts).toMatchObject({ pending: 0, sending: 0, sent: 1, skipped: 2 });
  });

  it('sends nothing of a round cancelled while its invitations were being written, from a worker that read the round open: the round skips them itself', async () => {
    const now = new Date();
    const tag = `created-${++n}-${now.getTime()}`;
    const agency = await createAgency(db, { name: `Delivery ${tag}` }, now);
    const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, now);
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, now);
    const emails = [`a-${tag}@news.example`, `b-${tag}@news.example`];
    // The round is written; a worker reads it, then the cancel runs (finding no invitation) just
    // before the invitations are written: the worst order for the round.
    const racing = testDeps().db;
    let cancel: Promise<unknown> | undefined;
    racing.client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = JSON.stringify(args.input);
        // Every invitation's write (alone, or a batch of new addresses') waits for the cancel, which the first of them starts.
        if (invitationWrite(context.commandName, input)) {
          const roundId = /"RND#([^"#]+)"/.exec(input)![1]!;
          cancel ??= (async () => {
            await roundForSending(db, roundId);
            expect((await cancelRound(db, agency.agencyId, roundId)).counts).toMatchObject({ pending: 0, sending: 0, skipped: 0 });
          })();
          await cancel;
        }
        return next(args);
      },
      { step: 'initialize', name: 'cancelMidCreation' },
    );
    const { round, accepted } = await createRound(racing, agency.agencyId, campaign.campaignId, { recipients: emails.map((email) => ({ email, audience: 'reporter' })) }, now);
    expect(cancel).toBeDefined();
    const jobs = accepted.map((i) => ({ kind: 'invitation' as const, roundId: round.roundId, invitationId: i.invitationId }));
    expect(await Promise.all(jobs.map((job) => deliver(deliveryDeps(), job)))).toEqual(['not-due', 'not-due']);
    expect((await getRound(db, agency.agencyId, round.roundId)).counts).toMatchObject({ pending: 0, skipped: 2 });
    expect(await sesEmails({ to: emails[0]! })).toEqual([]);
    expect(await sesEmails({ to: emails[1]! })).toEqual([]);
  });

  it("emails nothing of a pro erased while a round of theirs was being created: the creation read the pro before the erasure, and writes the round after the erasure looked for the pro's rounds", async () => {
    const now = new Date();
    const tag = `erased-mid-creation-${++n}-${now.getTime()}`;
    const agency = await createAgency(db, { name: `Delivery ${tag}` }, now);
    const proEmail = `jane-${tag}@acme.example`;
    const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: proEmail }, now);
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, now);
    const emails = [`a-${tag}@news.example`, `b-${tag}@news.example`];
    // The erasure runs, and answers, just before the creation's first write (the round's).
    const racing = testDeps().db;
    let erased = false;
    racing.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'TransactWriteItemsCommand' && !erased) {
          erased = true;
          await erasePro(db, agency.agencyId, pro.proId, new Date());
        }
        return next(args);
      },
      { step: 'initialize', name: 'eraseMidCreation' },
    );
    const created = await createRound(racing, agency.agencyId, campaign.campaignId, { recipients: emails.map((email) => ({ email, audience: 'reporter' })) }, now).catch((error: unknown) => error);
    expect(erased).toBe(true);
    if (!(created instanceof Error)) {
      const { round, accepted } = created as Awaited<ReturnType<typeof createRound>>;
      await Promise.all(accepted.map((i) => deliver(deliveryDeps(), { kind: 'invitation', roundId: round.roundId, invitationId: i.invitationId })));
    }
    for (const email of emails) {
      for (const sent of await sesEmails({ to: email })) {
        expect(JSON.stringify(sent)).not.toContain('Jane Doe');
        expect(JSON.stringify(sent)).not.toContain(proEmail);
      }
    }
  });

  it('sends nothing after a close now answered, from a worker that keeps the round, when the close read an eventually consistent page that did not yet show an invitation written a moment before (stub: DynamoDB Local always reads consistently)', async () => {
    const { agencyId, round, jobs, emails } = await roundFixture(3);
    // A warm worker: it keeps the round, with its closing time as created.
    expect(await deliver(deliveryDeps(), jobs[0]!)).toBe('sent');
    const late = `INV#${jobs[2]!.invitationId}`;
    const stale = testDeps().db;
    stale.client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { ConsistentRead?: boolean; ExpressionAttributeValues?: Record<string, unknown> };
        const result = await next(args);
        // A page of the round's invitations read eventually consistent: the last one written is not there yet.
        if (context.commandName === 'QueryCommand' && !input.ConsistentRead && input.ExpressionAttributeValues?.[':inv'] === 'INV#') {
          const output = result.output as { Items?: { SK?: string }[]; Count?: number };
          output.Items = output.Items?.filter((item) => item.SK !== late);
          output.Count = output.Items?.length;
        }
        return result;
      },
      { step: 'initialize', name: 'staleInvitationPage' },
    );
    const answer = await closeRoundNow(stale, agencyId, round.roundId, new Date());
    expect(answer.counts.sending).toBe(0);
    expect(await deliver(deliveryDeps(), jobs[1]!)).toBe('not-due');
    expect(await deliver(deliveryDeps(), jobs[2]!)).not.toBe('sent');
    expect(await sesEmails({ to: emails[2]! })).toEqual([]);
  });

  // Stubs: the local SES server cannot be made to throttle or reject, so these faults are injected.
  it('backs off and retries on SES throttling (stubbed fault), then sends once', async () => {
    const { jobs, emails } = await roundFixture(1);
    let calls = 0;
    const throttling: Mailer = {
      send: async (message) => {
        if (++calls <= 2) throw new MailerError('Rate exceeded', 'Throttling', true, undefined, true);
        return sesMailer.send(message);
      },
    };
    const delays: number[] = [];
    const outcome = await deliver(deliveryDeps(throttling, { retry: { attempts: 4, baseDelayMs: 100 }, sleep: async (ms) => void delays.push(ms) }), jobs[0]!);
    expect(outcome).toBe('sent');
    expect(delays).toEqual([100, 200]);
    expect(await sesEmails({ to: emails[0]! })).toHaveLength(1);
  });

  it('puts an email SES did not take back to pending and queues it with a delay; leaves one SES may have taken in doubt; fails one refused for good (stubbed faults)', async () => {
    const { agencyId, round, jobs } = await roundFixture(3);
    const delays: number[] = [];
    const sleep = async (ms: number) => void delays.push(ms);
    const requeued: [SendJob, number][] = [];
    const requeue = async (job: SendJob, seconds: number) => void requeued.push([job, seconds]);
    const warnings: [string, Record<string, string>][] = [];
    const warn = (message: string, fields: Record<string, string>) => void warnings.push([message, fields]);
    // Throttled through every attempt: SES took nothing, so it is tried again later, never failed.
    const alwaysThrottled: Mailer = { send: async () => Promise.reject(new MailerError('Rate exceeded', 'Throttling', true, undefined, true)) };
    expect(await deliver(deliveryDeps(alwaysThrottled, { retry: { attempts: 3, baseDelayMs: 50 }, sleep, requeue, warn }), jobs[0]!)).toBe('retry');
    expect(delays).toEqual([50, 100]);
    expect((await openInvitation(db, jobs[0]!)).invitation).toMatchObject({ status: 'pending', retries: 1, lastFailure: 'Throttling' });
    expect(requeued.map(([job]) => job)).toEqual([jobs[0]]);
    expect(requeued[0]![1]).toBeGreaterThanOrEqual(1);
    expect(requeued[0]![1]).toBeLessThanOrEqual(3);
    // Back in the queue, it is leased again: lost, the recovery sweep finds it after the wait and a lease.
    const queued = await rawInvitation(jobs[0]!);
    expect(Date.parse(queued.checkAt!) - Date.parse(queued.queuedAt)).toBe(LEASE_MS);
    expect(Date.parse(queued.queuedAt) - Date.parse(queued.lastFailureAt)).toBe(requeued[0]![1] * 1000);

    // A timeout mid-request: SES may have taken it, so it is neither sent again nor failed. It stays
    // `sending` with its lease, for the recovery sweep to settle from SES's record.
    const timedOut: Mailer = { send: async () => Promise.reject(new MailerError('Socket timeout', 'ETIMEDOUT', true)) };
    const before = await rawInvitation(jobs[1]!);
    expect(await deliver(deliveryDeps(timedOut, { retry: { attempts: 3, baseDelayMs: 50 }, sleep, requeue, warn }), jobs[1]!)).toBe('in-doubt');
    expect(delays).toEqual([50, 100]);
    const inDoubt = await rawInvitation(jobs[1]!);
    expect(inDoubt).toMatchObject({ status: 'sending', lastFailure: 'ETIMEDOUT' });
    expect(Date.parse(inDoubt.checkAt!) - Date.parse(inDoubt.sendingAt)).toBe(LEASE_MS);

    const rejecting: Mailer = { send: async () => Promise.reject(new MailerError('Address blacklisted', 'MessageRejected', false, undefined, true)) };
    expect(await deliver(deliveryDeps(rejecting, { sleep, requeue, warn }), jobs[2]!)).toBe('failed');
    expect(requeued).toHaveLength(1);
    const failed = await rawInvitation(jobs[2]!);
    expect(failed).toMatchObject({ status: 'failed', failure: 'MessageRejected' });
    // Out of the lease index: the recovery sweep has nothing to do with it.
    expect(failed.checkAt).toBeUndefined();
    expect(warnings).toEqual([['email refused for good', { kind: 'invitation', roundId: round.roundId, invitationId: jobs[2]!.invitationId, failure: 'MessageRejected' }]]);
    expect((await getRound(db, agencyId, round.roundId)).counts).toMatchObject({ pending: 1, sending: 1, failed: 1 });
    // Neither the failed nor the in-doubt invitation is sent by a later run of its job; the pending one is.
    expect(await deliver(deliveryDeps(), jobs[2]!)).toBe('not-due');
    expect(await deliver(deliveryDeps(), jobs[1]!)).toBe('not-due');
    expect(await deliver(deliveryDeps(), jobs[0]!)).toBe('sent');
  });

  it('sends an invitation in 2 DynamoDB calls, the claim and the record (two UpdateItems), once the worker keeps the round (its first send of the round reads it)', async () => {
    const { jobs } = await roundFixture(3);
    const metered = testDeps().db;
    const calls: string[] = [];
    metered.client.middlewareStack.add((next, context) => (args) => (calls.push(context.commandName!), next(args)), { step: 'initialize', name: 'countCalls' });
    const deps = deliveryDeps(sesMailer, { db: metered });
    expect(await deliver(deps, jobs[0]!)).toBe('sent');
    expect(calls).toEqual(['UpdateItemCommand', 'GetItemCommand', 'UpdateItemCommand']);
    calls.length = 0;
    expect(await deliver(deps, jobs[1]!)).toBe('sent');
    expect(await deliver(deps, jobs[2]!)).toBe('sent');
    expect(calls).toEqual(['UpdateItemCommand', 'UpdateItemCommand', 'UpdateItemCommand', 'UpdateItemCommand']);
  });

  it('makes a reminder SES did not take due again and queues it with a delay, then sends it once (stubbed throttling)', async () => {
    const { jobs, emails } = await roundFixture(1);
    expect(await deliver(deliveryDeps(), jobs[0]!)).toBe('sent');
    const { invitation } = await openInvitation(db, jobs[0]!);
    const dueAt = invitation.nextReminderAt!;
    const reminder = { ...jobs[0]!, kind: 'reminder' as const, dueAt };
    const requeued: number[] = [];
    const throttled: Mailer = { send: async () => Promise.reject(new MailerError('Rate exceeded', 'Throttling', true, undefined, true)) };
    const outcome = await deliver(deliveryDeps(throttled, { retry: { attempts: 1, baseDelayMs: 1 }, requeue: async (_job, s) => void requeued.push(s) }), reminder);
    expect(outcome).toBe('retry');
    expect(requeued).toHaveLength(1);
    expect((await openInvitation(db, jobs[0]!)).invitation).toMatchObject({ status: 'sent', nextReminderAt: dueAt, remindersSent: 0, reminderRetries: 1, lastFailure: 'Throttling' });
    // Due again, so the scheduled job would find it too; the job queued again sends it, once.
    expect(await deliver(deliveryDeps(), reminder)).toBe('sent');
    expect(await deliver(deliveryDeps(), reminder)).toBe('not-due');
    expect((await openInvitation(db, jobs[0]!)).invitation).toMatchObject({ remindersSent: 1 });
    expect((await sesEmails({ to: emails[0]! })).map((m) => m.subject.startsWith('Reminder'))).toEqual([false, true]);
  });
});

describe('suppressions stop sends where they are written (the sender reads none)', () => {
  /** A new agency's round for these addresses, and its invitation jobs by address. */
  async function agencyRound(emails: readonly string[], tag: string) {
    const now = new Date();
    const agency = await createAgency(db, { name: `Suppressing ${tag}` }, now);
    const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, now);
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, now);
    const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients: emails.map((email) => ({ email, audience: 'reporter' })) }, now);
    const job = (email: string) => ({ kind: 'invitation' as const, roundId: round.roundId, invitationId: accepted.find((i) => i.email === email)!.invitationId });
    return { agencyId: agency.agencyId, job };
  }
  const status = async (job: { roundId: string; invitationId: string }) => (await rawInvitation(job)).status;

  it('an unsubscribe skips the address’s pending invitations in its agency only; a bounce in every agency that surveyed it', async () => {
    const tag = `stop-${++n}-${Date.now()}`;
    const [quitter, bouncer, other] = [`quit-${tag}@news.example`, `bounce-${tag}@news.example`, `other-${tag}@news.example`];
    const a = await agencyRound([quitter, bouncer, other], `${tag}-a`);
    const b = await agencyRound([quitter, bouncer, other], `${tag}-b`);

    await suppress(db, quitter, 'unsubscribed', { agencyId: a.agencyId }, new Date());
    await suppress(db, bouncer, 'bounced', { global: true, agencyId: a.agencyId }, new Date());
    expect([await status(a.job(quitter)), await status(b.job(quitter))]).toEqual(['skipped', 'pending']);
    expect([await status(a.job(bouncer)), await status(b.job(bouncer))]).toEqual(['skipped', 'skipped']);
    // Skipped invitations leave the lease index: the recovery sweep never queues them again.
    expect((await rawInvitation(b.job(bouncer))).checkAt).toBeUndefined();

    const outcomes = await Promise.all([a, b].flatMap((r) => [quitter, bouncer, other].map((email) => deliver(deliveryDeps(), r.job(email)))));
    expect(outcomes).toEqual(['not-due', 'not-due', 'sent', 'sent', 'not-due', 'sent']);
    expect((await sesEmails({ to: quitter })).length).toBe(1);
    expect(await sesEmails({ to: bouncer })).toEqual([]);
    expect((await sesEmails({ to: other })).length).toBe(2);
  });

  it('a suppression written while the email is being sent stops it once SES did not take it (stubbed throttling)', async () => {
    const tag = `flight-${++n}-${Date.now()}`;
    const email = `flight-${tag}@news.example`;
    const a = await agencyRound([email], tag);
    let suppressed = false;
    // The complaint arrives while the worker holds the claim; SES then takes nothing.
    const throttled: Mailer = {
      send: async () => {
        if (!suppressed) await suppress(db, email, 'complained', { global: true }, new Date());
        suppressed = true;
        throw new MailerError('Rate exceeded', 'Throttling', true, undefined, true);
      },
    };
    expect(await deliver(deliveryDeps(throttled, { retry: { attempts: 1, baseDelayMs: 1 } }), a.job(email))).toBe('retry');
    expect(await rawInvitation(a.job(email))).toMatchObject({ status: 'pending', suppressedAt: expect.any(String) });
    expect(await deliver(deliveryDeps(), a.job(email))).toBe('skipped');
    expect(await status(a.job(email))).toBe('skipped');
    expect(await sesEmails({ to: email })).toEqual([]);
  });

  it('a suppression after the first email marks the invitation, and its reminder is not sent (nothing read: the claim returns the mark, and is undone)', async () => {
    const tag = `later-${++n}-${Date.now()}`;
    const email = `later-${tag}@news.example`;
    const a = await agencyRound([email], tag);
    expect(await deliver(deliveryDeps(), a.job(email))).toBe('sent');
    await suppress(db, email, 'unsubscribed', { agencyId: a.agencyId }, new Date());
    const sent = await rawInvitation(a.job(email));
    expect(sent).toMatchObject({ status: 'sent', suppressedAt: expect.any(String) });
    const { invitation } = await openInvitation(db, a.job(email));
    const reminder = { ...a.job(email), kind: 'reminder' as const, dueAt: invitation.nextReminderAt! };
    const at = new Date(Date.parse(reminder.dueAt) + 1000);
    const metered = testDeps().db;
    const calls: string[] = [];
    metered.client.middlewareStack.add((next, context) => (args) => (calls.push(context.commandName!), next(args)), { step: 'initialize', name: 'countCalls' });
    expect(await deliver(deliveryDeps(sesMailer, { db: metered, now: () => at }), reminder)).toBe('skipped');
    expect(calls).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
    expect(await rawInvitation(a.job(email))).toMatchObject({ status: 'sent', nextReminderAt: null });
    expect((await rawInvitation(a.job(email))).checkAt).toBeUndefined();
    expect((await sesEmails({ to: email })).length).toBe(1);
  });

  it('a suppression written while a round is being created, after its read of the suppressions: the round skips the address itself', async () => {
    const tag = `race-${++n}-${Date.now()}`;
    const [quitter, bouncer, other] = [`quit-${tag}@news.example`, `bounce-${tag}@news.example`, `other-${tag}@news.example`];
    // Another agency surveyed the bouncing address first, so it is marked.
    const earlier = await agencyRound([bouncer], `${tag}-earlier`);
    const agency = await createAgency(db, { name: `Racing ${tag}` }, new Date());
    const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, new Date());
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, new Date());
    // Both suppressions land (and look for invitations, finding none of this round) just before
    // the round writes its invitations: the worst order for the round.
    const racing = testDeps().db;
    let landed = false;
    racing.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (!landed && invitationWrite(context.commandName, JSON.stringify(args.input))) {
          landed = true;
          await suppress(db, quitter, 'unsubscribed', { agencyId: agency.agencyId }, new Date());
          await suppress(db, bouncer, 'bounced', { global: true }, new Date());
        }
        return next(args);
      },
      { step: 'initialize', name: 'suppressMidCreation' },
    );
    const { round, accepted } = await createRound(racing, agency.agencyId, campaign.campaignId, { recipients: [quitter, bouncer, other].map((email) => ({ email, audience: 'reporter' })) }, new Date());
    expect(landed).toBe(true);
    const byEmail = new Map(accepted.map((i) => [i.email, { roundId: round.roundId, invitationId: i.invitationId }]));
    expect([await status(byEmail.get(quitter)!), await status(byEmail.get(bouncer)!), await status(byEmail.get(other)!)]).toEqual(['skipped', 'skipped', 'pending']);
    expect(await status(earlier.job(bouncer))).toBe('skipped');
    expect((await getRound(db, agency.agencyId, round.roundId)).counts).toMatchObject({ pending: 1, skipped: 2 });
  });
});
