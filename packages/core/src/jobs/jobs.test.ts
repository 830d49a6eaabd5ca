import { afterAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../db/keys';
import { answerLostMailer, collectingQueue, heldMailer, faultyDb, isolatedTestDeps, sesEmails, workerAt } from '@rapport/testing';
import { createAgency, updateSettings } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { addDays } from '../shared/time';
import { cancelRound, createRound, getRound, listInvitations, type Invitation } from '../survey/round';
import { openInvitation, submitResponse } from '../survey/response';
import { suppress } from '../survey/suppression';
import { LEASE_MS, leaseUntil } from '../sending/deliver';
import { deliver } from '../sending/dispatch';
import type { SendJob } from '../sending/queue';
import { transitionInvitation } from '../sending/transition';
import { closeRound, runScheduledJobs } from './index';
import { closeRetrySeconds, closeRoundNow } from './expiry';

/**
 * The jobs sweep whole indexes, so these tests run on a table of their own and move the clock
 * instead of waiting days.
 */
const { db, linkSecret, mailer, records } = await isolatedTestDeps();
afterAll(() => db.client.destroy());

const deliveryAt = (at: Date, through = mailer) => workerAt({ db, mailer, linkSecret }, at, through);

/** The invitation each job is for (a close job has none). */
const invitationIds = (jobs: SendJob[]) => jobs.map((j) => ('invitationId' in j ? j.invitationId : undefined));

/**
 * Runs the scheduler at `at`, then every job it queued, close jobs included (twice, to show a
 * duplicate is harmless).
 */
async function runJobsAt(at: Date) {
  const queue = collectingQueue();
  const summary = await runScheduledJobs({ db, queue, records }, at);
  const outcomes = [];
  for (const job of [...queue.jobs, ...queue.jobs]) outcomes.push(await deliver(deliveryAt(at), job));
  return { ...summary, jobs: queue.jobs, outcomes };
}

let n = 0;
async function sentRound(recipients: { who: string; audience: 'reporter' | 'colleague' | 'client' }[], t0: Date) {
  const tag = `${++n}-${t0.getTime()}`;
  const agency = await createAgency(db, { name: `Jobs ${tag}` }, t0);
  const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, t0);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, t0);
  const emails = Object.fromEntries(recipients.map(({ who }) => [who, `${who}-${tag}@news.example`]));
  const { round, accepted } = await createRound(
    db,
    agency.agencyId,
    campaign.campaignId,
    { recipients: recipients.map(({ who, audience }) => ({ email: emails[who], audience })) },
    t0,
  );
  for (const i of accepted) expect(await deliver(deliveryAt(t0), { kind: 'invitation', roundId: round.roundId, invitationId: i.invitationId })).toBe('sent');
  const refs = Object.fromEntries(recipients.map(({ who }, k) => [who, { roundId: round.roundId, invitationId: accepted[k]!.invitationId }]));
  return { agencyId: agency.agencyId, round, emails, refs };
}

const invitationOf = async (ref: { roundId: string; invitationId: string }): Promise<Invitation> => (await openInvitation(db, ref)).invitation;

