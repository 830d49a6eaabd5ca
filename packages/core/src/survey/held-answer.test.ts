import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { faultyDb, isolatedTestDeps, recomputeAggregate } from '@rapport/testing';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { createAgency, updateSettings } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { closeRound } from '../jobs/expiry';
import { eraseAddress } from '../rights/erasure';
import { transitionInvitation } from '../sending/transition';
import { batchesReleased, finishReleases, rowsReleased } from '../release/release';
import { createRound, type Round } from './round';
import { getResponse, openInvitation, submitResponse, type Answers, type SurveyResponse } from './response';
import type { InvitationRef } from './token';
import { responseItem } from './response-item';
import { HELD_ANSWER_MAX_BYTES, settleHeldAnswer, settleHeldAnswers } from './held-answer';

/**
 * An anonymous first answer to a `sent` invitation, held on the invitation (`held-answer.ts`), on
 * DynamoDB Local: what is stored, how it moves to its own item, and that a move cut off or raced
 * loses nothing and counts nothing twice. A table of its own: `finishReleases` sweeps the whole
 * rows-due index.
 */
const { db } = await isolatedTestDeps();
afterAll(() => db.client.destroy());
const t0 = new Date('2031-03-03T09:00:00.000Z');
const at = (hours: number) => new Date(t0.getTime() + hours * 3_600_000);
const afterClose = (round: Round) => new Date(new Date(round.closesAt).getTime() + 60_000);

let n = 0;
/** An agency (anonymity threshold k) with an anonymous round of `size` reporters, every invitation sent. */
async function sentRound(size: number, { k = 3, earlyWarnings = false } = {}) {
  const tag = `${++n}-${Date.now()}`;
  const agency = await createAgency(db, { name: `Held ${tag}` }, t0);
  await updateSettings(db, agency.agencyId, { anonymityThreshold: k, earlyWarnings }, t0);
  const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, t0);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, t0);
  const recipients = Array.from({ length: size }, (_, i) => ({ email: `r${i}-${tag}@news.example`, audience: 'reporter' }));
  const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients, attribution: 'anonymous' }, t0);
  for (const i of accepted) expect(await transitionInvitation(db, round.roundId, i.invitationId, 'pending', 'sent', { set: { sentAt: at(0.5).toISOString() } })).toBe(true);
  const refs = accepted.map((i) => ({ roundId: round.roundId, invitationId: i.invitationId }));
  return { agencyId: agency.agencyId, proId: pro.proId, round, refs, emails: accepted.map((i) => i.email) };
}

