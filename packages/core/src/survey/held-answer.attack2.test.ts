import { afterAll, describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { isolatedTestDeps } from '@rapport/testing';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { createAgency, updateSettings } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { transitionInvitation } from '../sending/transition';
import { mapConcurrent } from '../db/batch';
import { createRound, listInvitations, roundProgress } from './round';
import { submitResponse } from './response';

/**
 * Second attack on answers held on their invitations (`held-answer.ts`): what the agency can still
 * learn, before the close, from the reads of a round whose invitation items now carry answers.
 * `queryPage` reads on past DynamoDB's 1 MB cut, so a page's items no longer tell; but how many
 * calls a page takes (its latency) still follows what the items hold.
 */
const { db } = await isolatedTestDeps();
afterAll(() => db.client.destroy());

const t0 = new Date('2031-07-07T09:00:00.000Z');
const at = (hours: number) => new Date(t0.getTime() + hours * 3_600_000);
/** 4 bytes in UTF-8, one code point: the longest text the 200/2,000 code point limits allow. */
const wide = (n: number) => '😀'.repeat(n);

/** A Db that counts the Query calls sent through it. */
function queryCounting(real: Db) {
  let queries = 0;
  const send = (command: unknown) => {
    if (command instanceof QueryCommand) queries++;
    return (real.doc.send as (c: unknown) => Promise<unknown>)(command);
  };
  return {
    db: { ...real, doc: Object.assign(Object.create(real.doc) as Db['doc'], { send }) } as Db,
    take: () => {
      const n = queries;
      queries = 0;
      return n;
    },
  };
}

let n = 0;
/** An anonymous round of `size` reporters (names, outlets and campaign name as long as allowed), every invitation sent. */
async function bigRound(size: number, { earlyWarnings = false } = {}) {
  const tag = `${++n}-${Date.now()}`;
  const agency = await createAgency(db, { name: `Size ${tag}` }, t0);
  await updateSettings(db, agency.agencyId, { anonymityThreshold: 3, earlyWarnings }, t0);
  const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, t0);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: wide(200) }, t0);
  // Addresses of one length in every round, so that two rounds' items have the same sizes.
  const recipients = Array.from({ length: size }, (_, i) => ({ email: `r${String(i).padStart(4, '0')}-${String(n).padStart(3, '0')}@news.example`, audience: 'reporter', name: wide(200), outlet: wide(200) }));
  const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients, attribution: 'anonymous' }, t0);
  await mapConcurrent(accepted, 8, async (i) => expect(await transitionInvitation(db, round.roundId, i.invitationId, 'pending', 'sent', { set: { sentAt: at(0.5).toISOString() } })).toBe(true));
  // In the order the round's partition keeps them (by id): a page's items are neighbours in it.
  const refs = accepted.map((i) => ({ roundId: round.roundId, invitationId: i.invitationId })).sort((x, y) => (x.invitationId < y.invitationId ? -1 : 1));
  return { round, refs };
}

/** The invitation at this place in the partition is the person the agency wants to know about; it answers every other one itself. */
const TARGET = 60;
async function othersAnswer(refs: { roundId: string; invitationId: string }[], answers: (place: number) => Record<string, unknown>, target = TARGET) {
  await mapConcurrent(
    refs.map((ref, place) => ({ ref, place })).filter(({ place }) => place !== target),
    8,
    ({ ref, place }) => submitResponse(db, ref, answers(place), at(1)),
  );
}

const cursorAt = (roundId: string, invitationId: string) => Buffer.from(JSON.stringify({ PK: keys.round(roundId).PK, SK: `INV#${invitationId}` })).toString('base64url');

/**
 * How many Query calls each page of 100 the agency can ask for takes (from the start, and after
 * each invitation, in order), with what it shows: the calls are the page's latency, one DynamoDB
 * round trip each.
 */
