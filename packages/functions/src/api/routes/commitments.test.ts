import { describe, expect, it } from 'vitest';
import { signInvitationToken } from '@rapport/core';
import { agencyFixture, sesEmails, testDeps } from '@rapport/testing';
import { inProcessSendQueue, type Deps } from '../../deps';

// A queue the test can drain, so it knows when the email is out.
const queue = inProcessSendQueue(() => deps);
const deps: Deps = { ...testDeps(), queue };

describe('commitments', () => {
  it('records what a pro will change; the next round\'s emails and pages say it', async () => {
    const f = await agencyFixture(deps);
    const tag = f.agencyId.slice(-10).toLowerCase();
    const { proId } = (await f.call('POST', '/v1/pros', { body: { name: 'Jane Doe', email: `jane-${tag}@acme.example` } })).body;
    const { campaignId } = (await f.call('POST', '/v1/campaigns', { body: { proId, name: 'Spring Launch' } })).body;

    const created = await f.call('POST', `/v1/pros/${proId}/commitments`, { body: { text: '  I will answer reporters within two hours ' } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ commitmentId: expect.stringMatching(/^cmt_/), proId, text: 'I will answer reporters within two hours', createdAt: expect.any(String) });
    expect((await f.call('GET', `/v1/pros/${proId}`)).body.commitment).toEqual({ text: 'I will answer reporters within two hours', since: created.body.createdAt });
    expect((await f.call('GET', `/v1/pros/${proId}/commitments`, { key: f.readKey })).body).toEqual({ data: [created.body], nextCursor: null });

    await f.call('PATCH', '/v1/settings', { body: { earlyWarnings: true } });
    const email = `ana-${tag}@news.example`;
    const round = await f.call('POST', `/v1/campaigns/${campaignId}/surveys`, { body: { recipients: [{ email, audience: 'reporter' }] } });
    const { data } = (await f.call('GET', `/v1/surveys/${round.body.surveyId}/invitations`)).body;
    const ref = { roundId: round.body.surveyId, invitationId: data[0].invitationId };
    await queue.drain();
    const [mail] = await sesEmails({ to: email });
    // A first-time recipient is not told "last time you told us": the neutral sentence.
    expect(mail!.body.text).toContain('After earlier feedback, Jane Doe is working on this: “I will answer reporters within two hours”');
    expect(mail!.body.text).not.toContain('Last time');

    const page = await (await f.app.request(`/s/${signInvitationToken(deps.linkSecret, ref)}`)).text();
    expect(page).toContain('After earlier feedback, <bdi>Jane Doe</bdi> is working on this: “<bdi>I will answer reporters within two hours</bdi>”');
    // The round took the early warnings on from the settings; on an anonymous round the page says
    // what a warning sends and that it goes only where at least k (5) of the audience were asked.
    expect(page).toContain(
      'A low score (2 or less, or 6 or less for recommending) sends <bdi>Jane Doe</bdi> your scores and comment right away, without your name, so they can put things right; only when at least 5 reporters were asked in this survey.',
    );
  });

  it('refuses an empty or overlong text naming the field, and another agency\'s pro', async () => {
    const f = await agencyFixture(deps);
    const { proId } = (await f.call('POST', '/v1/pros', { body: { name: 'Jo', email: `jo-${f.agencyId.slice(-10).toLowerCase()}@acme.example` } })).body;
    expect((await f.call('POST', `/v1/pros/${proId}/commitments`, { body: { text: '   ' } })).body).toMatchObject({ status: 400, errors: [{ field: 'text' }] });
    expect((await f.call('POST', `/v1/pros/${proId}/commitments`, { body: { text: 'x'.repeat(281) } })).body).toMatchObject({ status: 400, errors: [{ field: 'text' }] });
    expect((await f.call('POST', `/v1/pros/${proId}/commitments`, { key: f.readKey, body: { text: 'Faster' } })).status).toBe(403);
    const other = await agencyFixture(deps);
    expect((await other.call('POST', `/v1/pros/${proId}/commitments`, { body: { text: 'Faster' } })).status).toBe(404);
    expect((await other.call('GET', `/v1/pros/${proId}/commitments`)).status).toBe(404);
    expect((await f.call('GET', `/v1/pros/${proId}/commitments`)).body.data).toEqual([]);
  });
});
