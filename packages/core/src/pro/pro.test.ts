import { afterAll, describe, expect, it } from 'vitest';
import { sesEmails, testDeps, workerAt } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { createCampaign } from '../campaign/campaign';
import { deliver } from '../sending/dispatch';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../db/keys';
import { createRound, getRound } from '../survey/round';
import { createPro, reactivatePro, updatePro } from './pro';
import { erasePro, FORMER_PRO_NAME } from '../rights/pro-erasure';
import { ConflictError } from '../shared/errors';
import { resolveSession, startSession } from '../access/session';
import { consumeSignInToken, createSignInToken, loginHash } from '../access/login';

const { db, mailer, linkSecret } = testDeps();
afterAll(() => db.client.destroy());

describe('updatePro', () => {
  it("gives the pro's open rounds the corrected name and address: a reminder of a named round sent before the change replies to the new address", async () => {
    const t0 = new Date('2031-03-03T09:00:00.000Z');
    const agency = await createAgency(db, { name: 'Renames' }, t0);
    const tag = agency.agencyId.slice(4).toLowerCase();
    const [typo, fixed] = [`jnae-${tag}@acme.example`, `jane-${tag}@acme.example`];
    const pro = await createPro(db, agency.agencyId, { name: 'Jnae Doe', email: typo }, t0);
    const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, t0);
    const reporter = `ann-${tag}@news.example`;
    const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { attribution: 'named', recipients: [{ email: reporter, audience: 'reporter' }] }, t0);
    const ref = { roundId: round.roundId, invitationId: accepted[0]!.invitationId };
    expect(await deliver(workerAt({ db, mailer, linkSecret }, t0), { kind: 'invitation', ...ref })).toBe('sent');

    await updatePro(db, agency.agencyId, pro.proId, { name: 'Jane Doe', email: fixed }, t0);
    expect(await getRound(db, agency.agencyId, round.roundId)).toMatchObject({ proName: 'Jane Doe', proEmail: fixed });

    const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.invitation(ref.roundId, ref.invitationId), ConsistentRead: true }));
    const nextReminderAt = Item!.nextReminderAt as string;
    const dueAt = new Date(nextReminderAt);
    expect(await deliver(workerAt({ db, mailer, linkSecret }, dueAt), { kind: 'reminder', ...ref, dueAt: nextReminderAt })).toBe('sent');
    const [invitation, reminder] = await sesEmails({ to: reporter });
    expect(invitation!.replyTo).toEqual([`"Jnae Doe" <${typo}>`]);
    expect(reminder!.replyTo).toEqual([`"Jane Doe" <${fixed}>`]);
  });

  it('signs out the sessions begun under the old address when the address is corrected (whoever read the typo\'s mailbox), and only then', async () => {
    const t0 = new Date('2031-04-04T09:00:00.000Z');
    const agency = await createAgency(db, { name: 'Typo sessions' }, t0);
    const tag = agency.agencyId.slice(4).toLowerCase();
    const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jnae-${tag}@acme.example` }, t0);
    const identity = { kind: 'pro' as const, agencyId: agency.agencyId, proId: pro.proId };
    const stranger = await startSession(db, identity, t0);
    // A change of name only keeps the session.
    await updatePro(db, agency.agencyId, pro.proId, { name: 'Jane A. Doe' }, new Date(t0.getTime() + 60_000));
    expect(await resolveSession(db, stranger.sessionId, new Date(t0.getTime() + 61_000))).toMatchObject({ kind: 'pro', name: 'Jane A. Doe' });

    const fixedAt = new Date(t0.getTime() + 120_000);
    await updatePro(db, agency.agencyId, pro.proId, { email: `jane-${tag}@acme.example` }, fixedAt);
    expect(await resolveSession(db, stranger.sessionId, new Date(fixedAt.getTime() + 1000))).toBeNull();
    // The pro signs in again, at the corrected address: that session holds.
    const own = await startSession(db, identity, new Date(fixedAt.getTime() + 2000));
    expect(await resolveSession(db, own.sessionId, new Date(fixedAt.getTime() + 3000))).toMatchObject({ kind: 'pro', email: `jane-${tag}@acme.example` });
  });

  it('ends a session begun from a link to the old address when the correction lands between the link\'s use and the session\'s start (the link read the old address; the mark is older than the session)', async () => {
    const t0 = new Date('2031-04-05T09:00:00.000Z');
    const at = (ms: number) => new Date(t0.getTime() + ms);
    const agency = await createAgency(db, { name: 'Typo race' }, t0);
    const tag = agency.agencyId.slice(4).toLowerCase();
    const typo = `jnae-${tag}@acme.example`;
    const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: typo }, t0);
    const identity = { kind: 'pro' as const, agencyId: agency.agencyId, proId: pro.proId };
    const token = await createSignInToken(db, identity, loginHash(typo), undefined, at(1000));
    const used = await consumeSignInToken(db, token, at(2000));
    expect(used).toMatchObject({ identity, login: loginHash(typo) });
    await updatePro(db, agency.agencyId, pro.proId, { email: `jane-${tag}@acme.example` }, at(3000));
    const late = await startSession(db, identity, at(4000), { login: used!.login });
    expect(await resolveSession(db, late.sessionId, at(5000))).toBeNull();
    // A change of letter case is the same mailbox: a session from the new address holds through it.
    const token2 = await createSignInToken(db, identity, loginHash(`jane-${tag}@acme.example`), undefined, at(6000));
    const own = await startSession(db, identity, at(7000), { login: (await consumeSignInToken(db, token2, at(6500)))!.login });
    await updatePro(db, agency.agencyId, pro.proId, { email: `Jane-${tag}@Acme.example` }, at(8000));
    expect(await resolveSession(db, own.sessionId, at(9000))).toMatchObject({ kind: 'pro', email: `Jane-${tag}@Acme.example` });
  });

  it('refuses to write a name or an address back onto an erased pro, or to reactivate it (409), which would undo the erasure', async () => {
    const t0 = new Date('2031-05-05T09:00:00.000Z');
    const agency = await createAgency(db, { name: 'Erased pros' }, t0);
    const tag = agency.agencyId.slice(4).toLowerCase();
    const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, t0);
    await erasePro(db, agency.agencyId, pro.proId, t0);
    await expect(updatePro(db, agency.agencyId, pro.proId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, t0)).rejects.toThrow(ConflictError);
    // Nor made active again: a "Former pro" with no address would be sent rounds and summaries.
    await expect(reactivatePro(db, agency.agencyId, pro.proId, t0)).rejects.toThrow(ConflictError);
    const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.pro(agency.agencyId, pro.proId), ConsistentRead: true }));
    expect(Item).toMatchObject({ name: FORMER_PRO_NAME, email: '' });
    // The address is free: no claim was written back.
    const again = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, t0);
    expect(again.proId).not.toBe(pro.proId);
  });
});