async function pageCalls(roundId: string, pages = Infinity) {
  const counting = queryCounting(db);
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await listInvitations(db, roundId, { limit: 100, ...(cursor ? { cursor } : {}) });
    ids.push(...page.items.map((i) => i.invitationId));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  const calls: number[] = [];
  for (const after of [undefined, ...ids].slice(0, pages)) {
    counting.take();
    await listInvitations(counting.db, roundId, { limit: 100, ...(after ? { cursor: cursorAt(roundId, after) } : {}) });
    calls.push(counting.take());
  }
  return calls;
}

/** Comments the agency's own recipients give: lengths it chose so that pages of 101 invitations sit about DynamoDB's 1 MB. */
const ownComment = (i: number) => wide(1700 + ((i * 137) % 300));

describe('what the reads of an open round whose invitations hold answers still tell the agency', () => {
  it('a page of the invitation list takes as many DynamoDB calls (as long) whether or not one person answered', async () => {
    const { round, refs } = await bigRound(130);
    await othersAnswer(refs, (place) => ({ responsiveness: 4, improve: ownComment(place) }));
    const before = await pageCalls(round.roundId);
    await submitResponse(db, refs[TARGET]!, { responsiveness: 3, improve: wide(2000) }, at(2));
    const after = await pageCalls(round.roundId);
    const changed = after.map((calls, i) => ({ page: i, before: before[i], after: calls })).filter((p) => p.before !== p.after);
    expect(changed, 'pages whose DynamoDB calls (latency) changed because one person answered').toEqual([]);
  }, 120_000);

  it('with early warnings on, a page takes as many calls whether the person answered low (warned) or not', async () => {
    // Two rounds alike in every size; the same invitation of each answers, low in one, not in the other.
    // 200 recipients; the agency's own comments grow by 2 code points a place, so the sizes of
    // successive pages of 101 step by about 800 bytes across DynamoDB's 1 MB: some page ends within
    // a held answer's size of it, whatever the exact sizes.
    const target = 100;
    const a = await bigRound(200, { earlyWarnings: true });
    const b = await bigRound(200, { earlyWarnings: true });
    for (const r of [a, b]) await othersAnswer(r.refs, (place) => ({ responsiveness: 4, recommend: 9, improve: wide(1597 + 2 * place) }), target);
    // Neither answer has a comment; one is low (a detractor: early warning due), one is not.
    await submitResponse(db, a.refs[target]!, { responsiveness: 4, recommend: 9 }, at(2));
    await submitResponse(db, b.refs[target]!, { responsiveness: 1, recommend: 2 }, at(2));
    // The same pages of each round: every item of one the size of the same place's in the other, but the target's.
    // (The pages holding the target: from the start, and after each of the 100 invitations before it.)
    const [ofA, ofB] = [await pageCalls(a.round.roundId, target + 1), await pageCalls(b.round.roundId, target + 1)];
    const differ = ofA.map((calls, i) => ({ page: i, notLow: calls, low: ofB[i] })).filter((p) => p.notLow !== p.low);
    expect(differ, 'pages whose DynamoDB calls (latency) tell a low answer from another').toEqual([]);
  }, 180_000);

  it("reading a round's counts (GET /v1/surveys/{id}) takes as many calls whatever its answers say", async () => {
    // Two rounds alike; every recipient answers, the same scores; in one they leave comments.
    const a = await bigRound(130);
    const b = await bigRound(130);
    await mapConcurrent(a.refs, 8, (ref) => submitResponse(db, ref, { responsiveness: 4 }, at(1)));
    await mapConcurrent(b.refs, 8, (ref, i) => submitResponse(db, ref, { responsiveness: 4, improve: ownComment(i) }, at(1)));
    const counting = queryCounting(db);
    const progressA = await roundProgress(counting.db, a.round.roundId);
    const callsA = counting.take();
    const progressB = await roundProgress(counting.db, b.round.roundId);
    const callsB = counting.take();
    expect(progressA).toEqual(progressB);
    expect(callsB, 'Query calls behind the counts of a round whose answers carry comments, against one whose answers do not').toBe(callsA);
  }, 120_000);
});
