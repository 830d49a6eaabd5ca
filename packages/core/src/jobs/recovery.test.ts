import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { answerLostMailer, collectingQueue, faultyDb, isolatedTestDeps, testDeps, resetBeforeSesMailer as resetBeforeSes, sesEmails, workerAt } from '@rapport/testing';
import { keys } from '../db/keys';
import { createAgency } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import type { Mailer } from '../email/mailer';
import { campaignScores } from '../scores/report';
import { createRound, deliveryCounts, getRound } from '../survey/round';
import { submitResponse } from '../survey/response';
import { nextReminderAt } from '../sending/deliver';
import { deliver } from '../sending/dispatch';
import type { InvitationJob, SendJob } from '../sending/queue';
import type { SendRecords } from '../sending/records';
import { transitionInvitation } from '../sending/transition';
import { closeRound } from './expiry';
import { recoverSends } from './recovery';
import { checkRounds } from './round-work';

/**
 * The recovery sweep reads the whole lease index, so these tests run on a table of their own and
 * move the clock instead of waiting for leases. SES's record is the local SES server's store
 * (`sesStoreRecords`, what the local runner uses).
 */
const { db, linkSecret, mailer, records } = await isolatedTestDeps();
afterAll(() => db.client.destroy());

const MINUTE = 60_000;
const after = (t0: Date, minutes: number) => new Date(t0.getTime() + minutes * MINUTE);

/** Runs the sweep at `at`; returns what it counted and the jobs it queued. */
async function sweepAt(at: Date) {
  const queue = collectingQueue();
  const recovered = await recoverSends({ db, queue, records }, at);
  return { ...recovered, jobs: queue.jobs };
}

const deliveryAt = (at: Date, through = mailer) => workerAt({ db, mailer, linkSecret }, at, through);

let n = 0;
/** A round of `count` reporters created at `t0`, nothing sent: each invitation leased until t0 + 15 min. */
async function roundAt(t0: Date, count: number) {
  const tag = `${++n}-${t0.getTime()}`;
  const agency = await createAgency(db, { name: `Recovery ${tag}` }, t0);
  const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, t0);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, t0);
  const emails = Array.from({ length: count }, (_, i) => `rcpt${i}-recovery-${tag}@news.example`);
  const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients: emails.map((email) => ({ email, audience: 'reporter' })) }, t0);
  const jobs = accepted.map((i) => ({ kind: 'invitation' as const, roundId: round.roundId, invitationId: i.invitationId }));
  return { agencyId: agency.agencyId, campaignId: campaign.campaignId, round, jobs, emails };
}

type Stored = { status: string; checkAt?: string; reminderQueues?: number; nextReminderAt?: string | null; reminderSending?: string; remindersSent?: number; requeues?: number; queuedAt?: string; messageId?: string; answeredFrom?: string; lastFailure?: string; sentAt?: string };
/** The stored invitation, its next look (`checkAt`) included. */
const stored = async (ref: { roundId: string; invitationId: string }) =>
  (await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.invitation(ref.roundId, ref.invitationId), ConsistentRead: true }))).Item as Stored;

/** When the lease an invitation holds runs out. */
const leaseEnd = (item: Stored) => item.checkAt;

/** A scheduled run's round checks at `at` (every 5 minutes): the jobs it queued for `roundId` (the table holds other tests' rounds). */
async function checkAt(at: Date, roundId: string) {
  const queue = collectingQueue();
  await checkRounds({ db, queue, records }, at, { sinceMs: 5 * MINUTE });
  return queue.jobs.filter((j) => 'roundId' in j && j.roundId === roundId);
}

/** A round's WORK item: where the round checks find it (keys.ts 13). */
const workOf = async (roundId: string) =>
  (await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.roundWork(roundId), ConsistentRead: true }))).Item as { GSI1SK?: string; touches?: number } | undefined;

/** Invitations delivered, as the response rate's denominator counts them (the campaign's; its invitations are all reporters'). */
async function delivered(agencyId: string, campaignId: string): Promise<number> {
  return (await campaignScores(db, agencyId, campaignId)).delivered;
}

