import { afterAll, describe, expect, it } from 'vitest';
import { isolatedTestDeps, itemSize } from '@rapport/testing';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { INVITATIONS_PER_CALL } from '../db/page';
import type { Db } from '../db/client';
import { HELD_ANSWER_MAX_BYTES } from './held-answer';
import { keys } from '../db/keys';
import { createAgency, updateSettings } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { transitionInvitation } from '../sending/transition';
import { mapConcurrent } from '../db/batch';
import { createRound, deliveryStatus, listInvitations, roundProgress } from './round';
import { submitResponse } from './response';

/**
 * The invitation list (`listInvitations`: `GET /v1/surveys/{id}/invitations`, the console's round
 * page) on an anonymous round of invitations as large as the agency's input allows, answered with
 * long comments. DynamoDB stops a Query at 1 MB: a page read in one call would end early, and say
 * it was the last; and if answers were held on the invitations whatever their size, the shape of
 * the pages (how many invitations, whether a cursor follows) would change with what one person
 * answered, before the round closes (a helper's attack showed both, before answers held were
 * bounded, `HELD_ANSWER_MAX_BYTES`, and `queryPage` read on until its page is full).
 */
const { db } = await isolatedTestDeps();
afterAll(() => db.client.destroy());

const t0 = new Date('2031-06-02T09:00:00.000Z');
const at = (hours: number) => new Date(t0.getTime() + hours * 3_600_000);
/** 4 bytes in UTF-8, one code point: the longest text the 200/2,000 code point limits allow. */
const wide = (n: number) => '😀'.repeat(n);

/** An anonymous round of `size` reporters (names, outlets and the campaign's name as long as allowed), every invitation sent. */
async function bigRound(size: number, { longestAddress = false, campaignName = wide(200) } = {}) {
  const tag = `${Date.now()}`;
  // 64 characters before the @ and a domain of 55-character labels: 240 characters, about as long as an address may be (254).
  const address = (i: number) => (longestAddress ? `${`r${i}-${tag}-`.padEnd(64, 'x')}@${['a', 'b', 'c'].map((c) => c.repeat(55)).join('.')}.example` : `r${i}-${tag}@news.example`);
  const agency = await createAgency(db, { name: `Size ${tag}` }, t0);
  await updateSettings(db, agency.agencyId, { anonymityThreshold: 3 }, t0);
  const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, t0);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: campaignName }, t0);
  const recipients = Array.from({ length: size }, (_, i) => ({ email: address(i), audience: 'reporter', name: wide(200), outlet: wide(200) }));
  const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients, attribution: 'anonymous' }, t0);
  await mapConcurrent(accepted, 8, async (i) => expect(await transitionInvitation(db, round.roundId, i.invitationId, 'pending', 'sent', { set: { sentAt: at(0.5).toISOString() } })).toBe(true));
  return { round, refs: accepted.map((i) => ({ roundId: round.roundId, invitationId: i.invitationId })) };
}

/** What the agency may do: list a page of up to 100 invitations from any of them (a cursor is just the key of an invitation it was shown). */
const cursorAt = (roundId: string, invitationId: string) => Buffer.from(JSON.stringify({ PK: keys.round(roundId).PK, SK: `INV#${invitationId}` })).toString('base64url');

/** Every page of 100 the agency can ask for (from the start, and after each invitation), as it sees them. */
async function pageShapes(roundId: string, ids: string[]) {
  const starts = [undefined, ...ids];
  return mapConcurrent(starts, 4, async (after) => {
    const page = await listInvitations(db, roundId, { limit: 100, ...(after ? { cursor: cursorAt(roundId, after) } : {}) });
    return { after: after ?? null, shown: page.items.map((i) => `${i.invitationId}:${deliveryStatus(i)}`).join(','), more: page.nextCursor !== null };
  });
}

