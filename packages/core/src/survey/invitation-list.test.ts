import { afterAll, describe, expect, it } from 'vitest';
import { isolatedTestDeps } from '@rapport/testing';
import { keys } from '../db/keys';
import { createAgency, updateSettings } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { transitionInvitation } from '../sending/transition';
import { mapConcurrent } from '../db/batch';
import { createRound, deliveryStatus, listInvitations } from './round';
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
async function bigRound(size: number) {
  const tag = `${Date.now()}`;
  const agency = await createAgency(db, { name: `Size ${tag}` }, t0);
  await updateSettings(db, agency.agencyId, { anonymityThreshold: 3 }, t0);
  const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, t0);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: wide(200) }, t0);
  const recipients = Array.from({ length: size }, (_, i) => ({ email: `r${i}-${tag}@news.example`, audience: 'reporter', name: wide(200), outlet: wide(200) }));
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

  it('lists every invitation by following the cursors, pages cut at 1 MB read on', async () => {
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
});
