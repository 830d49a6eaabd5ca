import { afterAll, describe, expect, it } from 'vitest';
import { BatchExecuteStatementCommand, BatchWriteCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { collectingQueue, isolatedTestDeps, itemsHolding, sesEmails, workerAt } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { createCampaign } from '../campaign/campaign';
import { createPro } from '../pro/pro';
import { deliver } from '../sending/dispatch';
import { cancelRound, createRound } from '../survey/round';
import { checkRounds } from '../jobs/round-work';
import { recordedSends } from '../sending/records';
import type { Db } from '../db/client';
import { hashedId } from '../shared/ids';
import { eraseAddress } from './erasure';

/**
 * Attacks on the round's check re-running a dead creation's last checks (`checkCreatedInvitations`):
 * nothing of an address erased while the creation wrote may stay, whatever else happened.
 */
const { db, linkSecret, mailer } = await isolatedTestDeps();
afterAll(() => db.client.destroy());

let n = 0;
async function agencyWithCampaign(at: Date) {
  const tag = `died-${++n}-${at.getTime()}`;
  const agency = await createAgency(db, { name: `Died creation ${tag}` }, at);
  const pro = await createPro(db, agency.agencyId, { name: 'Pat Pro', email: `pat-${tag}@agency.example` }, at);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, at);
  const person = { email: `Jane.${tag}@Outlet.example`, name: `Jane Target ${tag}`, outlet: `Target Gazette ${tag}` };
  return { agencyId: agency.agencyId, campaignId: campaign.campaignId, person, tag, needles: [person.email, person.name, person.outlet] };
}

type Command = { input: Record<string, unknown> };
const isInvitationBatch = (command: Command) =>
  command instanceof BatchExecuteStatementCommand && ((command.input.Statements as { Parameters?: unknown[] }[] | undefined) ?? []).some((s) => String(s.Parameters?.[1]).startsWith('INV#'));
const isSkippedBatch = (command: Command) =>
  command instanceof BatchWriteCommand && JSON.stringify(command.input.RequestItems).includes('"SKP#');
const isSkippedRoundsAdd = (command: Command) => command instanceof UpdateCommand && String(command.input.UpdateExpression).startsWith('SET #type = :type ADD rounds :round');

/**
 * The Db of a process that runs `before` just before the first call matching `beforeWhen` (another
 * request coming in between), and dies once the first call matching `dieAfter` landed.
 */