const getItem = async (key: { PK: string; SK: string }) => (await db.doc.send(new GetCommand({ TableName: db.table, Key: key, ConsistentRead: true }))).Item;
/** Every item of a round's partition. */
async function partition(roundId: string): Promise<Record<string, unknown>[]> {
  const { Items } = await db.doc.send(new QueryCommand({ TableName: db.table, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': keys.round(roundId).PK }, ConsistentRead: true }));
  return Items ?? [];
}
const responsesOf = async (roundId: string) => (await partition(roundId)).filter((i) => i.type === 'response');
const heldOf = async (roundId: string) => (await partition(roundId)).filter((i) => i.heldAnswer !== undefined);

/** A Db whose commands go through `around` (which sends them on, or not). */
function hooked(real: Db, around: (command: unknown, send: (command: unknown) => Promise<unknown>) => Promise<unknown>): Db {
  const send = (command: unknown) => (real.doc.send as (c: unknown) => Promise<unknown>)(command);
  return { ...real, doc: Object.assign(Object.create(real.doc) as Db['doc'], { send: (command: unknown) => around(command, send) }) };
}

/** The move of a held answer to `RSP#<invitationId>`: the transaction putting it and taking the held copy off. */
const movesHeld = (command: unknown, invitationId: string) =>
  command instanceof TransactWriteCommand &&
  (command.input.TransactItems ?? []).some((t) => t.Put?.Item?.SK === `RSP#${invitationId}`) &&
  (command.input.TransactItems ?? []).some((t) => String(t.Update?.UpdateExpression ?? '').includes('REMOVE heldAnswer'));

/** A Db that holds the held answer's move until `resume()`; `reached` once it is held. */
function pausingSettle(real: Db, invitationId: string) {
  let resume!: () => void;
  let reached!: () => void;
  const held = new Promise<void>((r) => (resume = r));
  const atMove = new Promise<void>((r) => (reached = r));
  let done = false;
  const db = hooked(real, async (command, send) => {
    if (!done && movesHeld(command, invitationId)) {
      done = true;
      reached();
      await held;
    }
    return send(command);
  });
  return { db, reached: atMove, resume };
}

/** A Db that records the name of every command it sends. */
function countingDb(real: Db) {
  const sent: string[] = [];
  const send = (command: { constructor: { name: string } }) => {
    sent.push(command.constructor.name);
    return (real.doc.send as (c: unknown) => Promise<unknown>)(command);
  };
  return { db: { ...real, doc: Object.assign(Object.create(real.doc) as Db['doc'], { send }) } as Db, sent };
}

/** A Db whose every write goes through and then throws, as if its answer were lost on the way back. */
function answerLostDb(real: Db): Db {
  const send = async (command: { constructor: { name: string } }) => {
    const result = await (real.doc.send as (c: unknown) => Promise<unknown>)(command);
    if (/^(Put|Update|Delete|TransactWrite)Command$/.test(command.constructor.name)) throw new Error('Injected fault: answer lost');
    return result;
  };
  return { ...real, doc: Object.assign(Object.create(real.doc) as Db['doc'], { send }) } as Db;
}

describe('an anonymous first answer held on its invitation', () => {
  it('is one read and one conditional update: the invitation answered, holding the answer; no response item yet', async () => {
    const { round, refs } = await sentRound(2);
    const counting = countingDb(db);
    const response = await submitResponse(counting.db, refs[0]!, { responsiveness: 4, recommend: 9, improve: 'Calls back.' }, at(1));
    expect(counting.sent).toEqual(['BatchGetCommand', 'UpdateCommand']);
    const invitation = await getItem(keys.invitation(round.roundId, refs[0]!.invitationId));
    expect(invitation).toMatchObject({ status: 'responded', answeredFrom: 'sent', respondedAt: at(1).toISOString(), nextReminderAt: null, heldAnswer: responseItem(response) });
    expect(response).toMatchObject({ revision: 1, attribution: 'anonymous', respondent: null, answers: { responsiveness: 4, recommend: 9, improve: 'Calls back.', quoteConsent: false } });
    expect(await getItem(keys.response(round.roundId, refs[0]!.invitationId))).toBeUndefined();
    // Read back as the answer; the invitation as read carries none of it.
    expect(await getResponse(db, refs[0]!)).toEqual(response);
    const opened = await openInvitation(db, refs[0]!);
    expect(opened.response).toEqual(response);
    expect(opened.invitation).not.toHaveProperty('heldAnswer');
  });

  it('is not held when long (a comment past the bound): written in the transaction, so invitations stay small', async () => {
    const { round, refs } = await sentRound(1);
    const improve = 'Answers late, and only by email. '.repeat(30).trim();
    const response = await submitResponse(db, refs[0]!, { responsiveness: 3, improve }, at(1));
    expect(Buffer.byteLength(JSON.stringify(responseItem(response)))).toBeGreaterThan(HELD_ANSWER_MAX_BYTES);
    expect(await heldOf(round.roundId)).toEqual([]);
    expect(await getItem(keys.response(round.roundId, refs[0]!.invitationId))).toMatchObject({ revision: 1, answers: { improve } });
    expect(await getItem(keys.invitation(round.roundId, refs[0]!.invitationId))).toMatchObject({ status: 'responded', answeredFrom: 'sent' });
  });

  it('moves to its own item with a revision, in the revision transaction', async () => {
    const { round, refs } = await sentRound(1);
    const first = await submitResponse(db, refs[0]!, { responsiveness: 2 }, at(1));
    const second = await submitResponse(db, refs[0]!, { responsiveness: 5, recommend: 10 }, at(2));
    expect(second).toMatchObject({ revision: 2, firstSubmittedAt: first.submittedAt, answers: { responsiveness: 5, recommend: 10 } });
    expect(await heldOf(round.roundId)).toEqual([]);
    expect((await responsesOf(round.roundId)).map((r) => [r.invitationId, r.revision, r.answers])).toEqual([[refs[0]!.invitationId, 2, second.answers]]);
    expect(await getResponse(db, refs[0]!)).toEqual(second);
  });

  it('goes in a transaction with its early warning when it is low and the agency is warned: nothing is held', async () => {
    const { round, refs } = await sentRound(1, { earlyWarnings: true });
    await submitResponse(db, refs[0]!, { responsiveness: 1, recommend: 2 }, at(1));
    expect(await heldOf(round.roundId)).toEqual([]);
    expect(await getItem(keys.response(round.roundId, refs[0]!.invitationId))).toMatchObject({ revision: 1 });
    expect(await getItem(keys.warningDue(round.roundId, refs[0]!.invitationId, 1))).toMatchObject({ type: 'warningDue' });
  });

  it('is moved by the close before the release: the batch holds every answer once, and none stays held', async () => {
    const { agencyId, proId, round, refs } = await sentRound(4, { k: 3 });
    const given = [{ responsiveness: 5, recommend: 10 }, { responsiveness: 4, recommend: 8 }, { responsiveness: 2, recommend: 3 }];
    for (const [i, answers] of given.entries()) await submitResponse(db, refs[i]!, answers, at(1 + i));
    expect(await heldOf(round.roundId)).toHaveLength(3);
    expect(await closeRound(db, round.roundId, afterClose(round))).toBe(true);
    expect(await heldOf(round.roundId)).toEqual([]);
    const rows = await responsesOf(round.roundId);
    expect(rows.map((r) => r.revision)).toEqual([1, 1, 1]);
    expect(rows.every((r) => (r.release as { batchId?: string } | undefined)?.batchId !== undefined)).toBe(true);
    const batches = await batchesReleased(db, agencyId, proId, '0', '~');
    expect(batches.map((b) => [b.size, b.k, b.aggregate])).toEqual([[3, 3, recomputeAggregate(given as Answers[], 3)]]);
  });

  it('a move cut off (the engine failing it, or its answer lost once it committed) is done again by the next: read as one answer, revised once, released once', async () => {
    const { agencyId, proId, round, refs } = await sentRound(3, { k: 3 });
    for (const ref of refs) await submitResponse(db, ref, { responsiveness: 3 }, at(1));
    const held = (await getResponse(db, refs[0]!))!;
    // Failed by the engine: nothing moved, the answer still held.
    const faulty = faultyDb(db);
    faulty.failWrite(1);
    await expect(settleHeldAnswer(faulty.db, held)).rejects.toThrow(/Injected fault/);
    expect(await getItem(keys.response(round.roundId, refs[0]!.invitationId))).toBeUndefined();
    expect(await getItem(keys.invitation(round.roundId, refs[0]!.invitationId))).toHaveProperty('heldAnswer');
    // Committed, its answer lost: moved; the mover's next run does nothing.
    await expect(settleHeldAnswer(answerLostDb(db), held)).rejects.toThrow(/answer lost/);
    expect(await getItem(keys.response(round.roundId, refs[0]!.invitationId))).toMatchObject({ revision: 1 });
    expect(await getItem(keys.invitation(round.roundId, refs[0]!.invitationId))).not.toHaveProperty('heldAnswer');
    await settleHeldAnswer(db, held);
    expect(await getResponse(db, refs[0]!)).toEqual(held);
    // Revised where it is now (its own item), and another one revised while held.
    expect((await submitResponse(db, refs[0]!, { responsiveness: 5 }, at(2))).revision).toBe(2);
    expect((await submitResponse(db, refs[1]!, { responsiveness: 4 }, at(2))).revision).toBe(2);
    expect((await heldOf(round.roundId)).map((i) => i.invitationId)).toEqual([refs[2]!.invitationId]);
    expect(await closeRound(db, round.roundId, afterClose(round))).toBe(true);
    expect(await heldOf(round.roundId)).toEqual([]);
    expect((await responsesOf(round.roundId)).map((r) => r.revision).sort()).toEqual([1, 2, 2]);
    const [batch] = await batchesReleased(db, agencyId, proId, '0', '~');
    expect(batch).toMatchObject({ size: 3, aggregate: recomputeAggregate([{ responsiveness: 5 }, { responsiveness: 4 }, { responsiveness: 3 }] as Answers[], 3) });
  });

  it('an erasure of the address moves it first, then treats it as any unreleased anonymous answer: its comment goes, nothing is held', async () => {
    const { agencyId, round, refs, emails } = await sentRound(2);
    await submitResponse(db, refs[0]!, { responsiveness: 4, improve: 'Reply faster to jane@example.com' }, at(1));
    await eraseAddress(db, agencyId, { email: emails[0] }, 'key_admin', at(2));
    expect(await heldOf(round.roundId)).toEqual([]);
    const rows = await responsesOf(round.roundId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ revision: 1, answers: { responsiveness: 4 }, unlinkOnRelease: true });
    expect(rows[0]!.answers).not.toHaveProperty('improve');
    // Its link now answers as closed, and nothing of the person's is written again.
    await expect(submitResponse(db, refs[0]!, { responsiveness: 1 }, at(3))).rejects.toThrow();
    expect(await heldOf(round.roundId)).toEqual([]);
  });

  it('exactly once, whatever runs alongside: revisions, moves (some cut off), an erasure and the close, in any order (fast-check)', async () => {
    type Move = { kind: 'submit'; who: number; responsiveness: number } | { kind: 'settle'; who: number; cut: 'no' | 'failed' | 'lost' } | { kind: 'erase'; who: number };
    const move: fc.Arbitrary<Move> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('submit' as const), who: fc.nat(2), responsiveness: fc.integer({ min: 1, max: 5 }) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('settle' as const), who: fc.nat(2), cut: fc.constantFrom('no' as const, 'failed' as const, 'lost' as const) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('erase' as const), who: fc.nat(2) }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(move, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }), fc.boolean(), async (waves, closeAlongside) => {
        const { agencyId, proId, round, refs, emails } = await sentRound(3, { k: 3 });
        /** Per recipient, the answers accepted, in revision order; and whether they were erased. */
        const accepted = refs.map(() => new Map<number, SurveyResponse>());
        const erased = new Set<number>();
        const run = async (m: Move) => {
          if (m.kind === 'submit') {
            const r = await submitResponse(db, refs[m.who]!, { responsiveness: m.responsiveness }, at(1)).catch(() => null);
            if (r) accepted[m.who]!.set(r.revision, r);
          } else if (m.kind === 'settle') {
            // (Gone when an erasure moved the invitation off its key.)
            const held = (await openInvitation(db, refs[m.who]!, { consistent: true }).catch(() => null))?.held;
            if (!held) return;
            const faulty = faultyDb(db);
            if (m.cut === 'failed') faulty.failWrite(1);
            await settleHeldAnswer(m.cut === 'lost' ? answerLostDb(db) : faulty.db, held).catch(() => undefined);
          } else {
            erased.add(m.who);
            await eraseAddress(db, agencyId, { email: emails[m.who] }, 'key_admin', at(1));
          }
        };
        for (const [w, wave] of waves.entries()) {
          const closing = closeAlongside && w === waves.length - 1 ? closeRound(db, round.roundId, afterClose(round)) : null;
          await Promise.all(wave.map(run));
          await closing;
        }
        expect(await closeRound(db, round.roundId, afterClose(round))).toBe(!closeAlongside);
        expect(await settleHeldAnswers(db, round.roundId)).toBe(0);
        const rows = await responsesOf(round.roundId);
        // Every recipient with an accepted answer has one row, of its last accepted revision (an
        // erased one's moved off its key, so matched by revision and answers).
        const answered = accepted.map((revisions, who) => ({ who, last: [...revisions.values()].sort((a, b) => b.revision - a.revision)[0] })).filter((a) => a.last);
        expect(rows).toHaveLength(answered.length);
        for (const { who, last } of answered) {
          const row = erased.has(who) ? rows.find((r) => r.revision === last!.revision && (r.answers as { responsiveness: number }).responsiveness === last!.answers.responsiveness) : rows.find((r) => r.invitationId === refs[who]!.invitationId);
          expect(row).toMatchObject({ revision: last!.revision, answers: { responsiveness: last!.answers.responsiveness } });
          // Revisions are consecutive: none was lost between two accepted ones.
          expect([...accepted[who]!.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: last!.revision }, (_, i) => i + 1));
        }
        // Released in a batch of the round when all three answered (k = 3), else kept in the pool.
        const released = (await batchesReleased(db, agencyId, proId, '0', '~')).map((b) => b.size);
        expect(released).toEqual(answered.length === 3 ? [3] : []);
      }),
      { numRuns: Number(process.env.HELD_ANSWER_RUNS ?? 12), endOnFailure: true },
    );
  }, 120_000);
});

