import { describe, expect, it } from 'vitest';
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { faultyDb, testDeps } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { ConflictError, ValidationError, NotFoundError } from '../shared/errors';
import { cancelRound, createRound, getRound, listInvitations, listRounds, previewRound, responseRate } from './round';
import { iso } from '../shared/time';
import { suppress } from './suppression';
import { transitionInvitation } from '../sending/transition';
import { deliver } from '../sending/dispatch';
import { keys } from '../db/keys';
import { addressHash } from './address';

const { db } = testDeps();
const t0 = new Date('2026-03-02T10:00:00.000Z');
const later = (days: number, hours = 0) => new Date(t0.getTime() + days * 86_400_000 + hours * 3_600_000);

let n = 0;
async function campaignFixture() {
  const agency = await createAgency(db, { name: `Round test ${++n}` }, t0);
  const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane${n}@acme.example` }, t0);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, t0);
  return { agencyId: agency.agencyId, campaignId: campaign.campaignId };
}

const storedInvitations = async (roundId: string) =>
  (
    await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
        ExpressionAttributeValues: { ':pk': `RND#${roundId}`, ':p': 'INV#' },
      }),
    )
  ).Items ?? [];

describe('creating a survey round', () => {
  it('accepts valid recipients and skips each other one with its reason', async () => {
    const { agencyId, campaignId } = await campaignFixture();
    const u = `r${n}`;
    await suppress(db, `gone-${u}@x.example`, 'bounced', { global: true }, t0);
    await suppress(db, `angry-${u}@x.example`, 'complained', { global: true }, t0);
    await suppress(db, `nope-${u}@x.example`, 'unsubscribed', { agencyId }, t0);
    const input = {
      recipients: [
        { email: `ana-${u}@news.example`, name: 'Ana', audience: 'reporter', outlet: 'The Daily' },
        { email: 'not an address', audience: 'client' },
        { email: ` ANA-${u}@news.example `, audience: 'colleague' },
        { email: `gone-${u}@x.example`, audience: 'client' },
        { email: `Angry-${u}@x.example`, audience: 'client' },
        { email: `nope-${u}@x.example`, audience: 'colleague' },
        { email: `bo-${u}@client.example`, audience: 'client' },
      ],
    };
    // The preview sorts them as creation will, and writes nothing.
    const preview = await previewRound(db, agencyId, campaignId, input, t0);
    expect((await listRounds(db, agencyId, campaignId, { limit: 10 })).items).toEqual([]);
    const { round, accepted, skipped } = await createRound(db, agencyId, campaignId, input, t0);
    expect(preview).toEqual({
      accepted: [
        { index: 0, email: `ana-${u}@news.example`, name: 'Ana', audience: 'reporter', outlet: 'The Daily' },
        { index: 6, email: `bo-${u}@client.example`, audience: 'client' },
      ],
      skipped,
    });
    expect(accepted.map((i) => [i.email, i.audience, i.name, i.outlet, i.status])).toEqual([
      [`ana-${u}@news.example`, 'reporter', 'Ana', 'The Daily', 'pending'],
      [`bo-${u}@client.example`, 'client', null, null, 'pending'],
    ]);
    expect(skipped).toEqual([
      { index: 1, email: 'not an address', reason: 'invalid' },
      { index: 2, email: `ANA-${u}@news.example`, reason: 'duplicate' },
      { index: 3, email: `gone-${u}@x.example`, reason: 'bounced' },
      { index: 4, email: `Angry-${u}@x.example`, reason: 'complained' },
      { index: 5, email: `nope-${u}@x.example`, reason: 'unsubscribed' },
    ]);
    expect(round).toMatchObject({ attribution: 'anonymous', status: 'open', proName: 'Jane Doe', campaignName: 'Spring Launch' });
    expect(round.closesAt).toBe('2026-03-16T10:00:00.000Z');
    expect(await getRound(db, agencyId, round.roundId)).toMatchObject({ counts: { pending: 2, sent: 0, responded: 0 } });
    expect((await storedInvitations(round.roundId)).map((i) => i.email).sort()).toEqual([`ana-${u}@news.example`, `bo-${u}@client.example`]);
  });

  it('throttles per audience window and never twice within 24 hours, across rounds', async () => {
    const { agencyId, campaignId } = await campaignFixture();
    const u = `t${n}`;
    const send = (audience: string, when: Date) =>
      createRound(db, agencyId, campaignId, { recipients: [{ email: `pat-${u}@x.example`, audience }] }, when);
    expect((await send('colleague', t0)).accepted).toHaveLength(1);
    // Within 24 hours: refused for any audience, until the day is over.
    expect((await send('client', later(0, 23))).skipped).toEqual([{ index: 0, email: `pat-${u}@x.example`, reason: 'throttled', until: iso(later(1)) }]);
    // After a day, a client survey is fine (the client window has not started), a colleague one is not (30 days).
    expect((await send('client', later(2))).accepted).toHaveLength(1);
    expect((await send('colleague', later(20))).skipped[0]).toMatchObject({ reason: 'throttled', until: iso(later(30)) });
    expect((await send('colleague', later(31))).accepted).toHaveLength(1);
    expect((await send('client', later(60))).skipped[0]?.reason).toBe('throttled');
    expect((await send('client', later(93))).accepted).toHaveLength(1);
  });

  it('lets only one of two concurrent rounds take an address', async () => {
    const { agencyId, campaignId } = await campaignFixture();
    const recipients = [{ email: `race-${n}@x.example`, audience: 'reporter' }];
    const results = await Promise.all([1, 2, 3].map(() => createRound(db, agencyId, campaignId, { recipients }, t0)));
    expect(results.map((r) => r.accepted.length).sort()).toEqual([0, 0, 1]);
    expect(results.flatMap((r) => r.skipped.map((s) => s.reason))).toEqual(['throttled', 'throttled']);
  });

  it('gives each of 60 shared addresses to exactly one of two concurrent rounds, however their writes interleave', async () => {
    const { agencyId, campaignId } = await campaignFixture();
    // Lists in opposite orders, so the two rounds' writes meet part-way.
    const shared = Array.from({ length: 60 }, (_, i) => ({ email: `shared${i}-${n}@x.example`, audience: 'reporter' }));
    const own = (tag: string) => Array.from({ length: 10 }, (_, i) => ({ email: `${tag}${i}-${n}@x.example`, audience: 'reporter' }));
    const [a, b] = await Promise.all([
      createRound(db, agencyId, campaignId, { recipients: [...own('a'), ...shared] }, t0),
      createRound(db, agencyId, campaignId, { recipients: [...shared.slice().reverse(), ...own('b')] }, t0),
    ]);
    const emails = (r: typeof a) => r.accepted.map((i) => i.email);
    const sharedEmails = shared.map((r) => r.email);
    expect([...emails(a), ...emails(b)].filter((e) => sharedEmails.includes(e)).sort()).toEqual([...sharedEmails].sort());
    expect(a.accepted.length + b.accepted.length).toBe(80);
    expect([...a.skipped, ...b.skipped].every((s) => s.reason === 'throttled' && sharedEmails.includes(s.email))).toBe(true);
    expect(a.skipped.length + b.skipped.length).toBe(60);
    for (const r of [a, b]) expect((await getRound(db, agencyId, r.round.roundId)).counts.pending).toBe(r.accepted.length);
  });

  it('writes a new address whose state appeared after the read (its insert refused) one by one, under the throttle rule', async () => {
    const { agencyId, campaignId } = await campaignFixture();
    const [listed, plain] = [`listed-${n}@x.example`, `plain-${n}@x.example`];
    const faulty = faultyDb(db);
    // Before the batch of reservations (write 3): another round's skip record names the address (no dates).
    faulty.beforeWrite(3, () =>
      db.doc.send(
        new UpdateCommand({
          TableName: db.table,
          Key: keys.recipientState(agencyId, addressHash(listed)),
          UpdateExpression: 'SET #type = :type ADD rounds :round',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: { ':type': 'recipientState', ':round': new Set(['rnd_other']) },
        }),
      ),
    );
    const created = await createRound(faulty.db, agencyId, campaignId, { recipients: [listed, plain].map((email) => ({ email, audience: 'client' })) }, t0);
    faulty.disarm();
    expect(created.skipped).toEqual([]);
    expect(created.accepted.map((i) => i.email)).toEqual([listed, plain]);
    expect(await storedInvitations(created.round.roundId)).toHaveLength(2);
    const state = (await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.recipientState(agencyId, addressHash(listed)), ConsistentRead: true }))).Item!;
    expect(state).toMatchObject({ rounds: new Set(['rnd_other', created.round.roundId]), client: iso(t0), lastAny: iso(t0), heldBy: created.round.roundId, heldBefore: { lastAny: null, client: null } });
    // A new round for both a moment later: each throttled by this one.
    const again = await createRound(db, agencyId, campaignId, { recipients: [listed, plain].map((email) => ({ email, audience: 'client' })) }, later(0, 1));
    expect(again.skipped.map((s) => [s.email, s.reason])).toEqual([[listed, 'throttled'], [plain, 'throttled']]);
  });

  it("takes as its own what an overlapping attempt with its key wrote between its write of the round and its read of the addresses: none throttled by its own round", async () => {
    const { agencyId, campaignId } = await campaignFixture();
    const recipients = Array.from({ length: 30 }, (_, i) => ({ email: `overlap${i}-${n}@x.example`, audience: 'reporter' }));
    // The attempt that writes the round pauses once it has, and the other attempt runs whole.
    let other: ReturnType<typeof createRound> | undefined;
    const send = (async (command: unknown, ...rest: unknown[]) => {
      const result = await (db.doc.send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
      if (command instanceof TransactWriteCommand && other === undefined) await (other = createRound(db, agencyId, campaignId, { recipients }, later(0, 0.01), { idempotencyKey: 'k-overlap' }));
      return result;
    }) as typeof db.doc.send;
    const pausing = { ...db, doc: Object.assign(Object.create(db.doc) as typeof db.doc, { send }) };
    const first = await createRound(pausing, agencyId, campaignId, { recipients }, t0, { idempotencyKey: 'k-overlap' });
    const second = await other!;
    expect(second.skipped).toEqual([]);
    expect(first.skipped).toEqual([]);
    expect(first.accepted.map((i) => i.invitationId)).toEqual(second.accepted.map((i) => i.invitationId));
    expect(first.accepted.map((i) => i.email)).toEqual(recipients.map((r) => r.email));
    expect(await storedInvitations(first.round.roundId)).toHaveLength(30);
  });

  it('makes one round of overlapping attempts with one Idempotency-Key: each invitation written once, none of them throttled', async () => {
    const { agencyId, campaignId } = await campaignFixture();
    const recipients = Array.from({ length: 60 }, (_, i) => ({ email: `same${i}-${n}@x.example`, audience: 'reporter' }));
    const attempts = await Promise.all([t0, later(0, 0.01), later(0, 0.02)].map((at) => createRound(db, agencyId, campaignId, { recipients }, at, { idempotencyKey: 'k1' })));
    const [first] = attempts;
    for (const attempt of attempts) {
      expect(attempt.round.roundId).toBe(first!.round.roundId);
      expect(attempt.round.createdAt).toBe(first!.round.createdAt);
      expect(attempt.accepted.map((i) => i.invitationId)).toEqual(first!.accepted.map((i) => i.invitationId));
      expect(attempt.skipped).toEqual([]);
    }
    expect(first!.accepted.map((i) => i.email)).toEqual(recipients.map((r) => r.email));
    expect((await getRound(db, agencyId, first!.round.roundId)).counts.pending).toBe(60);
    expect(await storedInvitations(first!.round.roundId)).toHaveLength(60);
  });

  describe('a creation that dies between a reservation and its invitation (a fault injected into the invitation\'s write)', () => {
    // One recipient: the round's transaction, its WORK touch, the reservation, then the invitation (write 4).
    const dieBeforeInvitation = async (agencyId: string, campaignId: string, email: string, at: Date, idempotencyKey?: string) => {
      const faulty = faultyDb(db);
      faulty.failWrite(4);
      await expect(createRound(faulty.db, agencyId, campaignId, { recipients: [{ email, audience: 'reporter' }] }, at, { idempotencyKey })).rejects.toThrow('Injected fault');
    };
    const stateOf = async (agencyId: string, email: string) =>
      (await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.recipientState(agencyId, addressHash(email)), ConsistentRead: true }))).Item!;

    it('its retry with the key takes the reservation as its own, and keeps the dates from before it', async () => {
      const { agencyId, campaignId } = await campaignFixture();
      const email = `held-${n}@x.example`;
      const first = await createRound(db, agencyId, campaignId, { recipients: [{ email, audience: 'reporter' }] }, t0);
      await dieBeforeInvitation(agencyId, campaignId, email, later(100), 'k-held');
      const state = await stateOf(agencyId, email);
      expect(state).toMatchObject({ lastAny: iso(later(100)), reporter: iso(later(100)), heldAt: iso(later(100)), heldBefore: { lastAny: iso(t0), reporter: iso(t0) } });
      expect(await storedInvitations(state.heldBy as string)).toEqual([]);

      const retry = await createRound(db, agencyId, campaignId, { recipients: [{ email, audience: 'reporter' }] }, later(100, 0.1), { idempotencyKey: 'k-held' });
      expect(retry.round.roundId).toBe(state.heldBy);
      expect(retry.skipped).toEqual([]);
      expect(retry.accepted.map((i) => [i.email, i.throttleBefore])).toEqual([[email, { lastAny: iso(t0), audience: iso(t0) }]]);
      expect(await storedInvitations(retry.round.roundId)).toHaveLength(1);
      // Cancelled, the round gives back the dates of the first round, not its own.
      await cancelRound(db, agencyId, retry.round.roundId);
      expect(await stateOf(agencyId, email)).toMatchObject({ lastAny: iso(t0), reporter: iso(t0) });
      expect(first.accepted).toHaveLength(1);
    });

    it('without a key, the address stays taken through the creation window, then is as it was before the reservation', async () => {
      const { agencyId, campaignId } = await campaignFixture();
      const email = `orphan-${n}@x.example`;
      await createRound(db, agencyId, campaignId, { recipients: [{ email, audience: 'reporter' }] }, t0);
      await dieBeforeInvitation(agencyId, campaignId, email, later(100));
      const orphanedBy = (await stateOf(agencyId, email)).heldBy as string;
      const send = (at: Date) => createRound(db, agencyId, campaignId, { recipients: [{ email, audience: 'reporter' }] }, at);
      // Within the window its creation may still be writing: throttled by it.
      expect((await send(later(100, 0.2))).skipped).toEqual([{ index: 0, email, reason: 'throttled', until: iso(later(100 + 90)) }]);
      // After it, the dates from before the reservation count: the first round's, long past.
      const taken = await send(later(100, 0.3));
      expect(taken.skipped).toEqual([]);
      expect(taken.accepted.map((i) => i.throttleBefore)).toEqual([{ lastAny: iso(t0), audience: iso(t0) }]);
      expect(await stateOf(agencyId, email)).toMatchObject({ heldBy: taken.round.roundId, lastAny: iso(later(100, 0.3)), heldBefore: { lastAny: iso(t0), reporter: iso(t0) } });
      expect(await storedInvitations(orphanedBy)).toEqual([]);
      // And the new round's reservation throttles as any does.
      expect((await send(later(101))).skipped[0]).toMatchObject({ reason: 'throttled', until: iso(later(100 + 90, 0.3)) });
    });

    it('an orphan of one audience taken over by a round of another gives the first audience its date back', async () => {
      const { agencyId, campaignId } = await campaignFixture();
      const email = `other-audience-${n}@x.example`;
      await dieBeforeInvitation(agencyId, campaignId, email, t0);
      const send = (audience: string, at: Date) => createRound(db, agencyId, campaignId, { recipients: [{ email, audience }] }, at);
      const colleague = await send('colleague', later(0, 0.5));
      expect(colleague.skipped).toEqual([]);
      expect(await stateOf(agencyId, email)).toMatchObject({ heldBy: colleague.round.roundId, colleague: iso(later(0, 0.5)), heldBefore: { lastAny: null, colleague: null } });
      expect(await stateOf(agencyId, email)).not.toHaveProperty('reporter');
      // Never surveyed as a reporter: only the 24 hours since the colleague round hold it back.
      expect((await send('reporter', later(2))).skipped).toEqual([]);
    });

    it('an orphan of one audience outlived by a later round of another (past the 24 hours): the first audience is free once the orphan is found', async () => {
      const { agencyId, campaignId } = await campaignFixture();
      const email = `later-audience-${n}@x.example`;
      await dieBeforeInvitation(agencyId, campaignId, email, t0);
      const send = (audience: string, at: Date) => createRound(db, agencyId, campaignId, { recipients: [{ email, audience }] }, at);
      expect((await send('colleague', later(2))).skipped).toEqual([]);
      expect(await stateOf(agencyId, email)).not.toHaveProperty('reporter');
      expect((await send('reporter', later(4))).skipped).toEqual([]);
    });

    it('an orphan taken by another round while its own round resumes: one of the two gets it, the other counts it throttled', async () => {
      const { agencyId, campaignId } = await campaignFixture();
      const email = `contested-${n}@x.example`;
      await dieBeforeInvitation(agencyId, campaignId, email, t0, 'k-contested');
      const recipients = [{ email, audience: 'reporter' }];
      // The other round reads the orphan; the first round's retry lands before its reservation.
      const faulty = faultyDb(db);
      let resumed: Awaited<ReturnType<typeof createRound>> | undefined;
      faulty.beforeWrite(3, async () => {
        resumed = await createRound(db, agencyId, campaignId, { recipients }, later(0, 0.5), { idempotencyKey: 'k-contested' });
      });
      const other = await createRound(faulty.db, agencyId, campaignId, { recipients }, later(0, 0.5));
      faulty.disarm();
      expect(resumed!.accepted.map((i) => i.email)).toEqual([email]);
      expect(other.accepted).toEqual([]);
      expect(other.skipped).toEqual([{ index: 0, email, reason: 'throttled' }]);
      expect(await storedInvitations(other.round.roundId)).toEqual([]);
      expect(await storedInvitations(resumed!.round.roundId)).toHaveLength(1);
    });
  });

  it("refuses an Idempotency-Key that began another request's round, and keeps agencies' keys apart", async () => {
    const mine = await campaignFixture();
    const theirs = await campaignFixture();
    const body = (who: string) => ({ recipients: [{ email: `${who}-${n}@x.example`, audience: 'client' }] });
    const { round } = await createRound(db, mine.agencyId, mine.campaignId, body('a'), t0, { idempotencyKey: 'k1' });
    // Once the API's record of the key has expired, only the round tells the requests apart.
    await expect(createRound(db, mine.agencyId, mine.campaignId, body('b'), later(2), { idempotencyKey: 'k1' })).rejects.toBeInstanceOf(ConflictError);
    expect((await createRound(db, mine.agencyId, mine.campaignId, body('a'), later(2), { idempotencyKey: 'k1' })).round).toMatchObject({ roundId: round.roundId, createdAt: round.createdAt });
    expect((await createRound(db, theirs.agencyId, theirs.campaignId, body('a'), t0, { idempotencyKey: 'k1' })).round.roundId).not.toBe(round.roundId);
  });

  it('refuses a bad audience or too many recipients naming the field, and writes nothing', async () => {
    const { agencyId, campaignId } = await campaignFixture();
    const bad = createRound(db, agencyId, campaignId, { recipients: [{ email: 'a@x.example', audience: 'reporter' }, { email: 'b@x.example', audience: 'editor' }] }, t0);
    await expect(bad).rejects.toMatchObject({ issues: [{ field: 'recipients.1.audience', message: 'must be reporter, colleague or client' }] });
    const many = Array.from({ length: 2001 }, (_, i) => ({ email: `m${i}@x.example`, audience: 'client' }));
    await expect(createRound(db, agencyId, campaignId, { recipients: many }, t0)).rejects.toBeInstanceOf(ValidationError);
    await expect(createRound(db, agencyId, 'cmp_01JAAAAAAAAAAAAAAAAAAAAAAA', { recipients: [{ email: 'a@x.example', audience: 'client' }] }, t0)).rejects.toBeInstanceOf(NotFoundError);
    // The first recipient was never taken: a valid round for it is still accepted.
    expect((await createRound(db, agencyId, campaignId, { recipients: [{ email: 'a@x.example', audience: 'reporter' }] }, t0)).accepted).toHaveLength(1);
  });

  it("hides another agency's round and pages invitations", async () => {
    const mine = await campaignFixture();
    const theirs = await campaignFixture();
    const recipients = Array.from({ length: 5 }, (_, i) => ({ email: `p${i}-${n}@x.example`, audience: 'client' }));
    const { round } = await createRound(db, mine.agencyId, mine.campaignId, { recipients }, t0);
    await expect(getRound(db, theirs.agencyId, round.roundId)).rejects.toBeInstanceOf(NotFoundError);
    const first = await listInvitations(db, round.roundId, { limit: 3 });
    const second = await listInvitations(db, round.roundId, { limit: 3, cursor: first.nextCursor! });
    expect([...first.items, ...second.items].map((i) => i.email).sort()).toEqual(recipients.map((r) => r.email).sort());
    expect(second.nextCursor).toBeNull();
  });

  it('computes the response rate over delivered invitations only', () => {
    const counts = { pending: 4, sending: 0, sent: 6, responded: 3, bounced: 5, failed: 1, expired: 1, skipped: 2 };
    expect(responseRate(counts)).toBe(30);
    expect(responseRate({ ...counts, sent: 0, responded: 0, expired: 0 })).toBeNull();
  });

  it('gives the throttle back to recipients a cancelled round never emailed, and only to them', async () => {
    const { agencyId, campaignId } = await campaignFixture();
    const email = (who: string) => `${who}-cancel-${n}@x.example`;
    // Zed was surveyed 200 days before: outside the window, but the date is kept.
    await createRound(db, agencyId, campaignId, { recipients: [{ email: email('zed'), audience: 'client' }] }, later(-200));
    const first = await createRound(db, agencyId, campaignId, {
      recipients: ['amy', 'bob', 'zed'].map((who) => ({ email: email(who), audience: 'client' })),
    }, t0);
    // Bob's email went out before the cancel (the sender's claim and send, done by hand here).
    const bob = first.accepted.find((i) => i.email === email('bob'))!;
    await transitionInvitation(db, first.round.roundId, bob.invitationId, 'pending', 'sending');
    await transitionInvitation(db, first.round.roundId, bob.invitationId, 'sending', 'sent');

    const cancelled = await cancelRound(db, agencyId, first.round.roundId);
    expect(cancelled).toMatchObject({ status: 'cancelled', counts: { pending: 0, sent: 1, skipped: 2 } });
    const again = await createRound(db, agencyId, campaignId, { recipients: ['amy', 'bob', 'zed'].map((who) => ({ email: email(who), audience: 'client' })) }, later(0, 1));
    expect(again.accepted.map((i) => i.email).sort()).toEqual([email('amy'), email('zed')]);
    expect(again.skipped).toEqual([{ index: 1, email: email('bob'), reason: 'throttled', until: iso(later(90)) }]);
    // Cancelling again changes nothing more.
    expect((await cancelRound(db, agencyId, first.round.roundId)).counts).toEqual(cancelled.counts);
  });

  it('cancels a big round in groups, each skip with its throttle given back; a send claimed meanwhile and a throttle a later round took are left as they are', async () => {
    const { agencyId, campaignId } = await campaignFixture();
    const email = (i: number) => `big${i}-cancel-${n}@x.example`;
    const recipients = Array.from({ length: 120 }, (_, i) => ({ email: email(i), audience: 'client' as const }));
    const first = await createRound(db, agencyId, campaignId, { recipients }, t0);
    // The sender claimed #60 (in the second group) before the cancel; a later round took #10's dates.
    const claimed = first.accepted.find((i) => i.email === email(60))!;
    await transitionInvitation(db, first.round.roundId, claimed.invitationId, 'pending', 'sending');
    const taken = iso(later(1));
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.recipientState(agencyId, addressHash(email(10))),
        UpdateExpression: 'SET lastAny = :t, client = :t',
        ExpressionAttributeValues: { ':t': taken },
      }),
    );
    const cancelled = await cancelRound(db, agencyId, first.round.roundId);
    expect(cancelled.counts).toMatchObject({ pending: 0, sending: 1, skipped: 119 });
    const again = await createRound(db, agencyId, campaignId, { recipients }, later(0, 1));
    // Everyone's throttle came back but for #60 (it may have been emailed) and #10 (a later round's).
    expect(again.skipped.map((s) => [s.index, s.reason])).toEqual([
      [10, 'throttled'],
      [60, 'throttled'],
    ]);
    expect(again.accepted).toHaveLength(118);
  });

  it('gives the throttle back when a queued send finds the round cancelled before the cancel reaches it', async () => {
    const { agencyId, campaignId } = await campaignFixture();
    const email = `race-cancel-${n}@x.example`;
    const { round, accepted } = await createRound(db, agencyId, campaignId, { recipients: [{ email, audience: 'client' }] }, t0);
    // The round is marked cancelled; before the cancel goes through its invitations, the send job runs.
    await db.doc.send(new UpdateCommand({ TableName: db.table, Key: { PK: `RND#${round.roundId}`, SK: 'RND' }, UpdateExpression: 'SET #s = :c', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':c': 'cancelled' } }));
    const delivery = { db, mailer: { send: async () => Promise.reject(new Error('must not send')) }, linkSecret: 'x'.repeat(32), publicUrl: 'http://localhost:3000', mailFrom: 'a@b.example', now: () => later(0, 1) };
    expect(await deliver(delivery, { kind: 'invitation', roundId: round.roundId, invitationId: accepted[0]!.invitationId })).toBe('skipped');
    await cancelRound(db, agencyId, round.roundId);
    const again = await createRound(db, agencyId, campaignId, { recipients: [{ email, audience: 'client' }] }, later(0, 2));
    expect(again.accepted.map((i) => i.email)).toEqual([email]);
  });
});
