/**
 * Attacks on the round checks (`checkRounds`, ../jobs/round-work.ts): a round's WORK item must sit
 * in the index at or before the time any of its invitations needs a look, at least a bounded time
 * after. These tests look for an interleaving or a fault that leaves an invitation's `checkAt`
 * before its round's next check.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { collectingQueue, faultyDb, isolatedTestDeps, resetBeforeSesMailer, sesEmails, workerAt } from '@rapport/testing';
import { keys } from '../db/keys';
import { createAgency } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { createRound } from '../survey/round';
import { deliver } from '../sending/dispatch';
import type { InvitationJob, SendJob } from '../sending/queue';
import { checkRounds } from './round-work';
import { recoverSends } from './recovery';

const { db, linkSecret, mailer, records } = await isolatedTestDeps();
afterAll(() => db.client.destroy());

const MINUTE = 60_000;
const after = (t0: Date, minutes: number) => new Date(t0.getTime() + minutes * MINUTE);

async function sweepAt(at: Date) {
  const queue = collectingQueue();
  const recovered = await recoverSends({ db, queue, records }, at);
  return { ...recovered, jobs: queue.jobs };
}

/** A scheduled run's round checks at `at` (every 5 minutes): the jobs it queued for `roundId` (the table holds other tests' rounds). */
async function checkAt(at: Date, roundId: string) {
  const queue = collectingQueue();
  await checkRounds({ db, queue, records }, at, { sinceMs: 5 * MINUTE });
  return queue.jobs.filter((j) => 'roundId' in j && j.roundId === roundId);
}

let n = 0;
async function roundAt(t0: Date, count: number) {
  const tag = `${++n}-${t0.getTime()}`;
  const agency = await createAgency(db, { name: `Round work ${tag}` }, t0);
  const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, t0);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, t0);
  const emails = Array.from({ length: count }, (_, i) => `rcpt${i}-work-${tag}@news.example`);
  const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients: emails.map((email) => ({ email, audience: 'reporter' })) }, t0);
  const jobs = accepted.map((i): InvitationJob => ({ kind: 'invitation', roundId: round.roundId, invitationId: i.invitationId }));
  return { round, jobs, emails };
}

type Stored = { status: string; checkAt?: string; nextReminderAt?: string | null; reminderSending?: string; reminderQueues?: number; requeues?: number };
const stored = async (ref: { roundId: string; invitationId: string }) =>
  (await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.invitation(ref.roundId, ref.invitationId), ConsistentRead: true }))).Item as Stored;
const workOf = async (roundId: string) =>
  (await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.roundWork(roundId), ConsistentRead: true }))).Item as { GSI1SK?: string; touches?: number } | undefined;

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
    await expect(deliver(workerAt({ db: faulty.db, mailer, linkSecret }, after(t0, 48), resetBeforeSesMailer), job)).rejects.toThrow(/Injected fault/);
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
    await expect(deliver(workerAt({ db: faulty.db, mailer, linkSecret }, after(due, 27), resetBeforeSesMailer), reminder)).rejects.toThrow(/Injected fault/);
    faulty.disarm();
    expect(await deliver(workerAt({ db, mailer, linkSecret }, after(due, 28)), reminder)).toBe('not-due');
    expect(await stored(job)).toMatchObject({ status: 'sent', reminderSending: dueAt, checkAt: after(due, 42).toISOString() });

    // The flight's lease is over at +42: the next run settles it (SES never got it: due again, queued).
    expect(await checkAt(after(due, 43), round.roundId)).toEqual([reminder]);
    expect(await deliver(workerAt({ db, mailer, linkSecret }, after(due, 44)), reminder)).toBe('sent');
    expect(await sesEmails({ to: emails[0]! })).toHaveLength(2);
  });
});