describe('the recovery sweep', () => {
  it('queues a lost job again once its lease runs out and not before, again only after a lease twice as long, and once for two sweeps at once', async () => {
    const t0 = new Date('2033-01-10T09:00:00.000Z');
    const { agencyId, round, jobs, emails } = await roundAt(t0, 1);
    const job = jobs[0]!;
    expect(leaseEnd(await stored(job))).toBe(after(t0, 15).toISOString());

    // The job was lost (a runner stopped with it queued): nothing happens while its lease runs.
    expect(await sweepAt(after(t0, 14))).toEqual({ requeued: 0, recorded: 0, resent: 0, jobs: [] });
    expect(await sweepAt(after(t0, 16))).toEqual({ requeued: 1, recorded: 0, resent: 0, jobs: [job] });
    expect(await stored(job)).toMatchObject({ status: 'pending', requeues: 1, queuedAt: after(t0, 16).toISOString() });
    expect(leaseEnd(await stored(job))).toBe(after(t0, 16 + 30).toISOString());

    // Still not sent (a long backlog, say): queued again only after 30 minutes, then after 60.
    expect(await sweepAt(after(t0, 45))).toMatchObject({ requeued: 0, jobs: [] });
    expect(await sweepAt(after(t0, 47))).toEqual({ requeued: 1, recorded: 0, resent: 0, jobs: [job] });
    expect(leaseEnd(await stored(job))).toBe(after(t0, 47 + 60).toISOString());

    // Two sweeps at once: each change is conditional on the lease read, so only one queues it.
    const [a, b] = await Promise.all([sweepAt(after(t0, 108)), sweepAt(after(t0, 108))]);
    expect(a.requeued + b.requeued).toBe(1);
    expect([...a.jobs, ...b.jobs]).toEqual([job]);
    expect(await stored(job)).toMatchObject({ requeues: 3 });

    // The duplicate jobs send one email; sent, the invitation leaves the lease index.
    expect(await deliver(deliveryAt(after(t0, 109)), job)).toBe('sent');
    expect(await deliver(deliveryAt(after(t0, 109)), job)).toBe('not-due');
    expect(await sesEmails({ to: emails[0]! })).toHaveLength(1);
    expect(await stored(job)).toMatchObject({ checkAt: (await stored(job)).nextReminderAt });
    expect(await sweepAt(after(t0, 24 * 60))).toEqual({ requeued: 0, recorded: 0, resent: 0, jobs: [] });
    expect((await getRound(db, agencyId, round.roundId)).counts).toMatchObject({ pending: 0, sending: 0, sent: 1 });
  });

  it('records as sent, from SES\'s record, a send cut off after SES took it: counted delivered once, never emailed twice (stub: SES\'s answer lost)', async () => {
    const t0 = new Date('2033-02-10T09:00:00.000Z');
    const { agencyId, campaignId, round, jobs, emails } = await roundAt(t0, 1);
    const job = jobs[0]!;
    expect(await deliver(deliveryAt(t0, answerLostMailer(mailer)), job)).toBe('in-doubt');
    const [email] = await sesEmails({ to: emails[0]! });
    expect(await stored(job)).toMatchObject({ status: 'sending', lastFailure: 'ECONNRESET' });
    expect(await delivered(agencyId, campaignId)).toBe(0);

    // Its worker may still be at it while the lease runs.
    expect(await sweepAt(after(t0, 14))).toEqual({ requeued: 0, recorded: 0, resent: 0, jobs: [] });
    expect(await sweepAt(after(t0, 16))).toEqual({ requeued: 0, recorded: 1, resent: 0, jobs: [] });
    const sent = await stored(job);
    expect(sent).toMatchObject({ status: 'sent', messageId: email!.messageId, sentAt: after(t0, 16).toISOString() });
    // Into the reminder index, out of the lease index (a bounce of that message names the invitation in its tags).
    expect(sent.checkAt).toBe(sent.nextReminderAt);
    expect(await delivered(agencyId, campaignId)).toBe(1);
    expect((await getRound(db, agencyId, round.roundId)).counts).toMatchObject({ pending: 0, sending: 0, sent: 1 });

    // Nothing left to settle; the job run again sends nothing.
    expect(await sweepAt(after(t0, 60))).toEqual({ requeued: 0, recorded: 0, resent: 0, jobs: [] });
    expect(await deliver(deliveryAt(after(t0, 61)), job)).toBe('not-due');
    expect(await sesEmails({ to: emails[0]! })).toHaveLength(1);
    expect(await delivered(agencyId, campaignId)).toBe(1);
  });

  it('queues again a send cut off before SES took it, which then goes out exactly once (stub: connection reset before SES)', async () => {
    const t0 = new Date('2033-03-10T09:00:00.000Z');
    const { agencyId, campaignId, round, jobs, emails } = await roundAt(t0, 1);
    const job = jobs[0]!;
    expect(await deliver(deliveryAt(t0, resetBeforeSes), job)).toBe('in-doubt');
    expect(await sesEmails({ to: emails[0]! })).toEqual([]);

    expect(await sweepAt(after(t0, 14))).toEqual({ requeued: 0, recorded: 0, resent: 0, jobs: [] });
    expect(await sweepAt(after(t0, 16))).toEqual({ requeued: 0, recorded: 0, resent: 1, jobs: [job] });
    // Pending again, and leased again: if this job is lost too, the sweep queues it once more.
    const back = await stored(job);
    expect(back).toMatchObject({ status: 'pending', lastFailure: 'Interrupted', requeues: 0, queuedAt: after(t0, 16).toISOString() });
    expect(leaseEnd(back)).toBe(after(t0, 16 + 15).toISOString());
    expect((await getRound(db, agencyId, round.roundId)).counts).toMatchObject({ pending: 1, sending: 0, sent: 0, failed: 0 });

    expect(await deliver(deliveryAt(after(t0, 17)), job)).toBe('sent');
    expect(await deliver(deliveryAt(after(t0, 17)), job)).toBe('not-due');
    expect(await sesEmails({ to: emails[0]! })).toHaveLength(1);
    expect(await delivered(agencyId, campaignId)).toBe(1);
    expect(await sweepAt(after(t0, 60))).toEqual({ requeued: 0, recorded: 0, resent: 0, jobs: [] });
  });

  it('settles as sent an invitation answered while its send was cut off, on an anonymous round', async () => {
    const t0 = new Date('2033-04-10T09:00:00.000Z');
    const { agencyId, campaignId, round, jobs, emails } = await roundAt(t0, 2);
    expect(round.attribution).toBe('anonymous');
    const [taken, unrecorded] = jobs as [InvitationJob, InvitationJob];
    // SES took the first email and its answer was lost; the second has no record (the SES store lost it, say).
    expect(await deliver(deliveryAt(t0, answerLostMailer(mailer)), taken)).toBe('in-doubt');
    expect(await deliver(deliveryAt(t0, resetBeforeSes), unrecorded)).toBe('in-doubt');
    for (const ref of [taken, unrecorded]) await submitResponse(db, ref, { responsiveness: 4 }, after(t0, 1));
    // Answering keeps the lease of a send not yet settled.
    for (const ref of [taken, unrecorded]) expect(await stored(ref)).toMatchObject({ status: 'responded', answeredFrom: 'sending', checkAt: expect.any(String) });
    expect(deliveryCounts(await getRound(db, agencyId, round.roundId))).toMatchObject({ sending: 2, sent: 0 });

    // Answered through the link the email carried: it arrived, record or none; never sent again.
    expect(await sweepAt(after(t0, 16))).toEqual({ requeued: 0, recorded: 2, resent: 0, jobs: [] });
    const [email] = await sesEmails({ to: emails[0]! });
    expect(await stored(taken)).toMatchObject({ status: 'responded', answeredFrom: 'sent', messageId: email!.messageId });
    expect(await stored(unrecorded)).toMatchObject({ status: 'responded', answeredFrom: 'sent' });
    for (const ref of [taken, unrecorded]) expect((await stored(ref)).checkAt).toBeUndefined();
    const settled = await getRound(db, agencyId, round.roundId);
    expect(deliveryCounts(settled)).toMatchObject({ sending: 0, sent: 2 });
    expect(settled.counts).toMatchObject({ sending: 0, sent: 0, responded: 2 });
    expect(await delivered(agencyId, campaignId)).toBe(2);
    expect(await sweepAt(after(t0, 60))).toEqual({ requeued: 0, recorded: 0, resent: 0, jobs: [] });
  });

  it('keeps the lease of a send in doubt through a revised answer: the sweep still settles it, and the round closes (stub: SES\'s answer lost)', async () => {
    // Found by the exactly-once property: deliver (answer lost), answer, answer again.
    const t0 = new Date('2033-05-10T09:00:00.000Z');
    const { agencyId, round, jobs, emails } = await roundAt(t0, 1);
    const job = jobs[0]!;
    expect(await deliver(deliveryAt(t0, answerLostMailer(mailer)), job)).toBe('in-doubt');
    await submitResponse(db, job, { responsiveness: 4 }, after(t0, 1));
    await submitResponse(db, job, { responsiveness: 2 }, after(t0, 2));
    expect(await stored(job)).toMatchObject({ status: 'responded', answeredFrom: 'sending', checkAt: expect.any(String) });

    expect(await sweepAt(after(t0, 16))).toEqual({ requeued: 0, recorded: 1, resent: 0, jobs: [] });
    const [email] = await sesEmails({ to: emails[0]! });
    expect(await stored(job)).toMatchObject({ status: 'responded', answeredFrom: 'sent', messageId: email!.messageId });
    expect(deliveryCounts(await getRound(db, agencyId, round.roundId))).toMatchObject({ sending: 0, sent: 1 });
    expect(await closeRound(db, round.roundId, new Date(round.closesAt))).toBe(true);
    expect(await getRound(db, agencyId, round.roundId)).toMatchObject({ status: 'closed' });
  });

  it('sends once when a sweep acts on a cut-off send it read before another sweep queued it again and a worker claimed it (stub: connection reset before SES)', async () => {
    const t0 = new Date('2033-06-10T09:00:00.000Z');
    const { round, jobs, emails } = await roundAt(t0, 1);
    const job = jobs[0]!;
    expect(await deliver(deliveryAt(t0, resetBeforeSes), job)).toBe('in-doubt');
    // Sweep B reads the expired lease, then is slow to hear from SES's record.
    let reached!: () => void;
    const readLease = new Promise<void>((resolve) => (reached = resolve));
    let goOn!: () => void;
    const held = new Promise<void>((resolve) => (goOn = resolve));
    const slowRecords: SendRecords = { ...records, firstEmails: async (refs) => (reached(), await held, records.firstEmails(refs)) };
    const queueB = collectingQueue();
    const sweepB = recoverSends({ db, queue: queueB, records: slowRecords }, after(t0, 16));
    await readLease;
    // Meanwhile sweep A queues it again, and a worker claims it; B goes on while SES takes the email.
    expect(await sweepAt(after(t0, 16))).toMatchObject({ resent: 1, jobs: [job] });
    const racing: Mailer = { send: async (message) => (goOn(), await sweepB, mailer.send(message)) };
    expect(await deliver(deliveryAt(after(t0, 17), racing), job)).toBe('sent');
    // B's view was stale: it changes nothing and queues nothing.
    expect(await sweepB).toEqual({ requeued: 0, recorded: 0, resent: 0 });
    expect(queueB.jobs).toEqual([]);
    expect(await stored(job)).toMatchObject({ status: 'sent' });
    expect((await getRound(db, round.agencyId, round.roundId)).counts).toMatchObject({ pending: 0, sending: 0, sent: 1 });
    expect(await sesEmails({ to: emails[0]! })).toHaveLength(1);
  });

  it('takes out of the lease index an invitation whose status moved on without leaving it', async () => {
    const t0 = new Date('2033-07-10T09:00:00.000Z');
    const { agencyId, round, jobs } = await roundAt(t0, 2);
    const [skipped, failed] = jobs;
    // Moved on by writes that kept the index keys (as code before leases did).
    expect(await transitionInvitation(db, round.roundId, skipped!.invitationId, 'pending', 'skipped')).toBe(true);
    expect(await transitionInvitation(db, round.roundId, failed!.invitationId, 'pending', 'failed', { set: { failure: 'MessageRejected' } })).toBe(true);
    for (const ref of [skipped!, failed!]) expect((await stored(ref)).checkAt).toEqual(expect.any(String));

    expect(await sweepAt(after(t0, 16))).toEqual({ requeued: 0, recorded: 0, resent: 0, jobs: [] });
    expect(await stored(skipped!)).toMatchObject({ status: 'skipped' });
    expect(await stored(failed!)).toMatchObject({ status: 'failed', failure: 'MessageRejected' });
    for (const ref of [skipped!, failed!]) expect((await stored(ref)).checkAt).toBeUndefined();
    expect((await getRound(db, agencyId, round.roundId)).counts).toMatchObject({ pending: 0, skipped: 1, failed: 1 });
  });

  it("settles reminders cut off mid-send from SES's record: the one SES took ends its flight, the one it never got is due again and sent once (stubs: SES's answer lost; connection reset before SES)", async () => {
    const t0 = new Date('2033-08-10T09:00:00.000Z');
    const { round, jobs, emails } = await roundAt(t0, 2);
    for (const job of jobs) expect(await deliver(deliveryAt(t0), job)).toBe('sent');
    const [taken, lost] = jobs as [InvitationJob, InvitationJob];
    const dueAt = (await stored(taken)).nextReminderAt!;
    expect((await stored(lost)).nextReminderAt).toBe(dueAt);
    const t1 = new Date(Date.parse(dueAt) + MINUTE);
    const reminder = (ref: InvitationJob): SendJob => ({ kind: 'reminder', roundId: ref.roundId, invitationId: ref.invitationId, dueAt });

    // SES takes the first reminder and its answer is lost; the second never reaches SES.
    expect(await deliver(deliveryAt(t1, answerLostMailer(mailer)), reminder(taken))).toBe('in-doubt');
    expect(await deliver(deliveryAt(t1, resetBeforeSes), reminder(lost))).toBe('in-doubt');
    for (const ref of [taken, lost]) {
      expect(await stored(ref)).toMatchObject({ status: 'sent', remindersSent: 1, reminderSending: dueAt, checkAt: expect.any(String) });
    }
    // In flight: the same reminder job again does nothing.
    expect(await deliver(deliveryAt(t1), reminder(taken))).toBe('not-due');
    // The reminder after it, as the round plans it (the worker plans it when the flight ends).
    const flying = await stored(taken);
    const planned = nextReminderAt(round, { audience: 'reporter' }, flying.sentAt!, 1);

    expect(await sweepAt(after(t1, 14))).toEqual({ requeued: 0, recorded: 0, resent: 0, jobs: [] });
    expect(await sweepAt(after(t1, 16))).toEqual({ requeued: 0, recorded: 1, resent: 1, jobs: [reminder(lost)] });
    const settled = await stored(taken);
    expect(settled).toMatchObject({ status: 'sent', remindersSent: 1, nextReminderAt: planned });
    expect(settled.reminderSending).toBeUndefined();
    expect(settled.checkAt ?? null).toEqual(planned);
    const rearmed = await stored(lost);
    expect(rearmed).toMatchObject({ status: 'sent', remindersSent: 0, nextReminderAt: dueAt, lastFailure: 'Interrupted', checkAt: after(t1, 16 + 15).toISOString() });
    expect(rearmed.reminderSending).toBeUndefined();

    expect(await deliver(deliveryAt(after(t1, 17)), reminder(lost))).toBe('sent');
    expect(await sweepAt(after(t1, 40))).toEqual({ requeued: 0, recorded: 0, resent: 0, jobs: [] });
    // Each: the first email and one reminder.
    for (const email of emails) {
      const received = await sesEmails({ to: email });
      expect(received.map((e) => e.subject.startsWith('Reminder: '))).toEqual([false, true]);
    }
    expect((await getRound(db, round.agencyId, round.roundId)).counts).toMatchObject({ sent: 2 });
  });

  it('keeps a round open while a reminder is in flight at its close: the sweep settles the reminder first, so remindersSent stays true (stub: connection reset before SES)', async () => {
    // Found by the exactly-once property: closing expired the invitation and dropped the flight's
    // lease, leaving a reminder SES never took counted in remindersSent.
    const t0 = new Date('2033-09-10T09:00:00.000Z');
    const { agencyId, round, jobs, emails } = await roundAt(t0, 1);
    const job = jobs[0]!;
    expect(await deliver(deliveryAt(t0), job)).toBe('sent');
    const dueAt = (await stored(job)).nextReminderAt!;
    const reminder: SendJob = { kind: 'reminder', roundId: job.roundId, invitationId: job.invitationId, dueAt };
    // A late worker claims the reminder a minute before the close; its SES call resets.
    const late = new Date(Date.parse(round.closesAt) - MINUTE);
    expect(await deliver(deliveryAt(late, resetBeforeSes), reminder)).toBe('in-doubt');

    expect(await closeRound(db, round.roundId, after(late, 2))).toBe(false);
    expect(await stored(job)).toMatchObject({ status: 'sent', remindersSent: 1, reminderSending: dueAt, checkAt: expect.any(String) });
    expect(await sweepAt(after(late, 16))).toMatchObject({ recorded: 0, resent: 1, jobs: [reminder] });
    expect(await deliver(deliveryAt(after(late, 17)), reminder)).toBe('skipped');
    expect(await closeRound(db, round.roundId, after(late, 18))).toBe(true);

    expect(await stored(job)).toMatchObject({ status: 'expired', remindersSent: 0 });
    expect((await sesEmails({ to: emails[0]! })).map((e) => e.subject.startsWith('Reminder: '))).toEqual([false]);
    expect(await getRound(db, agencyId, round.roundId)).toMatchObject({ status: 'closed', counts: expect.objectContaining({ sent: 0, expired: 1 }) });
  });

  it("settles a reminder whose recipient answered while it was in flight from SES's record: counted only if SES took it, and never sent again (stubs: SES's answer lost; connection reset before SES)", async () => {
    // Found by the exactly-once property: the answer dropped the flight's lease, so a reminder SES
    // never took stayed counted in remindersSent.
    const t0 = new Date('2033-10-10T09:00:00.000Z');
    const { round, jobs, emails } = await roundAt(t0, 2);
    for (const job of jobs) expect(await deliver(deliveryAt(t0), job)).toBe('sent');
    const [taken, lost] = jobs as [InvitationJob, InvitationJob];
    const dueAt = (await stored(taken)).nextReminderAt!;
    const t1 = new Date(Date.parse(dueAt) + MINUTE);
    const reminder = (ref: InvitationJob): SendJob => ({ kind: 'reminder', roundId: ref.roundId, invitationId: ref.invitationId, dueAt });
    expect(await deliver(deliveryAt(t1, answerLostMailer(mailer)), reminder(taken))).toBe('in-doubt');
    expect(await deliver(deliveryAt(t1, resetBeforeSes), reminder(lost))).toBe('in-doubt');
    for (const ref of [taken, lost]) {
      await submitResponse(db, ref, { responsiveness: 3 }, after(t1, 1));
      expect(await stored(ref)).toMatchObject({ status: 'responded', remindersSent: 1, reminderSending: dueAt, checkAt: expect.any(String) });
    }

    expect(await sweepAt(after(t1, 16))).toEqual({ requeued: 0, recorded: 1, resent: 0, jobs: [] });
    for (const [ref, sent] of [[taken, 1], [lost, 0]] as const) {
      const settled = await stored(ref);
      expect(settled).toMatchObject({ status: 'responded', answeredFrom: 'sent', remindersSent: sent });
      expect([settled.reminderSending, settled.checkAt]).toEqual([undefined, undefined]);
    }
    expect((await sesEmails({ to: emails[0]! })).map((e) => e.subject.startsWith('Reminder: '))).toEqual([false, true]);
    expect((await sesEmails({ to: emails[1]! })).map((e) => e.subject.startsWith('Reminder: '))).toEqual([false]);
    expect(await sweepAt(after(t1, 60))).toEqual({ requeued: 0, recorded: 0, resent: 0, jobs: [] });
    expect((await getRound(db, round.agencyId, round.roundId)).counts).toMatchObject({ sent: 0, responded: 2 });
  });

  it("sends no second email when an engine lost the claim of a send SES took: the worker reads SES's record before sending a re-queued invitation (stub: SES's answer lost)", async () => {
    // What DynamoDB Local killed outright can do: acknowledge the claim, then lose it on restart.
    const t0 = new Date('2033-11-10T09:00:00.000Z');
    const { round, jobs, emails } = await roundAt(t0, 1);
    const job = jobs[0]!;
    const workerAtT0 = { ...deliveryAt(t0, answerLostMailer(mailer)), records };
    expect(await deliver(workerAtT0, job)).toBe('in-doubt');
    expect(await transitionInvitation(db, round.roundId, job.invitationId, 'sending', 'pending')).toBe(true);
    // The claim is gone: the sweep finds the invitation queued and lost, and queues it again.
    expect(await sweepAt(after(t0, 16))).toMatchObject({ requeued: 1, jobs: [job] });
    // A worker started after the crash: its view of SES's record is new (see DeliveryDeps.records).
    const restarted = testDeps();
    expect(await deliver({ ...deliveryAt(after(t0, 17)), records: restarted.records }, job)).toBe('sent');
    restarted.db.client.destroy();
    const [email, ...more] = await sesEmails({ to: emails[0]! });
    expect(more).toEqual([]);
    expect(await stored(job)).toMatchObject({ status: 'sent', messageId: email!.messageId });
  });
});