describe('the invitation list of a round whose invitations hold large answers', () => {
  it('shows the agency the same pages whether or not one person answered (at length), from any cursor', async () => {
    // 129 recipients the agency controls (its own addresses, say) answer with long comments; one, the target, has not answered yet.
    const { round, refs } = await bigRound(130);
    const [target, ...others] = refs;
    // Their comments of lengths the agency chose (1,700 to 2,000 code points), so that the pages' ends fall at varied places.
    await mapConcurrent(others, 8, (ref, i) => submitResponse(db, ref, { responsiveness: 4, improve: wide(1700 + ((i * 137) % 300)) }, at(1)));
    const ids = refs.map((r) => r.invitationId).sort();
    const before = await pageShapes(round.roundId, ids);
    // The target answers, with a long comment (2,000 code points; a short answer shifts the pages'
    // ends only when it lands within its size of one, which an agency answering the other
    // invitations itself can arrange: every held answer also carries the campaign's name, 800 B).
    await submitResponse(db, target!, { responsiveness: 3, improve: wide(2000) }, at(2));
    const after = await pageShapes(round.roundId, ids);
    const changed = after.filter((page, i) => page.shown !== before[i]!.shown || page.more !== before[i]!.more);
    expect(changed.map((p) => p.after), 'pages that changed because one person answered').toEqual([]);
  }, 120_000);

  it('lists every invitation by following the cursors', async () => {
    const { round, refs } = await bigRound(130);
    await mapConcurrent(refs, 8, (ref) => submitResponse(db, ref, { responsiveness: 4, improve: wide(2000) }, at(1)));
    const listed: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listInvitations(db, round.roundId, { limit: 100, ...(cursor ? { cursor } : {}) });
      listed.push(...page.items.map((i) => i.invitationId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(listed.length, 'invitations listed by following the cursors').toBe(refs.length);
  }, 120_000);

  it('reads a round\'s invitations in calls that stay under 1 MB, even the largest invitation holding the largest answer held', async () => {
    // (A campaign's name is copied into each answer: one as long as allowed leaves no room to hold any.)
    const { round, refs } = await bigRound(2, { longestAddress: true, campaignName: 'Launch' });
    const invitation = async (i: number) => (await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.invitation(round.roundId, refs[i]!.invitationId), ConsistentRead: true }))).Item!;
    const answers = { responsiveness: 4, recommend: 9, listening: 4, relevance: 5, followThrough: 3, quoteConsent: true };
    await submitResponse(db, refs[0]!, { ...answers, improve: 'x' }, at(1));
    const probe = Buffer.byteLength(JSON.stringify((await invitation(0)).heldAnswer));
    // The comment that makes the answer exactly as large as may be held.
    await submitResponse(db, refs[1]!, { ...answers, improve: 'x'.repeat(1 + HELD_ANSWER_MAX_BYTES - probe) }, at(1));
    const largest = await invitation(1);
    expect(Buffer.byteLength(JSON.stringify(largest.heldAnswer))).toBe(HELD_ANSWER_MAX_BYTES);
    // Room left for what an invitation may still gain (a reminder's flight and message id, a failure: a few hundred bytes).
    expect(itemSize(marshall(largest)) * INVITATIONS_PER_CALL).toBeLessThan(1024 * 1024 - 600 * INVITATIONS_PER_CALL);
  }, 60_000);

  it('reads a round\'s invitations in as many calls as their number asks, whatever they hold (a helper\'s attack timed the calls)', async () => {
    const { round, refs } = await bigRound(INVITATIONS_PER_CALL + 10, { campaignName: 'Launch' });
    const queries = { n: 0 };
    const counting: Db = { ...db, doc: Object.assign(Object.create(db.doc) as Db['doc'], { send: (command: { constructor: { name: string } }) => (command.constructor.name === 'QueryCommand' && queries.n++, (db.doc.send as (c: unknown) => Promise<unknown>)(command)) }) };
    const callsFor = async (read: () => Promise<unknown>) => {
      queries.n = 0;
      await read();
      return queries.n;
    };
    const before = await callsFor(() => roundProgress(counting, round.roundId));
    // Half answer, held on their invitations, with comments of every length that may be held.
    await mapConcurrent(refs.filter((_, i) => i % 2 === 0), 8, (ref, i) => submitResponse(db, ref, { responsiveness: 4, improve: 'x'.repeat(i * 3) }, at(1)));
    const after = await callsFor(() => roundProgress(counting, round.roundId));
    expect([before, after]).toEqual([2, 2]);
    expect((await roundProgress(db, round.roundId)).counts).toMatchObject({ responded: Math.ceil(refs.length / 2) });
  }, 120_000);
});