const comment = 'Jane never calls back; I was the one she ignored in March.';

/**
 * A mover that read a held answer and is slow (a duplicate close job, an erasure request retried
 * after a gateway timeout) must not put it back after someone else moved it and something moved
 * it away again (an erasure's `unlinkReleasedAnswer`, the release's move of an answer marked
 * `unlinkOnRelease`): the move is one transaction, conditional on the held copy.
 */
/** A round of three (k = 3), each answered and held; `x` is the person whose answer has a comment. */
async function threeAnswered() {
  const fixture = await sentRound(3, { k: 3 });
  const [x, y, z] = fixture.refs as [InvitationRef, InvitationRef, InvitationRef];
  await submitResponse(db, x, { responsiveness: 2, recommend: 3, improve: comment }, at(1));
  await submitResponse(db, y, { responsiveness: 4 }, at(1));
  await submitResponse(db, z, { responsiveness: 5 }, at(1));
  return { ...fixture, x };
}

describe('a slow mover of a held answer', () => {
  it('a duplicate close job, slow, does not put an erased person\'s released answer back under the key their address gives', async () => {
    const { agencyId, round, emails, x } = await threeAnswered();
    // Close job 1 reads the round's held answers, then is slow before moving the person's.
    const slow = pausingSettle(db, x.invitationId);
    const first = closeRound(slow.db, round.roundId, afterClose(round));
    await slow.reached;
    // Close job 2 (queued again by the next sweep: "harmless") closes the round and releases its batch.
    expect(await closeRound(db, round.roundId, afterClose(round))).toBe(true);
    // The person asks to be erased: their released answer stays published, moved off its key.
    await eraseAddress(db, agencyId, { email: emails[0] }, 'key_admin', at(2000));
    expect(await getItem(keys.response(round.roundId, x.invitationId))).toBeUndefined();
    // Close job 1 goes on.
    slow.resume();
    await first;
    // Nothing of the person's answer may be under the key their address gives (hashedId('inv', round, hash(address))).
    const resurrected = await getItem(keys.response(round.roundId, x.invitationId));
    expect(resurrected, 'an answer under the erased address\'s key, after the erasure completed').toBeUndefined();
    expect(await getResponse(db, x)).toBeNull();
    // Three people answered: three rows.
    expect((await responsesOf(round.roundId))).toHaveLength(3);
  });

  it('an erasure request retried (the first one slow) leaves no copy of the answer under the address\'s key', async () => {
    const { agencyId, round, emails, x } = await threeAnswered();
    // The erasure request: it closes the invitation, reads the held answer, and is slow before moving it.
    const slow = pausingSettle(db, x.invitationId);
    const firstRequest = eraseAddress(slow.db, agencyId, { email: emails[0] }, 'key_admin', at(2));
    await slow.reached;
    // The round closes meanwhile (it moves the held answer, releases the batch).
    expect(await closeRound(db, round.roundId, afterClose(round))).toBe(true);
    // The client, timed out, sends the same erasure again: it runs to the end.
    await eraseAddress(db, agencyId, { email: emails[0] }, 'key_admin', at(2000));
    expect(await getItem(keys.response(round.roundId, x.invitationId))).toBeUndefined();
    slow.resume();
    expect((await firstRequest).erasure.status).toBe('done');
    expect(await getItem(keys.response(round.roundId, x.invitationId)), 'a second copy of the answer under the erased address\'s key').toBeUndefined();
    expect((await responsesOf(round.roundId))).toHaveLength(3);
  });

  it('with a close cut off while marking rows, the sweep that finishes them publishes the batch\'s 3 rows once each, the erased comment once', async () => {
    const { agencyId, proId, round, emails, x } = await threeAnswered();
    const slow = pausingSettle(db, x.invitationId);
    const first = closeRound(slow.db, round.roundId, afterClose(round));
    await slow.reached;
    // Close job 2 releases the batch and marks its rows, then dies before the batch leaves the rows-due index.
    let cut = false;
    const dying = hooked(db, async (command, send) => {
      if (!cut && command instanceof TransactWriteCommand && (command.input.TransactItems ?? []).some((t) => t.Update?.UpdateExpression === 'REMOVE GSI2PK, GSI2SK')) {
        cut = true;
        throw new Error('Injected: the close dies after marking its rows');
      }
      return send(command);
    });
    await expect(closeRound(dying, round.roundId, afterClose(round))).rejects.toThrow(/Injected/);
    await eraseAddress(db, agencyId, { email: emails[0] }, 'key_admin', at(2000));
    slow.resume();
    await first;
    // The scheduled sweep finishes the batch's rows.
    await finishReleases(db);
    const [batch] = await batchesReleased(db, agencyId, proId, '0', '~');
    expect(batch).toMatchObject({ size: 3 });
    const rows = (await rowsReleased(db, agencyId, proId, '0', '~')).filter((r) => r.release?.batchId === batch!.batchId);
    expect(rows.filter((r) => r.answers.improve === comment).length, 'the erased person\'s comment published twice').toBeLessThanOrEqual(1);
    expect(rows.length, 'rows published for a batch of 3').toBe(3);
  });
});