/**
 * Attacks on the round checks (`checkRounds`): a round's WORK item must come at or before the
 * look any of its invitations needs, at least within a lease of it, whatever fails.
 */
describe('nothing is lost: every look an invitation needs comes within a lease', () => {
  it('a late-requeued send whose worker fails between its claim and pulling the WORK item is still settled a lease after the claim (stub: DynamoDB fails the pull)', async () => {
    const t0 = new Date('2034-01-10T09:00:00.000Z');
    const { round, jobs, emails } = await roundAt(t0, 1);
    const job = jobs[0]!;
    // Its job is lost twice: queued again with a 30-minute, then a 60-minute queue lease.
    expect(await sweepAt(after(t0, 16))).toMatchObject({ requeued: 1, jobs: [job] });
    expect(await sweepAt(after(t0, 47))).toMatchObject({ requeued: 1, jobs: [job] });
    expect(await stored(job)).toMatchObject({ status: 'pending', requeues: 2, checkAt: after(t0, 107).toISOString() });
    expect((await workOf(round.roundId))?.GSI1SK).toBe(`${after(t0, 107).toISOString()}#${round.roundId}`);

    // A worker claims it (lease to +63) and its next write, the pull's touch, fails: the worker
    // throws, SQS gives the message back, and the job run again finds it claimed.
    const faulty = faultyDb(db);
    faulty.failWrite(2);
    await expect(deliver(workerAt({ db: faulty.db, mailer, linkSecret }, after(t0, 48), resetBeforeSes), job)).rejects.toThrow(/Injected fault/);
    faulty.disarm();
    expect(await deliver(workerAt({ db, mailer, linkSecret }, after(t0, 49)), job)).toBe('not-due');
    expect(await stored(job)).toMatchObject({ status: 'sending', checkAt: after(t0, 63).toISOString() });

    // Its claim's lease is over at +63: the next run settles it (SES never got it: queued again).
    expect(await sweepAt(after(t0, 64))).toMatchObject({ resent: 1, jobs: [job] });
    expect(await deliver(workerAt({ db, mailer, linkSecret }, after(t0, 65)), job)).toBe('sent');
    expect(await sesEmails({ to: emails[0]! })).toHaveLength(1);
  });

  it('a reminder queued late twice whose worker fails between its claim and pulling the WORK item is still settled a lease after the claim (stub: DynamoDB fails the pull)', async () => {
    const t0 = new Date('2034-02-10T09:00:00.000Z');
    const { round, jobs, emails } = await roundAt(t0, 1);
    const job = jobs[0]!;
    expect(await deliver(workerAt({ db, mailer, linkSecret }, t0), job)).toBe('sent');
    const dueAt = (await stored(job)).nextReminderAt!;
    const due = new Date(dueAt);
    const reminder: SendJob = { kind: 'reminder', roundId: round.roundId, invitationId: job.invitationId, dueAt };

    // The scheduled job finds it late (no run since it came due), queues it, and its job is lost;
    // lost again: its look moves on to the end of a 15-, then a 30-minute queue lease.
    expect(await checkAt(after(due, 10), round.roundId)).toEqual([reminder]);
    expect(await checkAt(after(due, 26), round.roundId)).toEqual([reminder]);
    expect(await stored(job)).toMatchObject({ reminderQueues: 2, checkAt: after(due, 56).toISOString() });

    // Its worker claims it (lease to +42) and fails on the pull's touch; the job run again finds it in flight.
    const faulty = faultyDb(db);
    faulty.failWrite(2);
    await expect(deliver(workerAt({ db: faulty.db, mailer, linkSecret }, after(due, 27), resetBeforeSes), reminder)).rejects.toThrow(/Injected fault/);
    faulty.disarm();
    expect(await deliver(workerAt({ db, mailer, linkSecret }, after(due, 28)), reminder)).toBe('not-due');
    expect(await stored(job)).toMatchObject({ status: 'sent', reminderSending: dueAt, checkAt: after(due, 42).toISOString() });

    // The flight's lease is over at +42: the next run settles it (SES never got it: due again, queued).
    expect(await checkAt(after(due, 43), round.roundId)).toEqual([reminder]);
    expect(await deliver(workerAt({ db, mailer, linkSecret }, after(due, 44)), reminder)).toBe('sent');
    expect(await sesEmails({ to: emails[0]! })).toHaveLength(2);
  });
});
