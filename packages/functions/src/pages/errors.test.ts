import { describe, expect, it } from 'vitest';
import { createAgency, createCampaign, createPro, createRound, getResponse, signInvitationToken } from '@rapport/core';
import { faultyDb, testDeps } from '@rapport/testing';
import { createDeps } from '../deps';
import { createApp } from '../api/app';

const deps = testDeps();
const app = createApp(deps);
let n = 0;

async function invitation() {
  const now = deps.now();
  const { agencyId } = await createAgency(deps.db, { name: `Pages ${++n}` }, now);
  const pro = await createPro(deps.db, agencyId, { name: 'Jane Doe', email: `jane-${n}-${now.getTime()}@acme.example` }, now);
  const campaign = await createCampaign(deps.db, agencyId, { proId: pro.proId, name: 'Launch' }, now);
  const email = `sam-${n}-${now.getTime()}@news.example`;
  const { round, accepted } = await createRound(deps.db, agencyId, campaign.campaignId, { recipients: [{ email, audience: 'reporter' }], attribution: 'named' }, now);
  const ref = { roundId: round.roundId, invitationId: accepted[0]!.invitationId };
  const token = signInvitationToken(deps.linkSecret, ref);
  // A later round of the same agency to the same address: skipped only if the address was unsubscribed.
  const surveyedAgain = async () =>
    (await createRound(deps.db, agencyId, campaign.campaignId, { recipients: [{ email, audience: 'reporter' }] }, new Date(now.getTime() + 400 * 86_400_000))).accepted.length === 1;
  return { ref, token, surveyedAgain };
}

/** A multipart/form-data body as a browser builds it. */
const multipart = (fields: Record<string, string>) => {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return form;
};
const MALFORMED = { body: '--x\r\nContent-Disposition: form-data; name="scope"\r\n\r\nall', headers: { 'Content-Type': 'multipart/form-data; boundary=y' } };

describe('public pages and their errors', () => {
  it('reads a multipart form: answers on /s, and the RFC 8058 one-click unsubscribe on /u', async () => {
    const { ref, token, surveyedAgain } = await invitation();
    const answered = await app.request(`/s/${token}`, { method: 'POST', body: multipart({ responsiveness: '4', recommend: '9', listening: '5', relevance: '4', quoteConsent: 'yes' }) });
    expect(answered.status).toBe(200);
    expect(await answered.text()).toContain('Thank you');
    expect((await getResponse(deps.db, ref))?.answers).toEqual({ responsiveness: 4, recommend: 9, listening: 5, relevance: 4, quoteConsent: true });
    const unsubscribed = await app.request(`/u/${token}`, { method: 'POST', body: multipart({ 'List-Unsubscribe': 'One-Click' }) });
    expect(unsubscribed.status).toBe(200);
    expect(await surveyedAgain()).toBe(false);
  });

  it('answers a malformed multipart body with a 400 page and changes nothing (issue 12: Node\'s form parser threw, and the browser got JSON)', async () => {
    const { ref, token, surveyedAgain } = await invitation();
    for (const path of [`/s/${token}`, `/u/${token}`]) {
      const res = await app.request(path, { method: 'POST', ...MALFORMED });
      expect({ path, status: res.status, type: res.headers.get('Content-Type') }).toEqual({ path, status: 400, type: 'text/html; charset=UTF-8' });
      expect(await res.text()).toContain('This form could not be read');
    }
    expect(await getResponse(deps.db, ref)).toBeNull();
    expect(await surveyedAgain()).toBe(true);
  });

  it('answers any other path or method under /s and /u with the invalid-link page, not JSON', async () => {
    const { token } = await invitation();
    for (const [method, path] of [['PUT', `/s/${token}`], ['DELETE', `/u/${token}`], ['GET', `/s/${token}/more`], ['GET', '/s/'], ['POST', '/u/']] as const) {
      const res = await app.request(path, { method });
      expect({ method, path, status: res.status, type: res.headers.get('Content-Type') }).toEqual({ method, path, status: 404, type: 'text/html; charset=UTF-8' });
      expect(await res.text()).toContain('This link is not valid');
    }
  });

  it('answers an oversized form with a 413 page', async () => {
    const { token } = await invitation();
    const res = await app.request(`/u/${token}`, { method: 'POST', body: `scope=${'a'.repeat(5000)}`, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect({ status: res.status, type: res.headers.get('Content-Type') }).toEqual({ status: 413, type: 'text/html; charset=UTF-8' });
  });

  it('shows a 500 page, not problem+json, when the table fails under a page (stubbed DynamoDB fault: DynamoDB Local does not fail on demand)', async () => {
    const { token, surveyedAgain } = await invitation();
    const faulty = faultyDb(deps.db);
    const failing = createApp(createDeps(deps.config, { db: faulty.db }));
    faulty.failWrite(1);
    const res = await failing.request(`/u/${token}`, { method: 'POST', body: 'scope=all', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect({ status: res.status, type: res.headers.get('Content-Type') }).toEqual({ status: 500, type: 'text/html; charset=UTF-8' });
    expect(await res.text()).toContain('Something went wrong');
    expect(await surveyedAgain()).toBe(true);
  });
});