function dying(db: Db, { beforeWhen, before, dieAfter }: { beforeWhen: (c: Command) => boolean; before: () => Promise<unknown>; dieAfter: (c: Command) => boolean }): Db {
  let dead = false;
  let ran = false;
  const send = (async (command: Command, ...rest: unknown[]) => {
    if (dead) throw new Error('Injected fault: the process died');
    if (!ran && beforeWhen(command)) {
      ran = true;
      await before();
    }
    const result = await (db.doc.send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
    if (dieAfter(command)) dead = true;
    return result;
  }) as Db['doc']['send'];
  return { ...db, doc: Object.assign(Object.create(db.doc) as Db['doc'], { send }) };
}

/** The Db with every write matching `fails` answering a 500 (the round's check dies there). */
function failing(db: Db, fails: (c: Command) => boolean): Db {
  const send = (async (command: Command, ...rest: unknown[]) => {
    if (fails(command)) throw new Error('Injected fault: internal server error');
    return (db.doc.send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
  }) as Db['doc']['send'];
  return { ...db, doc: Object.assign(Object.create(db.doc) as Db['doc'], { send }) };
}

const later = (t0: Date, hours = 1) => new Date(t0.getTime() + hours * 60 * 60_000);
/** The round's check (the scheduled job) at `at`, then the jobs it queued delivered. */
async function checkAndDeliver(at: Date, on: Db = db) {
  const queue = collectingQueue();
  await checkRounds({ db: on, queue, records: recordedSends(db) }, at);
  for (const job of queue.jobs.filter((j) => j.kind === 'invitation')) await deliver(workerAt({ db, mailer, linkSecret }, at), job);
  return queue.jobs;
}

const invitationsOf = async (roundId: string) =>
  (await db.doc.send(new QueryCommand({ TableName: db.table, KeyConditionExpression: 'PK = :pk AND begins_with(SK, :inv)', ExpressionAttributeValues: { ':pk': `RND#${roundId}`, ':inv': 'INV#' }, ConsistentRead: true }))).Items ?? [];

describe('a creation that died after writing its invitations, with no retry', () => {
  // Its own checks (a stop or an erasure since its first read) never ran, and no job was queued:
  // the round's check finds the invitations once their queue lease is over.
  it('sends nothing to an address erased while it was writing, and leaves nothing of the person', async () => {
    const t0 = new Date();
    const { agencyId, campaignId, person, tag, needles } = await agencyWithCampaign(t0);
    const other = { email: `other-${tag}@outlet.example`, audience: 'reporter' as const };
    const dead = dying(db, { beforeWhen: isInvitationBatch, before: () => eraseAddress(db, agencyId, { email: person.email }, 'key_test', t0), dieAfter: isInvitationBatch });
    await expect(createRound(dead, agencyId, campaignId, { recipients: [{ ...person, audience: 'reporter' }, other] }, t0)).rejects.toThrow('the process died');
    await checkAndDeliver(later(t0));
    expect(await sesEmails({ to: person.email })).toEqual([]);
    expect(await itemsHolding(db, needles)).toEqual([]);
    // The other recipient is still surveyed.
    expect(await sesEmails({ to: other.email })).toHaveLength(1);
  });

  it('sends nothing of a round cancelled while it was writing: its invitations are skipped', async () => {
    const t0 = new Date();
    const { agencyId, campaignId, tag } = await agencyWithCampaign(t0);
    const recipients = [0, 1].map((i) => ({ email: `r${i}-${tag}@outlet.example`, audience: 'reporter' as const }));
    const roundId = hashedId('rnd', agencyId, `key-${tag}`);
    const dead = dying(db, { beforeWhen: isInvitationBatch, before: () => cancelRound(db, agencyId, roundId), dieAfter: isInvitationBatch });
    await expect(createRound(dead, agencyId, campaignId, { recipients }, t0, { idempotencyKey: `key-${tag}` })).rejects.toThrow('the process died');
    expect(await checkAndDeliver(later(t0))).toEqual([]);
    expect((await invitationsOf(roundId)).map((i) => i.status)).toEqual(['skipped', 'skipped']);
    for (const r of recipients) expect(await sesEmails({ to: r.email })).toEqual([]);
  });
});

describe('a creation that died after writing its invitations, attacked', () => {
  it('leaves nothing of an address erased while it wrote, when its round was also cancelled meanwhile', async () => {
    const t0 = new Date();
    const { agencyId, campaignId, person, tag, needles } = await agencyWithCampaign(t0);
    const other = { email: `other-${tag}@outlet.example`, audience: 'reporter' as const };
    const idempotencyKey = `key-${tag}`;
    const roundId = hashedId('rnd', agencyId, idempotencyKey);
    const dead = dying(db, {
      beforeWhen: isInvitationBatch,
      before: async () => {
        await cancelRound(db, agencyId, roundId);
        await eraseAddress(db, agencyId, { email: person.email }, 'key_test', t0);
      },
      dieAfter: isInvitationBatch,
    });
    await expect(createRound(dead, agencyId, campaignId, { recipients: [{ ...person, audience: 'reporter' }, other] }, t0, { idempotencyKey })).rejects.toThrow('the process died');
    expect(await checkAndDeliver(later(t0))).toEqual([]);
    expect((await invitationsOf(roundId)).map((i) => i.status)).toEqual(['skipped', 'skipped']);
    expect(await sesEmails({ to: person.email })).toEqual([]);
    expect(await itemsHolding(db, needles)).toEqual([]);
  });

  it('leaves nothing of an address erased while it wrote, when the round check itself fails between skipping the invitation and erasing its identity', async () => {
    const t0 = new Date();
    const { agencyId, campaignId, person, tag, needles } = await agencyWithCampaign(t0);
    const other = { email: `other-${tag}@outlet.example`, audience: 'reporter' as const };
    const idempotencyKey = `key-${tag}`;
    const roundId = hashedId('rnd', agencyId, idempotencyKey);
    const dead = dying(db, { beforeWhen: isInvitationBatch, before: () => eraseAddress(db, agencyId, { email: person.email }, 'key_test', t0), dieAfter: isInvitationBatch });
    await expect(createRound(dead, agencyId, campaignId, { recipients: [{ ...person, audience: 'reporter' }, other] }, t0, { idempotencyKey })).rejects.toThrow('the process died');
    // The check's write of the erased identity answers a 500 (the check ends there, to run again).
    const erasingIdentity = (c: Command) =>
      c instanceof UpdateCommand && String(c.input.UpdateExpression).startsWith('SET email = :erased') && (c.input.Key as { PK: string }).PK === `RND#${roundId}`;
    await checkAndDeliver(later(t0), failing(db, erasingIdentity)).catch(() => undefined);
    await checkAndDeliver(later(t0, 2));
    await checkAndDeliver(later(t0, 30));
    expect(await sesEmails({ to: person.email })).toEqual([]);
    expect(await sesEmails({ to: other.email })).toHaveLength(1);
    expect(await itemsHolding(db, needles)).toEqual([]);
  });

  it('leaves nothing of an address erased while it wrote, skipped as throttled, when it died after writing its skipped records', async () => {
    const t0 = new Date();
    const { agencyId, campaignId, person, tag, needles } = await agencyWithCampaign(t0);
    const other = { email: `other-${tag}@outlet.example`, audience: 'reporter' as const };
    // Surveyed a moment ago (and emailed): the new round skips the address as throttled and stores that record.
    const first = await createRound(db, agencyId, campaignId, { recipients: [{ ...person, audience: 'reporter' }] }, t0);
    for (const i of first.accepted) await deliver(workerAt({ db, mailer, linkSecret }, t0), { kind: 'invitation', roundId: first.round.roundId, invitationId: i.invitationId });
    // The erasure comes after the creation read the suppressions, before it adds its round to the
    // address's rounds; the creation dies once its skipped records landed, before reading them again.
    const dead = dying(db, { beforeWhen: isSkippedRoundsAdd, before: () => eraseAddress(db, agencyId, { email: person.email }, 'key_test', t0), dieAfter: isSkippedBatch });
    await expect(createRound(dead, agencyId, campaignId, { recipients: [{ ...person, audience: 'reporter' }, other] }, t0)).rejects.toThrow('the process died');
    await checkAndDeliver(later(t0));
    await checkAndDeliver(later(t0, 30));
    expect(await sesEmails({ to: other.email })).toHaveLength(1);
    expect(await itemsHolding(db, needles)).toEqual([]);
  });

  it('gives the throttle back to the recipients of a round cancelled while it wrote, never emailed (as a cancel, or the sender before this change, does)', async () => {
    const t0 = new Date();
    const { agencyId, campaignId, tag } = await agencyWithCampaign(t0);
    const recipients = [0, 1].map((i) => ({ email: `r${i}-${tag}@outlet.example`, audience: 'reporter' as const }));
    const idempotencyKey = `key-${tag}`;
    const roundId = hashedId('rnd', agencyId, idempotencyKey);
    const dead = dying(db, { beforeWhen: isInvitationBatch, before: () => cancelRound(db, agencyId, roundId), dieAfter: isInvitationBatch });
    await expect(createRound(dead, agencyId, campaignId, { recipients }, t0, { idempotencyKey })).rejects.toThrow('the process died');
    await checkAndDeliver(later(t0));
    expect((await invitationsOf(roundId)).map((i) => i.status)).toEqual(['skipped', 'skipped']);
    const again = await createRound(db, agencyId, campaignId, { recipients }, later(t0, 2));
    expect(again.skipped).toEqual([]);
  });

  it('gives the throttle back to the recipients of a round cancelled while a creation (alive) wrote (a gap before this change too)', async () => {
    const t0 = new Date();
    const { agencyId, campaignId, tag } = await agencyWithCampaign(t0);
    const recipients = [0, 1].map((i) => ({ email: `r${i}-${tag}@outlet.example`, audience: 'reporter' as const }));
    const idempotencyKey = `key-${tag}`;
    const roundId = hashedId('rnd', agencyId, idempotencyKey);
    const cancelling = dying(db, { beforeWhen: isInvitationBatch, before: () => cancelRound(db, agencyId, roundId), dieAfter: () => false });
    await createRound(cancelling, agencyId, campaignId, { recipients }, t0, { idempotencyKey });
    expect((await invitationsOf(roundId)).map((i) => i.status)).toEqual(['skipped', 'skipped']);
    const again = await createRound(db, agencyId, campaignId, { recipients }, later(t0, 2));
    expect(again.skipped).toEqual([]);
  });

  // Held (no change needed): attacks that found nothing, kept as regressions.
  it('sends nothing to an address erased after the first requeue (its job lost too), and leaves nothing of the person', async () => {
    const t0 = new Date();
    const { agencyId, campaignId, person, tag, needles } = await agencyWithCampaign(t0);
    const other = { email: `other-${tag}@outlet.example`, audience: 'reporter' as const };
    const dead = dying(db, { beforeWhen: isInvitationBatch, before: async () => undefined, dieAfter: isInvitationBatch });
    await expect(createRound(dead, agencyId, campaignId, { recipients: [{ ...person, audience: 'reporter' }, other] }, t0)).rejects.toThrow('the process died');
    // Requeued once, its jobs lost; the erasure comes before the second requeue.
    const queue = collectingQueue();
    await checkRounds({ db, queue, records: recordedSends(db) }, later(t0));
    expect(queue.jobs).toHaveLength(2);
    await eraseAddress(db, agencyId, { email: person.email }, 'key_test', later(t0, 1.1));
    await checkAndDeliver(later(t0, 3));
    for (const job of queue.jobs.filter((j) => j.kind === 'invitation')) await deliver(workerAt({ db, mailer, linkSecret }, later(t0, 3)), job);
    expect(await sesEmails({ to: person.email })).toEqual([]);
    expect(await sesEmails({ to: other.email })).toHaveLength(1);
    expect(await itemsHolding(db, needles)).toEqual([]);
  });

  it('sends nothing to an address erased while it wrote singly (the address had a state), and leaves nothing of the person', async () => {
    const t0 = new Date();
    const { agencyId, campaignId, person, tag, needles } = await agencyWithCampaign(t0);
    const other = { email: `other-${tag}@outlet.example`, audience: 'reporter' as const };
    // Surveyed long ago: the address has a state, so the new round writes it one by one (a Put).
    const old = new Date(t0.getTime() - 400 * 24 * 3_600_000);
    await createRound(db, agencyId, campaignId, { recipients: [{ ...person, audience: 'reporter' }] }, old);
    const isInvitationPut = (c: Command) => c.constructor.name === 'PutCommand' && String((c.input.Item as { SK?: string } | undefined)?.SK).startsWith('INV#');
    const dead = dying(db, { beforeWhen: isInvitationPut, before: () => eraseAddress(db, agencyId, { email: person.email }, 'key_test', t0), dieAfter: isInvitationPut });
    await expect(createRound(dead, agencyId, campaignId, { recipients: [{ ...person, audience: 'reporter' }, other] }, t0)).rejects.toThrow('the process died');
    await checkAndDeliver(later(t0));
    await checkAndDeliver(later(t0, 30));
    expect(await sesEmails({ to: person.email })).toEqual([]);
    expect(await itemsHolding(db, needles)).toEqual([]);
  });

  it('sends nothing to an address erased while it wrote, with two round checks at once, and leaves nothing of the person', async () => {
    const t0 = new Date();
    const { agencyId, campaignId, person, tag, needles } = await agencyWithCampaign(t0);
    const other = { email: `other-${tag}@outlet.example`, audience: 'reporter' as const };
    const dead = dying(db, { beforeWhen: isInvitationBatch, before: () => eraseAddress(db, agencyId, { email: person.email }, 'key_test', t0), dieAfter: isInvitationBatch });
    await expect(createRound(dead, agencyId, campaignId, { recipients: [{ ...person, audience: 'reporter' }, other] }, t0)).rejects.toThrow('the process died');
    const jobs = (await Promise.all([0, 1].map(() => checkAndDeliver(later(t0))))).flat();
    expect(jobs.filter((j) => j.kind === 'invitation')).toHaveLength(1);
    expect(await sesEmails({ to: person.email })).toEqual([]);
    expect(await sesEmails({ to: other.email })).toHaveLength(1);
    expect(await itemsHolding(db, needles)).toEqual([]);
  });
});