describe('reminders and expiry', () => {
  it('reminds only non-respondents, once per reminder, on the default days, and closes the round after 14 days', async () => {
    const t0 = new Date('2031-03-03T09:00:00.000Z');
    const { agencyId, round, emails, refs } = await sentRound(
      [
        { who: 'rita', audience: 'reporter' },
        { who: 'cole', audience: 'colleague' },
        { who: 'carl', audience: 'colleague' },
      ],
      t0,
    );
    expect((await invitationOf(refs.rita!)).nextReminderAt).toBe('2031-03-06T09:00:00.000Z');
    expect((await invitationOf(refs.cole!)).nextReminderAt).toBe('2031-03-06T09:00:00.000Z');
    await submitResponse(db, refs.cole!, { responsiveness: 4 }, addDays(t0, 1));
    expect((await invitationOf(refs.cole!)).nextReminderAt).toBeNull();

    const day2 = await runJobsAt(addDays(t0, 2));
    expect(day2).toMatchObject({ roundsToClose: 0, remindersQueued: 0, requeued: 0, recorded: 0, resent: 0 });

    // Day 3: the reporter and the colleague who has not answered; never the one who has.
    const day3 = await runJobsAt(addDays(t0, 3.01));
    expect(invitationIds(day3.jobs).sort()).toEqual([refs.rita!.invitationId, refs.carl!.invitationId].sort());
    expect(day3.outcomes).toEqual(['sent', 'sent', 'not-due', 'not-due']);
    const ritaMail = await sesEmails({ to: emails.rita! });
    expect(ritaMail.map((m) => m.subject)).toEqual([
      'How responsive was Jane Doe on the Spring Launch?',
      'Reminder: How responsive was Jane Doe on the Spring Launch?',
    ]);
    // The reminder embeds the headline question as its five one-click links too.
    expect([...ritaMail[1]!.body.text!.matchAll(/\/s\/[^?\s]+\?score=(\d)/g)].map((m) => m[1])).toEqual(['1', '2', '3', '4', '5']);
    expect(await invitationOf(refs.rita!)).toMatchObject({ remindersSent: 1, nextReminderAt: null });
    expect(await invitationOf(refs.carl!)).toMatchObject({ remindersSent: 1, nextReminderAt: '2031-03-10T09:00:00.000Z' });

    // Found again at the same time: nothing is due any more.
    expect(await runJobsAt(addDays(t0, 3.02))).toMatchObject({ remindersQueued: 0 });

    // Day 7: the second reminder, for the colleague only (reporters get one).
    const day7 = await runJobsAt(addDays(t0, 7.01));
    expect(invitationIds(day7.jobs)).toEqual([refs.carl!.invitationId]);
    expect(day7.outcomes).toEqual(['sent', 'not-due']);
    expect(await sesEmails({ to: emails.carl! })).toHaveLength(3);
    expect(await sesEmails({ to: emails.rita! })).toHaveLength(2);
    expect(await sesEmails({ to: emails.cole! })).toHaveLength(1);

    expect(await runJobsAt(addDays(t0, 13.9))).toMatchObject({ roundsToClose: 0, remindersQueued: 0 });
    // The round closes in a job of its own; run twice, the second finds nothing to do.
    const day14 = await runJobsAt(addDays(t0, 14.01));
    expect(day14).toMatchObject({ roundsToClose: 1, remindersQueued: 0, jobs: [{ kind: 'close-round', roundId: round.roundId }], outcomes: ['closed', 'not-due'] });
    const closed = await getRound(db, agencyId, round.roundId);
    expect(closed).toMatchObject({ status: 'closed', closedAt: addDays(t0, 14.01).toISOString() });
    expect(closed.counts).toMatchObject({ pending: 0, sending: 0, sent: 0, responded: 1, expired: 2 });
    expect(await invitationOf(refs.carl!)).toMatchObject({ status: 'expired', remindersSent: 2, nextReminderAt: null });
    // Closing twice changes nothing, and a closed round is not queued again.
    expect(await runJobsAt(addDays(t0, 15))).toMatchObject({ roundsToClose: 0 });
    expect((await getRound(db, agencyId, round.roundId)).counts).toEqual(closed.counts);
  });

  it('follows the agency\'s reminder days and expiry, and drops a reminder that would fall after the close', async () => {
    const t0 = new Date('2031-05-05T09:00:00.000Z');
    const agency = await createAgency(db, { name: 'Short rounds' }, t0);
    await updateSettings(db, agency.agencyId, { reminders: { clientDays: [2, 6], colleagueDays: [3] }, surveyExpiryDays: 7 }, t0);
    const pro = await createPro(db, agency.agencyId, { name: 'Jo Bloggs', email: 'jo-short@acme.example' }, t0);
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Autumn' }, t0);
    const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients: [{ email: 'client-short@brand.example', audience: 'client' }] }, t0);
    const ref = { roundId: round.roundId, invitationId: accepted[0]!.invitationId };
    // Sent a day and a half late (a long queue): reminders count from the sending.
    await deliver(deliveryAt(addDays(t0, 1.5)), { kind: 'invitation', ...ref });
    expect((await invitationOf(ref)).nextReminderAt).toBe('2031-05-08T21:00:00.000Z');
    expect((await runJobsAt(addDays(t0, 3.4))).remindersQueued).toBe(0);
    expect((await runJobsAt(addDays(t0, 3.6))).outcomes).toEqual(['sent', 'not-due']);
    // Day 1.5 + 6 is after the 7-day close: there is no second reminder.
    expect(await invitationOf(ref)).toMatchObject({ remindersSent: 1, nextReminderAt: null });
    expect(await runJobsAt(addDays(t0, 7.01))).toMatchObject({ roundsToClose: 1, remindersQueued: 0, outcomes: ['closed', 'not-due'] });
    expect(await sesEmails({ to: 'client-short@brand.example' })).toHaveLength(2);
  });

  it('sends no reminder for an answer, cancel or unsubscribe that comes after the reminder was queued', async () => {
    const t0 = new Date('2031-07-07T09:00:00.000Z');
    const answered = await sentRound([{ who: 'ann', audience: 'reporter' }], t0);
    const cancelled = await sentRound([{ who: 'cid', audience: 'reporter' }], t0);
    const unsubscribed = await sentRound([{ who: 'uma', audience: 'reporter' }], t0);

    const queue = collectingQueue();
    await runScheduledJobs({ db, queue, records }, addDays(t0, 3.01));
    expect(queue.jobs).toHaveLength(3);
    await submitResponse(db, answered.refs.ann!, { responsiveness: 2 }, addDays(t0, 3.01));
    await cancelRound(db, cancelled.agencyId, cancelled.round.roundId);
    await suppress(db, unsubscribed.emails.uma!, 'unsubscribed', { agencyId: unsubscribed.agencyId }, addDays(t0, 3.01));

    const outcome = (ref: { invitationId: string }) => deliver(deliveryAt(addDays(t0, 3.02)), queue.jobs.find((j) => 'invitationId' in j && j.invitationId === ref.invitationId)!);
    expect(await outcome(answered.refs.ann!)).toBe('not-due');
    expect(await outcome(cancelled.refs.cid!)).toBe('skipped');
    expect(await outcome(unsubscribed.refs.uma!)).toBe('skipped');
    for (const round of [answered, cancelled, unsubscribed]) expect(await sesEmails({ to: Object.values(round.emails)[0]! })).toHaveLength(1);
    // Skipped reminders leave the index: the next run finds nothing.
    expect(await runJobsAt(addDays(t0, 3.03))).toMatchObject({ remindersQueued: 0 });
    expect(await invitationOf(cancelled.refs.cid!)).toMatchObject({ status: 'sent', remindersSent: 0, nextReminderAt: null });
    expect(await runJobsAt(addDays(t0, 14.01))).toMatchObject({ roundsToClose: 3 });
  });

  it('closes a cancelled round without reopening it, and marks invitations never sent as skipped', async () => {
    const t0 = new Date('2031-09-09T09:00:00.000Z');
    const agency = await createAgency(db, { name: 'Cancelled' }, t0);
    const pro = await createPro(db, agency.agencyId, { name: 'Jo', email: 'jo-cancel@acme.example' }, t0);
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Winter' }, t0);
    const { round, accepted } = await createRound(
      db,
      agency.agencyId,
      campaign.campaignId,
      { recipients: ['a', 'b'].map((who) => ({ email: `${who}-cancel@news.example`, audience: 'reporter' })) },
      t0,
    );
    await deliver(deliveryAt(t0), { kind: 'invitation', roundId: round.roundId, invitationId: accepted[0]!.invitationId });
    await cancelRound(db, agency.agencyId, round.roundId);

    expect(await runJobsAt(addDays(t0, 14.5))).toMatchObject({ roundsToClose: 1 });
    const after = await getRound(db, agency.agencyId, round.roundId);
    expect(after.status).toBe('cancelled');
    expect(after.counts).toMatchObject({ pending: 0, sent: 0, expired: 1, skipped: 1 });
    const { items } = await listInvitations(db, round.roundId, { limit: 10 });
    expect(items.map((i) => i.status).sort()).toEqual(['expired', 'skipped']);
  });

  it('closes a round on time though the job runs hourly: the run before its close queues the close to run at its time, which comes back early in 15-minute hops and closes nothing early', async () => {
    const t0 = new Date('2032-05-05T09:00:00.000Z');
    const { agencyId, round } = await sentRound([{ who: 'rita', audience: 'reporter' }], t0);
    const closesAt = new Date(round.closesAt);
    const HOUR = 3_600_000;
    const ours = (jobs: readonly SendJob[]) => jobs.filter((j) => j.kind === 'close-round' && j.roundId === round.roundId);
    const queued: { jobs: SendJob[]; delaySeconds: number }[] = [];
    const recording = { enqueue: async (jobs: readonly SendJob[], { delaySeconds = 0 } = {}) => void queued.push({ jobs: ours(jobs), delaySeconds }) };
    const runAt = async (at: Date, everyMs: number) => {
      queued.length = 0;
      await runScheduledJobs({ db, queue: recording, records }, at, everyMs);
      return queued.filter((q) => q.jobs.length > 0);
    };

    // Further off than the next run, or with no look-ahead: not queued yet.
    expect(await runAt(new Date(closesAt.getTime() - 61 * 60_000), HOUR)).toEqual([]);
    expect(await runAt(new Date(closesAt.getTime() - 40 * 60_000), 0)).toEqual([]);
    // Before the next run: queued now, to run at its time, held back as long as the queue allows.
    const close = { kind: 'close-round', roundId: round.roundId, notBefore: round.closesAt } as const;
    expect(await runAt(new Date(closesAt.getTime() - 40 * 60_000), HOUR)).toEqual([{ jobs: [close], delaySeconds: 900 }]);

    // It arrives early twice: back to the queue for the rest each time, the round still open.
    const requeued: { job: SendJob; delaySeconds: number }[] = [];
    const worker = (at: Date) => ({ ...deliveryAt(at), requeue: async (job: SendJob, delaySeconds: number) => void requeued.push({ job, delaySeconds }) });
    expect(await deliver(worker(new Date(closesAt.getTime() - 25 * 60_000)), close)).toBe('not-due');
    expect(await deliver(worker(new Date(closesAt.getTime() - 10 * 60_000 - 500)), close)).toBe('not-due');
    expect(requeued).toEqual([
      { job: close, delaySeconds: 900 },
      { job: close, delaySeconds: 601 },
    ]);
    expect((await getRound(db, agencyId, round.roundId)).status).toBe('open');
    // At its time it closes the round, then and there.
    expect(await deliver(worker(closesAt), close)).toBe('closed');
    expect(requeued).toHaveLength(2);
    expect(await getRound(db, agencyId, round.roundId)).toMatchObject({ status: 'closed', closedAt: round.closesAt });
    expect(await runAt(new Date(closesAt.getTime() + 60_000), HOUR)).toEqual([]);
  });

  it('with the summaries (as AWS runs it), a summary sweep that fails stops none of the other sweeps, and its error is rethrown after them (stub: the queue refuses summaries jobs)', async () => {
    const t0 = new Date('2032-06-07T09:00:00.000Z');
    const { round } = await sentRound([{ who: 'sam', audience: 'reporter' }], t0);
    const refused = new Error('SQS refused the summaries');
    const queued: SendJob[] = [];
    const queue = {
      enqueue: async (jobs: readonly SendJob[]) => {
        if (jobs.some((j) => j.kind === 'summaries')) throw refused;
        queued.push(...jobs);
      },
    };
    // The round's time is up, and its agency's summaries are due since its creation.
    const at = new Date(Date.parse(round.closesAt) + 60_000);
    const failure = await runScheduledJobs({ db, queue, records }, at, 3_600_000, { summaries: true }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AggregateError);
    expect((failure as AggregateError).errors).toEqual([refused]);
    const close = { kind: 'close-round', roundId: round.roundId } as const;
    expect(queued.filter((j) => j.kind === 'close-round' && j.roundId === round.roundId)).toEqual([close]);
    expect(await deliver(deliveryAt(at), close)).toBe('closed');
  });

  it("closes a round kept open at its time by a send in flight seconds later, not at the next hourly run: its close job goes back to the queue for 30 s, then as long as the round has waited (stub: the worker's SES call held)", async () => {
    const t0 = new Date('2034-07-01T09:00:00.000Z');
    const { agencyId, round, refs } = await sentRound([{ who: 'ann', audience: 'reporter' }], t0);
    const dueAt = (await invitationOf(refs.ann!)).nextReminderAt!;
    const closesAt = Date.parse(round.closesAt);
    // A reminder late behind a backlog is in flight at the close; SES is slow to answer.
    const { mailer: slowSes, called, release } = heldMailer(mailer);
    const reminding = deliver(deliveryAt(new Date(closesAt - 10_000), slowSes), { kind: 'reminder', ...refs.ann!, dueAt });
    await called;

    const close = { kind: 'close-round', roundId: round.roundId, notBefore: round.closesAt } as const;
    const requeued: { job: SendJob; delaySeconds: number }[] = [];
    const worker = (at: number) => ({ ...deliveryAt(new Date(at)), requeue: async (job: SendJob, delaySeconds: number) => void requeued.push({ job, delaySeconds }) });
    const again = (atMs: number) => ({ kind: 'close-round', roundId: round.roundId, notBefore: new Date(atMs).toISOString() });
    expect(await deliver(worker(closesAt), close)).toBe('not-due');
    expect(requeued).toEqual([{ job: again(closesAt + 30_000), delaySeconds: 30 }]);
    expect(await deliver(worker(closesAt + 30_000), requeued[0]!.job)).toBe('not-due');
    expect(requeued[1]).toEqual({ job: again(closesAt + 60_000), delaySeconds: 30 });
    expect(await deliver(worker(closesAt + 60_000), requeued[1]!.job)).toBe('not-due');
    expect(requeued[2]).toEqual({ job: again(closesAt + 120_000), delaySeconds: 60 });
    expect((await getRound(db, agencyId, round.roundId)).status).toBe('open');
    release();
    expect(await reminding).toBe('sent');
    expect(await deliver(worker(closesAt + 120_000), requeued[2]!.job)).toBe('closed');
    expect(requeued).toHaveLength(3);
    expect(await getRound(db, agencyId, round.roundId)).toMatchObject({ status: 'closed', closedAt: new Date(closesAt + 120_000).toISOString() });
    // Kept open an hour past its time, it is no longer queued again: the scheduled run's job each run closes it.
    expect(closeRetrySeconds(round.closesAt, new Date(closesAt + 3_600_000))).toBeNull();
    expect(closeRetrySeconds(round.closesAt, new Date(closesAt + 1_800_000))).toBe(900);
  });

  it('closes a round closed now while its first email is in flight within a minute, not at the next hourly run: the close now queues its close job for 30 s later', async () => {
    const t0 = new Date('2034-08-01T09:00:00.000Z');
    const agency = await createAgency(db, { name: 'Close now in flight' }, t0);
    const pro = await createPro(db, agency.agencyId, { name: 'Jo', email: 'jo-close-now@acme.example' }, t0);
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring' }, t0);
    const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients: [{ email: 'close-now-flight@news.example', audience: 'reporter' }] }, t0);
    const ref = { roundId: round.roundId, invitationId: accepted[0]!.invitationId };
    // A worker has claimed the first email (SES is being called) when the pro closes the round.
    const claimAt = new Date(t0.getTime() + 60_000);
    expect(await transitionInvitation(db, ref.roundId, ref.invitationId, 'pending', 'sending', { set: { sendingAt: claimAt.toISOString(), ...leaseUntil(new Date(claimAt.getTime() + LEASE_MS)) } })).toBe(true);
    const at = new Date(t0.getTime() + 61_000);
    const queued: { jobs: readonly SendJob[]; delaySeconds: number }[] = [];
    const queue = { enqueue: async (jobs: readonly SendJob[], { delaySeconds = 0 } = {}) => void queued.push({ jobs, delaySeconds }) };
    expect(await closeRoundNow(db, agency.agencyId, round.roundId, at, queue)).toMatchObject({ status: 'open', closesAt: at.toISOString() });
    const close = { kind: 'close-round', roundId: round.roundId, notBefore: new Date(at.getTime() + 30_000).toISOString() } as const;
    expect(queued).toEqual([{ jobs: [close], delaySeconds: 30 }]);
    // SES took it a moment later; the close job, back in 30 s, closes the round.
    expect(await transitionInvitation(db, ref.roundId, ref.invitationId, 'sending', 'sent', { set: { sentAt: new Date(at.getTime() + 2000).toISOString() }, remove: ['checkAt'] })).toBe(true);
    expect(await deliver(deliveryAt(new Date(at.getTime() + 30_000)), close)).toBe('closed');
    expect(await getRound(db, agency.agencyId, round.roundId)).toMatchObject({ status: 'closed', closedAt: new Date(at.getTime() + 30_000).toISOString() });
  });

  it('queues again an invitation whose send job was lost, once its lease of 15 minutes has run out', async () => {
    const t0 = new Date('2031-11-11T09:00:00.000Z');
    const agency = await createAgency(db, { name: 'Lost jobs' }, t0);
    const pro = await createPro(db, agency.agencyId, { name: 'Jo', email: 'jo-lost@acme.example' }, t0);
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring' }, t0);
    const emails = ['sent-lost@news.example', 'lost-lost@news.example'];
    const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients: emails.map((email) => ({ email, audience: 'reporter' })) }, t0);
    // The first job ran; the second was lost (say the runner stopped with it queued).
    await deliver(deliveryAt(t0), { kind: 'invitation', roundId: round.roundId, invitationId: accepted[0]!.invitationId });

    expect(await runJobsAt(new Date(t0.getTime() + 10 * 60_000))).toMatchObject({ requeued: 0, jobs: [] });
    const later = await runJobsAt(new Date(t0.getTime() + 16 * 60_000));
    expect(later).toMatchObject({ requeued: 1, recorded: 0, resent: 0, jobs: [{ kind: 'invitation', invitationId: accepted[1]!.invitationId }] });
    expect(later.outcomes).toEqual(['sent', 'not-due']);
    expect(await sesEmails({ to: emails[0]! })).toHaveLength(1);
    expect(await sesEmails({ to: emails[1]! })).toHaveLength(1);
    // Sent, it left the lease index: nothing is queued again.
    expect(await runJobsAt(new Date(t0.getTime() + 60 * 60_000))).toMatchObject({ requeued: 0, jobs: [] });
    expect(await runJobsAt(addDays(t0, 15))).toMatchObject({ roundsToClose: 1 });
  });

  it('sends again, once, an invitation whose worker died before SES took it, once its lease has run out', async () => {
    const t0 = new Date('2031-12-01T09:00:00.000Z');
    const agency = await createAgency(db, { name: 'Dead worker' }, t0);
    const pro = await createPro(db, agency.agencyId, { name: 'Jo', email: 'jo-dead@acme.example' }, t0);
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring' }, t0);
    const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients: [{ email: 'dead-worker@news.example', audience: 'reporter' }] }, t0);
    const ref = { roundId: round.roundId, invitationId: accepted[0]!.invitationId };
    // The claim a worker makes before calling SES (with its lease); then it dies.
    const claimAt = new Date(t0.getTime() + 60_000);
    const claim = { sendingAt: claimAt.toISOString(), ...leaseUntil(new Date(claimAt.getTime() + LEASE_MS)) };
    expect(await transitionInvitation(db, ref.roundId, ref.invitationId, 'pending', 'sending', { set: claim })).toBe(true);

    expect(await runJobsAt(new Date(t0.getTime() + 15 * 60_000))).toMatchObject({ requeued: 0, recorded: 0, resent: 0, jobs: [] });
    const later = await runJobsAt(new Date(t0.getTime() + 17 * 60_000));
    expect(later).toMatchObject({ requeued: 0, recorded: 0, resent: 1, jobs: [{ kind: 'invitation', invitationId: ref.invitationId }] });
    expect(later.outcomes).toEqual(['sent', 'not-due']);
    expect(await invitationOf(ref)).toMatchObject({ status: 'sent', lastFailure: 'Interrupted' });
    expect((await getRound(db, agency.agencyId, round.roundId)).counts).toMatchObject({ pending: 0, sending: 0, sent: 1, failed: 0 });
    expect(await sesEmails({ to: 'dead-worker@news.example' })).toHaveLength(1);
    expect(await runJobsAt(addDays(t0, 15))).toMatchObject({ roundsToClose: 1, resent: 0 });
  });

  it('keeps a round with a send in doubt open at its close until SES\'s record settles it (stub: SES\'s answer lost)', async () => {
    const t0 = new Date('2032-01-05T09:00:00.000Z');
    const agency = await createAgency(db, { name: 'In flight' }, t0);
    const pro = await createPro(db, agency.agencyId, { name: 'Jo', email: 'jo-flight@acme.example' }, t0);
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring' }, t0);
    const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients: [{ email: 'in-flight@news.example', audience: 'reporter' }] }, t0);
    const ref = { roundId: round.roundId, invitationId: accepted[0]!.invitationId };
    // Sent a minute before the close (a long queue); SES took it, but its answer never came back.
    const sentAt = new Date(addDays(t0, 14).getTime() - 60_000);
    expect(await deliver(deliveryAt(sentAt, answerLostMailer(mailer)), { kind: 'invitation', ...ref })).toBe('in-doubt');
    expect(await runJobsAt(addDays(t0, 14.005))).toMatchObject({ roundsToClose: 1, recorded: 0, outcomes: ['not-due', 'not-due'] });
    expect((await getRound(db, agency.agencyId, round.roundId)).status).toBe('open');
    // Its lease over, SES's record says it went out: `sent`, and then the close expires it.
    expect(await runJobsAt(new Date(sentAt.getTime() + LEASE_MS + 60_000))).toMatchObject({ roundsToClose: 1, recorded: 1, resent: 0, outcomes: ['closed', 'not-due'] });
    expect(await getRound(db, agency.agencyId, round.roundId)).toMatchObject({ status: 'closed', counts: { sending: 0, sent: 0, expired: 1, failed: 0 } });
    expect(await invitationOf(ref)).toMatchObject({ status: 'expired', messageId: (await sesEmails({ to: 'in-flight@news.example' }))[0]!.messageId });
    expect(await sesEmails({ to: 'in-flight@news.example' })).toHaveLength(1);
  });

  it('queues a due reminder as it comes due without a write, and one nobody runs again only when its queue lease runs out (15 min, then 30): three times in an hour of 5-minute runs, not twelve', async () => {
    const t0 = new Date('2034-03-03T09:00:00.000Z');
    const recipients = Array.from({ length: 10 }, (_, i) => ({ who: `r${i}`, audience: 'reporter' as const }));
    const { refs, emails } = await sentRound(recipients, t0);
    const dueAt = (await invitationOf(refs.r0!)).nextReminderAt!;
    const queued = new Map<string, number>();
    let last: SendJob[] = [];
    for (let minute = 1; minute <= 56; minute += 5) {
      const queue = collectingQueue();
      await runScheduledJobs({ db, queue, records }, new Date(Date.parse(dueAt) + minute * 60_000));
      for (const job of queue.jobs) if (job.kind === 'reminder') queued.set(job.invitationId, (queued.get(job.invitationId) ?? 0) + 1);
      if (queue.jobs.length > 0) last = queue.jobs;
      // Queued the first time as it stands: still due at its time, never leased.
      if (minute === 1) {
        const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.invitation(refs.r0!.roundId, refs.r0!.invitationId), ConsistentRead: true }));
        expect(Item).toMatchObject({ nextReminderAt: dueAt, reminderQueues: 0, checkAt: dueAt });
      }
    }
    // Queued at minute 1 as it came due; found again at 6 (leased to 21), and at 26 (leased to 56).
    expect([...queued.values()]).toEqual(Array(10).fill(3));
    // Each of those jobs still names the due time the worker checks; run at last, each reminds once.
    const at = new Date(Date.parse(dueAt) + 60 * 60_000);
    for (const job of [...last, ...last]) await deliver(deliveryAt(at), job);
    for (const who of Object.keys(emails)) expect((await sesEmails({ to: emails[who]! })).filter((m) => m.subject.startsWith('Reminder: '))).toHaveLength(1);
  });

  it('run hourly, queues a reminder that came due since the last run without a write, however long ago in that hour, and leases one found again', async () => {
    const t0 = new Date('2034-06-03T09:00:00.000Z');
    const { refs } = await sentRound([{ who: 'r0', audience: 'reporter' }], t0);
    const ref = refs.r0!;
    const dueAt = (await invitationOf(ref)).nextReminderAt!;
    const item = async () => (await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.invitation(ref.roundId, ref.invitationId), ConsistentRead: true }))).Item!;
    const runAt = async (minutes: number) => {
      const queue = collectingQueue();
      await runScheduledJobs({ db, queue, records }, new Date(Date.parse(dueAt) + minutes * 60_000), 3_600_000);
      return queue.jobs.filter((j) => j.kind === 'reminder' && j.invitationId === ref.invitationId);
    };
    expect(await runAt(59)).toEqual([{ kind: 'reminder', ...ref, dueAt }]);
    expect(await item()).toMatchObject({ reminderQueues: 0, checkAt: dueAt });
    // Its job lost: the next run finds it again, leases it for 15 minutes, and queues it.
    expect(await runAt(119)).toHaveLength(1);
    expect(await item()).toMatchObject({ reminderQueues: 1, nextReminderAt: dueAt, checkAt: new Date(Date.parse(dueAt) + 134 * 60_000).toISOString() });
  });

  it('sends no reminder claimed between a close reading the invitation and expiring it: the worker finds the close begun and drops it, and the close ends the round (the close pauses before expiring)', async () => {
    const t0 = new Date('2034-05-03T09:00:00.000Z');
    const { agencyId, round, emails, refs } = await sentRound([{ who: 'ann', audience: 'reporter' }], t0);
    const dueAt = (await invitationOf(refs.ann!)).nextReminderAt!;
    const faulty = faultyDb(db);
    const { reached, resume } = faulty.pauseWrite(2); // after the close's mark: the first expiry
    const pausing = faulty.db;
    const closesAt = Date.parse(round.closesAt);
    const closing = closeRound(pausing, round.roundId, new Date(closesAt));
    await reached;
    // The close has read the invitation `sent`, no reminder in flight; the reminder due since day 3
    // (its job late behind a backlog) is claimed now by a worker whose clock reads just before the close.
    expect(await deliver(deliveryAt(new Date(closesAt - 50)), { kind: 'reminder', ...refs.ann!, dueAt })).toBe('skipped');
    resume();
    expect(await closing).toBe(true);
    const ann = await invitationOf(refs.ann!);
    expect(ann).toMatchObject({ status: 'expired', remindersSent: 0, nextReminderAt: null });
    expect(ann.reminderSending).toBeUndefined();
    expect((await getRound(db, agencyId, round.roundId)).counts).toMatchObject({ sent: 0, expired: 1 });
    expect((await sesEmails({ to: emails.ann! })).map((m) => m.subject.startsWith('Reminder'))).toEqual([false]);
  });

  it("keeps a round open at its close while a reminder to someone who answered meanwhile is in flight, so no email goes out after the close (stub: the worker's SES call held)", async () => {
    const t0 = new Date('2034-06-05T09:00:00.000Z');
    const { agencyId, round, emails, refs } = await sentRound([{ who: 'ann', audience: 'reporter' }], t0);
    const dueAt = (await invitationOf(refs.ann!)).nextReminderAt!;
    // The reminder's job runs late behind a backlog, a minute before the close; SES is slow to answer.
    const closesAt = Date.parse(round.closesAt);
    const { mailer: slowSes, called, release } = heldMailer(mailer);
    const reminding = deliver(deliveryAt(new Date(closesAt - 60_000), slowSes), { kind: 'reminder', ...refs.ann!, dueAt });
    await called;
    // Ann answers (through her invitation's link) while the reminder is in flight; then the round's time is up.
    await submitResponse(db, refs.ann!, { responsiveness: 4 }, new Date(closesAt - 30_000));
    expect(await closeRound(db, round.roundId, new Date(closesAt + 60_000))).toBe(false);
    expect((await getRound(db, agencyId, round.roundId)).status).toBe('open');
    release();
    expect(await reminding).toBe('sent');
    expect(await closeRound(db, round.roundId, new Date(closesAt + 120_000))).toBe(true);
    // The worker ended the flight itself (no sweep ran): counted, since SES took it.
    const ann = await invitationOf(refs.ann!);
    expect(ann).toMatchObject({ status: 'responded', remindersSent: 1 });
    expect(ann.reminderSending).toBeUndefined();
    expect((await getRound(db, agencyId, round.roundId)).status).toBe('closed');
    expect((await sesEmails({ to: emails.ann! })).map((m) => m.subject.startsWith('Reminder'))).toEqual([false, true]);
  });

  it('emails no one whose invitation a worker claims between a close reading it and skipping it: the worker finds the close begun and skips it, and the close ends the round (the close pauses before skipping)', async () => {
    const t0 = new Date('2034-04-03T09:00:00.000Z');
    const tag = `${++n}-${t0.getTime()}`;
    const agency = await createAgency(db, { name: `Closing ${tag}` }, t0);
    const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, t0);
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, t0);
    const email = `late-${tag}@news.example`;
    const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients: [{ email, audience: 'reporter' }] }, t0);
    const job: SendJob = { kind: 'invitation', roundId: round.roundId, invitationId: accepted[0]!.invitationId };
    // The close marks the round and reads its invitations, then waits before skipping the pending
    // one; a worker whose clock still reads just before the close claims it meanwhile (a claim
    // checks nothing of the round), then reads the round and finds the close begun.
    const faulty = faultyDb(db);
    const { reached, resume } = faulty.pauseWrite(2); // after the close's mark: the skip
    const pausing = faulty.db;
    const closing = closeRound(pausing, round.roundId, new Date(round.closesAt));
    await reached;
    expect(await deliver(deliveryAt(new Date(Date.parse(round.closesAt) - 50)), job)).toBe('skipped');
    resume();
    expect(await closing).toBe(true);
    const closed = await getRound(db, agency.agencyId, round.roundId);
    expect(closed.status).toBe('closed');
    expect(closed.counts).toMatchObject({ pending: 0, sending: 0, sent: 0, skipped: 1, expired: 0 });
    expect(await sesEmails({ to: email })).toEqual([]);
  });
});
