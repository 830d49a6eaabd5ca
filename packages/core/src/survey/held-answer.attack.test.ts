import { afterAll, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { isolatedTestDeps } from '@rapport/testing';
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
import { getResponse, submitResponse } from './response';

/**
 * Attacks on the anonymous first answer held on its invitation (`held-answer.ts`). Each test that
 * fails here is a bug found.
 *
 * The move of a held answer (`settleHeldAnswer`) is two writes: a Put of the response "unless a
 * cut-off run wrote it" (`attribute_not_exists(PK)`), then the REMOVE of the held copy. The Put is
 * conditional on nothing of the invitation: a mover that read the held copy and is slow (a
 * duplicate close job, an erasure request retried after a gateway timeout) puts the answer back
 * under its old key after someone else moved it there *and something moved it away again*: an
 * erasure's `unlinkReleasedAnswer`, or the release's move of an answer marked `unlinkOnRelease`.
 */
const { db } = await isolatedTestDeps();
afterAll(() => db.client.destroy());

const t0 = new Date('2031-05-05T09:00:00.000Z');
const at = (hours: number) => new Date(t0.getTime() + hours * 3_600_000);
const afterClose = (round: Round) => new Date(new Date(round.closesAt).getTime() + 60_000);

let n = 0;
/** An agency (anonymity threshold k) with an anonymous round of `size` reporters, every invitation sent. */
async function sentRound(size: number, { k = 3 } = {}) {
  const tag = `${++n}-${Date.now()}`;
  const agency = await createAgency(db, { name: `Held attack ${tag}` }, t0);
  await updateSettings(db, agency.agencyId, { anonymityThreshold: k }, t0);
  const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, t0);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, t0);
  const recipients = Array.from({ length: size }, (_, i) => ({ email: `r${i}-${tag}@news.example`, audience: 'reporter' }));
  const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients, attribution: 'anonymous' }, t0);
  for (const i of accepted) expect(await transitionInvitation(db, round.roundId, i.invitationId, 'pending', 'sent', { set: { sentAt: at(0.5).toISOString() } })).toBe(true);
  const refs = accepted.map((i) => ({ roundId: round.roundId, invitationId: i.invitationId }));
  return { agencyId: agency.agencyId, proId: pro.proId, round, refs, emails: accepted.map((i) => i.email) };
}

const getItem = async (key: { PK: string; SK: string }) => (await db.doc.send(new GetCommand({ TableName: db.table, Key: key, ConsistentRead: true }))).Item;
async function partition(roundId: string): Promise<Record<string, unknown>[]> {
  const { Items } = await db.doc.send(new QueryCommand({ TableName: db.table, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': keys.round(roundId).PK }, ConsistentRead: true }));
  return Items ?? [];
}
const responsesOf = async (roundId: string) => (await partition(roundId)).filter((i) => i.type === 'response');

/** A Db whose commands go through `around` (which sends them on, or not). */
function hooked(real: Db, around: (command: unknown, send: (command: unknown) => Promise<unknown>) => Promise<unknown>): Db {
  const send = (command: unknown) => (real.doc.send as (c: unknown) => Promise<unknown>)(command);
  return { ...real, doc: Object.assign(Object.create(real.doc) as Db['doc'], { send: (command: unknown) => around(command, send) }) };
}

/** The first write of a held answer's move to `RSP#<invitationId>`: its Put (as `settleHeldAnswer` is written), or a transaction putting it and taking the held copy off. */
const movesHeld = (command: unknown, invitationId: string) =>
  (command instanceof PutCommand && command.input.Item?.SK === `RSP#${invitationId}` && command.input.ConditionExpression === 'attribute_not_exists(PK)') ||
  (command instanceof TransactWriteCommand &&
    (command.input.TransactItems ?? []).some((t) => t.Put?.Item?.SK === `RSP#${invitationId}`) &&
    (command.input.TransactItems ?? []).some((t) => String(t.Update?.UpdateExpression ?? '').includes('REMOVE heldAnswer')));

/** A Db that holds the held answer's move (the Put of `RSP#<invitationId>`) until `resume()`; `reached` once it is held. */
function pausingSettle(real: Db, invitationId: string) {
  let resume!: () => void;
  let reached!: () => void;
  const held = new Promise<void>((r) => (resume = r));
  const atPut = new Promise<void>((r) => (reached = r));
  let done = false;
  const db = hooked(real, async (command, send) => {
    if (!done && movesHeld(command, invitationId)) {
      done = true;
      reached();
      await held;
    }
    return send(command);
  });
  return { db, reached: atPut, resume };
}

const comment = 'Jane never calls back; I was the one she ignored in March.';

describe('a slow mover of a held answer puts it back after it was moved away (settleHeldAnswer is not conditional on the held copy)', () => {
  it('a duplicate close job, slow, puts an erased person\'s released answer back under the key their address gives, comment included', async () => {
    const { agencyId, round, refs, emails } = await sentRound(3, { k: 3 });
    const x = refs[0]!;
    await submitResponse(db, x, { responsiveness: 2, recommend: 3, improve: comment }, at(1));
    await submitResponse(db, refs[1]!, { responsiveness: 4 }, at(1));
    await submitResponse(db, refs[2]!, { responsiveness: 5 }, at(1));
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
    expect((await responsesOf(round.roundId)).length).toBe(3);
  });

  it('an erasure request retried (the first one slow) leaves a copy of the answer under the address\'s key, never released', async () => {
    const { agencyId, round, refs, emails } = await sentRound(3, { k: 3 });
    const x = refs[0]!;
    await submitResponse(db, x, { responsiveness: 2, recommend: 3, improve: comment }, at(1));
    await submitResponse(db, refs[1]!, { responsiveness: 4 }, at(1));
    await submitResponse(db, refs[2]!, { responsiveness: 5 }, at(1));
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
    expect((await responsesOf(round.roundId)).length).toBe(3);
  });

  it('with a close cut off while marking rows, the resurrected copy is released a second time by finishReleases: the batch lists 4 rows for 3 answers, the erased comment twice', async () => {
    const { agencyId, proId, round, refs, emails } = await sentRound(3, { k: 3 });
    const x = refs[0]!;
    await submitResponse(db, x, { responsiveness: 2, recommend: 3, improve: comment }, at(1));
    await submitResponse(db, refs[1]!, { responsiveness: 4 }, at(1));
    await submitResponse(db, refs[2]!, { responsiveness: 5 }, at(1));
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
