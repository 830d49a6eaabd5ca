import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { answerLostMailer, collectingQueue, isolatedTestDeps, resetBeforeSesMailer, sesEmails, workerAt } from '@rapport/testing';
import { keys } from '../db/keys';
import { createAgency, updateSettings } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import type { Mailer } from '../email/mailer';
import { createRound } from '../survey/round';
import { submitResponse } from '../survey/response';
import { deliver } from '../sending/dispatch';
import type { SendJob } from '../sending/queue';
import { recoverSends } from '../jobs/recovery';

/**
 * Early warnings cut off mid-send are settled from SES's record like invitations: on a table of
 * their own (the sweep reads the whole lease index), with a moved clock.
 */
const { db, linkSecret, mailer, records } = await isolatedTestDeps();
afterAll(() => db.client.destroy());

const deliveryAt = (at: Date, through = mailer) => workerAt({ db, mailer, linkSecret }, at, through);

let n = 0;
/** A named round of one reporter, emailed, who answers low: the early-warning job and the pro's address. */
async function lowAnswer(t0: Date) {
  const tag = `${++n}-${t0.getTime()}`;
  const agency = await createAgency(db, { name: `Warnings ${tag}` }, t0);
  await updateSettings(db, agency.agencyId, { earlyWarnings: true }, t0);
  const proEmail = `jane-${tag}@acme.example`;
  const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: proEmail }, t0);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, t0);
  const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients: [{ email: `ana-${tag}@news.example`, audience: 'reporter' }], attribution: 'named' }, t0);
  const ref = { roundId: round.roundId, invitationId: accepted[0]!.invitationId };
  expect(await deliver(deliveryAt(t0), { kind: 'invitation', ...ref })).toBe('sent');
  await submitResponse(db, ref, { responsiveness: 1 }, new Date(t0.getTime() + 60_000));
  return { job: { kind: 'early-warning', ...ref } as SendJob, marker: keys.earlyWarning(ref.roundId, ref.invitationId), proEmail };
}

async function sweepAt(at: Date) {
  const queue = collectingQueue();
  return { ...(await recoverSends({ db, queue, records }, at)), jobs: queue.jobs };
}

const markerOf = async (key: { PK: string; SK: string }) => (await db.doc.send(new GetCommand({ TableName: db.table, Key: key, ConsistentRead: true }))).Item!;
const minutes = (t0: Date, m: number) => new Date(t0.getTime() + m * 60_000);

describe('early warnings cut off mid-send', () => {
  it("are recorded sent from SES's record when SES took them, never sent twice (stub: SES's answer lost)", async () => {
    const t0 = new Date('2035-01-10T09:00:00.000Z');
    const { job, marker, proEmail } = await lowAnswer(t0);
    expect(await deliver(deliveryAt(minutes(t0, 2), answerLostMailer(mailer)), job)).toBe('in-doubt');
    expect(await markerOf(marker)).toMatchObject({ status: 'sending', GSI1PK: expect.stringMatching(/^DUE#LEASE#/) });
    // The job delivered again (SQS redelivers what the worker did not finish) does nothing.
    expect(await deliver(deliveryAt(minutes(t0, 3)), job)).toBe('not-due');

    expect(await sweepAt(minutes(t0, 16))).toEqual({ requeued: 0, recorded: 0, resent: 0, jobs: [] });
    expect(await sweepAt(minutes(t0, 18))).toEqual({ requeued: 0, recorded: 1, resent: 0, jobs: [] });
    const settled = await markerOf(marker);
    expect(settled).toMatchObject({ status: 'sent' });
    expect(settled.GSI1PK).toBeUndefined();
    expect(await sesEmails({ to: proEmail })).toHaveLength(1);
  });

  it('are given back and sent once when SES never got them (stub: connection reset before SES)', async () => {
    const t0 = new Date('2035-02-10T09:00:00.000Z');
    const { job, marker, proEmail } = await lowAnswer(t0);
    expect(await deliver(deliveryAt(minutes(t0, 2), resetBeforeSesMailer), job)).toBe('in-doubt');
    expect(await sweepAt(minutes(t0, 18))).toEqual({ requeued: 0, recorded: 0, resent: 1, jobs: [job] });
    expect(await deliver(deliveryAt(minutes(t0, 19)), job)).toBe('sent');
    expect(await deliver(deliveryAt(minutes(t0, 19)), job)).toBe('not-due');
    expect(await markerOf(marker)).toMatchObject({ status: 'sent' });
    const [warning, ...more] = await sesEmails({ to: proEmail });
    expect(more).toEqual([]);
    expect(warning!.subject).toMatch(/^Early warning: /);
  });

  it('are queued by the recovery sweep when the job queued with the answer was lost: the answer left a due item', async () => {
    const t0 = new Date('2035-03-10T09:00:00.000Z');
    const { job, marker, proEmail } = await lowAnswer(t0);
    const due = keys.warningDue((job as { roundId: string }).roundId, (job as { invitationId: string }).invitationId, 1);
    expect((await markerOf(due)).GSI1PK).toMatch(/^DUE#LEASE#/);
    // The page's enqueue failed: nothing ran. Once the due item's lease runs out, the sweep queues it.
    expect(await sweepAt(minutes(t0, 10))).toEqual({ requeued: 0, recorded: 0, resent: 0, jobs: [] });
    expect(await sweepAt(minutes(t0, 17))).toEqual({ requeued: 1, recorded: 0, resent: 0, jobs: [job] });
    expect(await deliver(deliveryAt(minutes(t0, 18)), job)).toBe('sent');
    expect(await markerOf(marker)).toMatchObject({ status: 'sent' });
    expect((await db.doc.send(new GetCommand({ TableName: db.table, Key: due, ConsistentRead: true }))).Item).toBeUndefined();
    expect(await sweepAt(minutes(t0, 60))).toEqual({ requeued: 0, recorded: 0, resent: 0, jobs: [] });
    expect(await sesEmails({ to: proEmail })).toHaveLength(1);
  });
});
