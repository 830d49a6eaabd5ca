import { describe, expect, it } from 'vitest';
import { createAgency, createCampaign, createPro, createRound, getResponse, IMPROVE_MAX_LENGTH, recordCommitment, signInvitationToken, submitResponse } from '@rapport/core';
import { testDeps } from '@rapport/testing';
import { createApp } from '../api/app';

const deps = testDeps();
const app = createApp(deps);
let n = 0;

async function link() {
  const now = deps.now();
  const tag = `${++n}-${now.getTime()}`;
  const agency = await createAgency(deps.db, { name: `Form ${tag}` }, now);
  const pro = await createPro(deps.db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, now);
  const campaign = await createCampaign(deps.db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, now);
  const { round, accepted } = await createRound(deps.db, agency.agencyId, campaign.campaignId, { recipients: [{ email: `r-${tag}@news.example`, audience: 'reporter' }] }, now);
  const ref = { roundId: round.roundId, invitationId: accepted[0]!.invitationId };
  return { ref, path: `/s/${signInvitationToken(deps.linkSecret, ref)}` };
}

const post = (path: string, form: Record<string, string>) =>
  app.request(path, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });

describe('the comment on the survey page', () => {
  it(`takes ${IMPROVE_MAX_LENGTH} characters however they are written: emoji and astral letters count one each`, async () => {
    expect(IMPROVE_MAX_LENGTH).toBe(2000);
    const { ref, path } = await link();
    const page = await (await app.request(path)).text();
    expect(page).toContain('<textarea id="improve" name="improve">');
    const comment = `${'😀'.repeat(1000)}${'𝒜'.repeat(1000)}`;
    const res = await post(path, { responsiveness: '4', improve: comment });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<h1>Thank you</h1>');
    expect((await getResponse(deps.db, ref))!.answers.improve).toBe(comment);
  });

  it('refuses 2,001 characters on the page itself, naming the field and keeping what was written, storing nothing', async () => {
    const { ref, path } = await link();
    const comment = '😀'.repeat(2001);
    const res = await post(path, { responsiveness: '4', improve: comment });
    expect(res.status).toBe(400);
    expect(res.headers.get('Content-Type')).toBe('text/html; charset=UTF-8');
    const page = await res.text();
    expect(page).toContain('<p class="error" id="improve-error">Please shorten your comment to at most 2,000 characters (it has 2,001).</p>');
    expect(page).toContain('<textarea id="improve" name="improve" aria-invalid="true" aria-describedby="improve-error">');
    expect(page).toContain(comment);
    expect(await getResponse(deps.db, ref)).toBeNull();
  });
});

describe('the commitment on the survey page', () => {
  it('says "last time you told us" only to someone who answered this pro by name before; anyone else gets a neutral sentence', async () => {
    const now = deps.now();
    const tag = `${++n}-${now.getTime()}`;
    const agency = await createAgency(deps.db, { name: `Returning ${tag}` }, now);
    const pro = await createPro(deps.db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, now);
    const other = await createPro(deps.db, agency.agencyId, { name: 'Omar Haddad', email: `omar-${tag}@acme.example` }, now);
    const campaign = await createCampaign(deps.db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, now);
    const otherCampaign = await createCampaign(deps.db, agency.agencyId, { proId: other.proId, name: 'Gala' }, now);
    const [named, anonymous, silent] = ['named', 'anon', 'silent'].map((who) => `${who}-${tag}@news.example`) as [string, string, string];
    const first = async (attribution: string, email: string, answer: boolean) => {
      const { round, accepted } = await createRound(deps.db, agency.agencyId, campaign.campaignId, { attribution, recipients: [{ email, audience: 'reporter' }] }, now);
      if (answer) await submitResponse(deps.db, { roundId: round.roundId, invitationId: accepted[0]!.invitationId }, { responsiveness: 3 }, now);
    };
    await first('named', named, true);
    await first('anonymous', anonymous, true);
    await first('named', silent, false);
    const later = new Date(now.getTime() + 400 * 86_400_000);
    await recordCommitment(deps.db, agency.agencyId, pro.proId, { text: 'Reply within a day.' }, later);
    const { round, accepted } = await createRound(
      deps.db,
      agency.agencyId,
      campaign.campaignId,
      { recipients: [named, anonymous, silent].map((email) => ({ email, audience: 'reporter' })) },
      later,
    );
    expect(accepted.map((i) => i.returning)).toEqual([true, undefined, undefined]);
    const commitment = async (invitationId: string) => {
      const page = await (await app.request(`/s/${signInvitationToken(deps.linkSecret, { roundId: round.roundId, invitationId })}`)).text();
      return page.match(/<p class="commitment">(.*?)<\/p>/)?.[1]?.replace(/<\/?bdi>/g, '');
    };
    expect(await commitment(accepted[0]!.invitationId)).toBe('Last time you told us what could be better; here is what Jane Doe is changing: “Reply within a day.”');
    for (const i of accepted.slice(1)) expect(await commitment(i.invitationId)).toBe('After earlier feedback, Jane Doe is working on this: “Reply within a day.”');
    // Answering Jane says nothing about another pro of the agency.
    const elsewhere = await createRound(deps.db, agency.agencyId, otherCampaign.campaignId, { recipients: [{ email: named, audience: 'reporter' }] }, new Date(later.getTime() + 400 * 86_400_000));
    expect(elsewhere.accepted[0]!.returning).toBeUndefined();
  });
});
