import { afterAll, describe, expect, it } from 'vitest';
import { collectingQueue, heldMailer, isolatedTestDeps, sesEmails, workerAt } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { createRound, getRound, type Invitation } from '../survey/round';
import { openInvitation, submitResponse } from '../survey/response';
import { deliver } from '../sending/dispatch';
import { handleSesNotification } from '../sending/notifications';
import { runScheduledJobs } from './index';
import { MailerError } from '../email/mailer';

const { db, linkSecret, mailer, records } = await isolatedTestDeps();
afterAll(() => db.client.destroy());

const deliveryAt = (at: Date, through = mailer) => workerAt({ db, mailer, linkSecret }, at, through);

let n = 0;
async function sentRound(t0: Date, attribution?: 'named' | 'anonymous') {
  const tag = `bounce-${++n}-${t0.getTime()}`;
  const agency = await createAgency(db, { name: `Reminder bounce ${tag}` }, t0);
  const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, t0);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, t0);
  const email = `ann-${tag}@news.example`;
  const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients: [{ email, audience: 'reporter' }], ...(attribution ? { attribution } : {}) }, t0);
  const ref = { roundId: round.roundId, invitationId: accepted[0]!.invitationId };
  expect(await deliver(deliveryAt(t0), { kind: 'invitation', ...ref })).toBe('sent');
  return { agencyId: agency.agencyId, round, email, ref };
}

/** The scheduled job every `step` ms from `from` to `to`, each job it queued delivered at once (the faults over). */
async function runJobsEvery(step: number, from: number, to: number) {
  for (let t = from; t <= to; t += step) {
    const queue = collectingQueue();
    await runScheduledJobs({ db, queue, records }, new Date(t));
    for (const job of queue.jobs) await deliver(deliveryAt(new Date(t)), job);
  }
}

const invitationOf = async (ref: { roundId: string; invitationId: string }): Promise<Invitation> => (await openInvitation(db, ref)).invitation;

const bounce = (messageId: string, email: string, tags: Record<string, string[]>) =>
  JSON.stringify({
    notificationType: 'Bounce',
    bounce: {
      bounceType: 'Permanent',
      bounceSubType: 'General',
      bouncedRecipients: [{ emailAddress: email, action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
      timestamp: '2026-11-24T10:00:00.000Z',
      feedbackId: '0100017c-feedback',
      reportingMTA: 'dsn; a8-70.smtp-out.amazonses.com',
    },
    mail: { timestamp: '2026-11-24T09:59:58.000Z', source: 'surveys@rapport.example', messageId, destination: [email], tags },
  });

/** Found by an attack on the reminder path: a bounce took a reminder in flight out of the lease index, where nothing ended it. */
describe('a bounce while a reminder is in flight', () => {
  it('closes the round when a (late) bounce lands while a reminder is in flight and the person then answers (stub: the worker\'s SES call held)', async () => {
    const t0 = new Date('2035-02-05T09:00:00.000Z');
    const { agencyId, round, email, ref } = await sentRound(t0);
    const first = await invitationOf(ref);
    const dueAt = first.nextReminderAt!;
    const at = new Date(Date.parse(dueAt) + 60_000);
    const { mailer: slowSes, called, release } = heldMailer(mailer);
    // The reminder is claimed (into the lease index) and its SES call is slow.
    const reminding = deliver(deliveryAt(at, slowSes), { kind: 'reminder', ...ref, dueAt });
    await called;
    // The first email's bounce arrives now (late); it moves the invitation sent -> bounced.
    const [firstMail] = await sesEmails({ to: email });
    const messageId = (first as unknown as { messageId?: string }).messageId ?? firstMail!.messageId;
    const tags = { agency: [agencyId], round: [ref.roundId], invitation: [ref.invitationId], kind: ['invitation'] };
    await handleSesNotification(db, bounce(messageId, email, tags), new Date(at.getTime() + 1000));
    // A forwarded copy is answered.
    await submitResponse(db, ref, { responsiveness: 4 }, new Date(at.getTime() + 2000));
    release();
    await reminding;
    // Faults stop; every scheduled run (recovery sweep included) keeps running until well past the close.
    const closesAt = Date.parse(round.closesAt);
    await runJobsEvery(6 * 3600_000, at.getTime() + 5 * 60_000, closesAt + 2 * 24 * 3600_000);
    // The bounce left the flight its lease, and its worker ended it: the runs past the close closed the round.
    expect((await getRound(db, agencyId, round.roundId)).status).toBe('closed');
    const ann = await invitationOf(ref);
    expect(ann.status).toBe('responded');
    expect(ann.reminderSending).toBeUndefined();
  });

  it('counts no reminder SES refused for good when the first email bounced while it was in flight (stub: SES refuses the held reminder)', async () => {
    const t0 = new Date('2035-03-05T09:00:00.000Z');
    const { agencyId, email, ref } = await sentRound(t0);
    const first = await invitationOf(ref);
    const dueAt = first.nextReminderAt!;
    const at = new Date(Date.parse(dueAt) + 60_000);
    const { mailer: refusing, called, release } = heldMailer({ send: async () => Promise.reject(new MailerError('rejected', 'MessageRejected', false)) });
    const reminding = deliver(deliveryAt(at, refusing), { kind: 'reminder', ...ref, dueAt });
    await called;
    const [firstMail] = await sesEmails({ to: email });
    const tags = { agency: [agencyId], round: [ref.roundId], invitation: [ref.invitationId], kind: ['invitation'] };
    await handleSesNotification(db, bounce(firstMail!.messageId, email, tags), new Date(at.getTime() + 1000));
    release();
    await reminding;
    await runJobsEvery(30 * 60_000, at.getTime() + 5 * 60_000, at.getTime() + 3 * 3600_000);
    const ann = await invitationOf(ref);
    expect(ann.status).toBe('bounced');
    // No reminder went out: none counted, no flight left.
    expect((await sesEmails({ to: email })).filter((m) => m.subject.startsWith('Reminder'))).toHaveLength(0);
    expect(ann.remindersSent).toBe(0);
    expect(ann.reminderSending).toBeUndefined();
  });

  it("closes a named round whose reminder bounced before its worker wrote it down (a fast bounce), once its recipient answers (stub: SES's bounce handled inside the send)", async () => {
    const t0 = new Date('2035-04-05T09:00:00.000Z');
    const { agencyId, round, email, ref } = await sentRound(t0, 'named');
    const dueAt = (await invitationOf(ref)).nextReminderAt!;
    const at = new Date(Date.parse(dueAt) + 60_000);
    const tags = { agency: [agencyId], round: [ref.roundId], invitation: [ref.invitationId], kind: ['reminder'] };
    // SES takes the reminder; its bounce is handled before the worker records it.
    const fastBounce = {
      send: async (message: Parameters<typeof mailer.send>[0]) => {
        const taken = await mailer.send(message);
        await handleSesNotification(db, bounce(taken.messageId, email, tags), new Date(at.getTime() + 500));
        return taken;
      },
    };
    expect(await deliver(deliveryAt(at, fastBounce), { kind: 'reminder', ...ref, dueAt })).toBe('sent');
    expect((await invitationOf(ref)).status).toBe('bounced');
    // She answers through her first email's link.
    await submitResponse(db, ref, { responsiveness: 4 }, new Date(at.getTime() + 3600_000));
    const closesAt = Date.parse(round.closesAt);
    await runJobsEvery(6 * 3600_000, at.getTime() + 2 * 3600_000, closesAt + 2 * 24 * 3600_000);
    expect((await getRound(db, agencyId, round.roundId)).status).toBe('closed');
  });
});
