import { describe, expect, it } from 'vitest';
import { signInvitationToken } from '@rapport/core';
import { agencyFixture, sesEmails, testDeps } from '@rapport/testing';
import { inProcessSendQueue, type Deps } from '../deps';

// A queue the test can drain, so it knows when the warning is out.
const queue = inProcessSendQueue(() => deps, { ratePerSecond: 50 });
const deps: Deps = { ...testDeps(), queue };

/** An agency (early warnings on or off), a pro, and an anonymous round to two named reporters. */
async function setup(earlyWarnings: boolean) {
  const f = await agencyFixture(deps);
  await f.call('PATCH', '/v1/settings', { body: { earlyWarnings } });
  const tag = f.agencyId.slice(-10).toLowerCase();
  const proEmail = `jane-${tag}@acme.example`;
  const { proId } = (await f.call('POST', '/v1/pros', { body: { name: 'Jane Doe', email: proEmail } })).body;
  const { campaignId } = (await f.call('POST', '/v1/campaigns', { body: { proId, name: 'Spring Launch' } })).body;
  const recipients = ['ana', 'ben'].map((who) => ({ email: `${who}-${tag}@news.example`, name: `${who.toUpperCase()} Secret`, outlet: 'The Daily Secret', audience: 'reporter' }));
  const round = (await f.call('POST', `/v1/campaigns/${campaignId}/surveys`, { body: { recipients } })).body;
  const { data } = (await f.call('GET', `/v1/surveys/${round.surveyId}/invitations`)).body;
  const link = (i: number) => `/s/${signInvitationToken(deps.linkSecret, { roundId: round.surveyId, invitationId: data[i].invitationId })}`;
  const answer = (i: number, form: Record<string, string>) =>
    f.app.request(link(i), { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  await queue.drain();
  return { proEmail, recipients, answer };
}

describe('early warnings', () => {
  it('email the pro about a low answer, once, with the scores and comment and no identity', async () => {
    const { proEmail, recipients, answer } = await setup(true);
    expect((await answer(0, { responsiveness: '2', recommend: '3', relevance: '1', improve: 'Answer <b>my</b> calls' })).status).toBe(200);
    expect((await answer(1, { responsiveness: '5', recommend: '10' })).status).toBe(200);
    await queue.drain();

    const warnings = await sesEmails({ to: proEmail });
    expect(warnings).toHaveLength(1);
    const [mail] = warnings;
    expect(mail!.subject).toBe('Early warning: a reporter rated your responsiveness 2/5 on the Spring Launch');
    expect(mail!.body.text).toContain('- Responsiveness: 2/5 (Slow)\n- Likely to recommend: 3/10\n- Relevant and accurate: 1/5');
    expect(mail!.body.text).toContain('What could be better: “Answer <b>my</b> calls”');
    expect(mail!.body.html).toContain('Answer &lt;b&gt;my&lt;/b&gt; calls');
    for (const secret of [recipients[0]!.email, 'ANA Secret', 'The Daily Secret']) expect(JSON.stringify(mail)).not.toContain(secret);

    // A revision that stays low does not warn again.
    await answer(0, { responsiveness: '1' });
    await queue.drain();
    expect(await sesEmails({ to: proEmail })).toHaveLength(1);
  });

  it('send nothing when the agency has not opted in', async () => {
    const { proEmail, answer } = await setup(false);
    await answer(0, { responsiveness: '1' });
    await queue.drain();
    expect(await sesEmails({ to: proEmail })).toEqual([]);
  });
});
