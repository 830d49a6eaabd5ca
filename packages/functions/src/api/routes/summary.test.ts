import { describe, expect, it } from 'vitest';
import { closeRound, createCampaign, createPro, createRound, recordCommitment, submitResponse } from '@rapport/core';
import { deliver } from '@rapport/core/sending/dispatch';
import { agencyFixture, sesEmails, testDeps } from '@rapport/testing';
import { deliveryDeps } from '../../deps';

const deps = testDeps();

describe('summary preview', () => {
  it("returns a month's summary as data and as the email, and sends nothing", async () => {
    const f = await agencyFixture(deps);
    await f.call('PATCH', '/v1/settings', { body: { anonymityThreshold: 3 } });
    const at = new Date('2030-08-05T10:00:00Z');
    const email = `jane-${f.agencyId.slice(-10).toLowerCase()}@acme.example`;
    const pro = await createPro(deps.db, f.agencyId, { name: 'Jane Doe', email }, at);
    const campaign = await createCampaign(deps.db, f.agencyId, { proId: pro.proId, name: 'Spring Launch' }, at);
    const recipients = [4, 5, 3].map((_, i) => ({ email: `r${i}-${f.agencyId.slice(-10).toLowerCase()}@news.example`, audience: 'reporter' }));
    const { round, accepted } = await createRound(deps.db, f.agencyId, campaign.campaignId, { recipients }, at);
    // Delivered, so the summary's response rate has its denominator.
    for (const invitation of accepted) await deliver({ ...deliveryDeps(deps), now: () => at }, { kind: 'invitation', roundId: invitation.roundId, invitationId: invitation.invitationId });
    for (const [i, score] of [4, 5, 3].entries()) {
      await submitResponse(deps.db, accepted[i]!, { responsiveness: score, relevance: 2, ...(i === 1 ? { improve: 'Call back sooner' } : {}) }, new Date(at.getTime() + 3_600_000));
    }
    await f.call('POST', `/v1/pros/${pro.proId}/commitments`, { body: { text: 'I will call back the same day' } });

    // Answered but not released (the round is open): nothing to summarise yet.
    const open = await f.call('GET', `/v1/pros/${pro.proId}/summary?period=2030-08`, { key: f.readKey });
    expect(open.body).toMatchObject({ period: { key: '2030-08' }, quiet: true, summary: null, subject: null, html: null, text: null });

    expect(await closeRound(deps.db, round.roundId, new Date('2030-08-19T10:00:00Z'))).toBe(true);
    const res = await f.call('GET', `/v1/pros/${pro.proId}/summary?period=2030-08`, { key: f.readKey });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ period: { key: '2030-08', label: 'August 2030' }, quiet: false, subject: expect.any(String) });
    expect(res.body.summary.headline[0]).toMatchObject({ key: 'responsiveness', current: { n: 3, withheld: false, value: 4 } });
    expect(res.body.summary.weakest).toMatchObject({ dimension: 'relevance', mean: 2, n: 3 });
    expect(res.body.summary.comments).toEqual([{ audience: 'reporter', text: 'Call back sooner' }]);
    expect(res.body.summary.responseRate).toEqual({ delivered: 3, responses: 3, percent: 100 });
    // The scores since the commitment: the batch was released after it.
    expect(res.body.summary.commitment).toMatchObject({ text: 'I will call back the same day', responsiveness: { n: 3, withheld: false, value: 4 } });
    expect(res.body.html).toContain('Jane Doe');
    expect(res.body.text).toContain('Relevant and accurate');
    expect(await sesEmails({ to: email })).toEqual([]);

    // September released nothing: quiet.
    expect((await f.call('GET', `/v1/pros/${pro.proId}/summary?period=2030-09`)).body).toMatchObject({ quiet: true, summary: null, html: null });
    expect((await f.call('GET', `/v1/pros/${pro.proId}/summary?period=2030-9`)).body).toMatchObject({ status: 400, errors: [{ field: 'period' }] });
    const other = await agencyFixture(deps);
    expect((await other.call('GET', `/v1/pros/${pro.proId}/summary?period=2030-08`)).status).toBe(404);
  });

  it('refuses a month outside 2000-01..2999-12 as a 400 on period (issue 12: 9999-12 built a +010000 date and failed)', async () => {
    const f = await agencyFixture(deps);
    const pro = (await f.call('POST', '/v1/pros', { body: { name: 'Jane', email: 'jane@acme.example' } })).body;
    for (const period of ['9999-12', '3000-01', '1999-12', '0000-01', '0000-00']) {
      const res = await f.call('GET', `/v1/pros/${pro.proId}/summary?period=${period}`);
      expect({ period, status: res.status, type: res.body.type, errors: res.body.errors }).toEqual({
        period,
        status: 400,
        type: 'urn:rapport:problem:validation',
        errors: [{ field: 'period', message: 'must be a month as YYYY-MM, from 2000-01 to 2999-12' }],
      });
    }
    for (const period of ['2000-01', '2999-12']) expect((await f.call('GET', `/v1/pros/${pro.proId}/summary?period=${period}`)).body).toMatchObject({ period: { key: period }, quiet: true });
  });

  it('shows the commitment in force during the period, none when all came later, and never fails on it', async () => {
    const f = await agencyFixture(deps);
    await f.call('PATCH', '/v1/settings', { body: { anonymityThreshold: 3 } });
    const at = new Date('2025-03-05T10:00:00Z');
    const tag = f.agencyId.slice(-10).toLowerCase();
    const proWithAnswer = async (who: string) => {
      const pro = await createPro(deps.db, f.agencyId, { name: who, email: `${who.toLowerCase()}-${tag}@acme.example` }, at);
      const campaign = await createCampaign(deps.db, f.agencyId, { proId: pro.proId, name: 'Old campaign' }, at);
      // A named answer is released when given (a batch of one), so March 2025 has it.
      const { accepted } = await createRound(
        deps.db,
        f.agencyId,
        campaign.campaignId,
        { attribution: 'named', recipients: [{ email: `${who.toLowerCase()}-old-${tag}@news.example`, audience: 'client' }] },
        at,
      );
      await submitResponse(deps.db, accepted[0]!, { responsiveness: 3 }, new Date(at.getTime() + 3_600_000));
      return pro.proId;
    };
    // Jo's only commitment is from today, long after March 2025.
    const jo = await proWithAnswer('Jo');
    await f.call('POST', `/v1/pros/${jo}/commitments`, { body: { text: 'Same-day callbacks' } });
    const late = await f.call('GET', `/v1/pros/${jo}/summary?period=2025-03`);
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({ quiet: false, summary: { commitment: null } });

    // Kim committed in February 2025 and again today: March 2025 shows the February one.
    const kim = await proWithAnswer('Kim');
    await recordCommitment(deps.db, f.agencyId, kim, { text: 'Answer within the hour' }, new Date('2025-02-01T09:00:00Z'));
    await f.call('POST', `/v1/pros/${kim}/commitments`, { body: { text: 'Same-day callbacks' } });
    const earlier = await f.call('GET', `/v1/pros/${kim}/summary?period=2025-03`);
    expect(earlier.body.summary.commitment).toMatchObject({ text: 'Answer within the hour', since: '2025-02-01T09:00:00.000Z', responsiveness: { n: 1, withheld: true } });
  });
});
