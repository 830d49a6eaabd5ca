import { describe, expect, it } from 'vitest';
import { createAgency, createCampaign, createPro, createRound, signInvitationToken } from '@rapport/core';
import { testDeps } from '@rapport/testing';
import { createApp } from '../api/app';

const deps = testDeps();
const app = createApp(deps);
let n = 0;

async function fixture() {
  const now = deps.now();
  const tag = `${++n}-${now.getTime()}`;
  const make = async (name: string) => {
    const agency = await createAgency(deps.db, { name }, now);
    const pro = await createPro(deps.db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@${name.toLowerCase()}.example` }, now);
    const campaign = await createCampaign(deps.db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, now);
    return { agencyId: agency.agencyId, campaignId: campaign.campaignId };
  };
  const one = await make('One');
  const two = await make('Two');
  const email = `sam-${tag}@news.example`;
  const { round, accepted } = await createRound(deps.db, one.agencyId, one.campaignId, { recipients: [{ email, audience: 'reporter' }] }, now);
  const path = `/u/${signInvitationToken(deps.linkSecret, { roundId: round.roundId, invitationId: accepted[0]!.invitationId })}`;
  // A later round, 400 days on, is past every throttle window: only suppression can skip it.
  const nextRound = (agency: { agencyId: string; campaignId: string }) =>
    createRound(deps.db, agency.agencyId, agency.campaignId, { recipients: [{ email, audience: 'reporter' }] }, new Date(now.getTime() + 400 * 86_400_000));
  return { one, two, path, nextRound };
}

describe('unsubscribing', () => {
  it('shows a confirmation on GET and changes nothing', async () => {
    const { one, path, nextRound } = await fixture();
    const res = await app.request(path);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Stop these surveys?');
    expect((await nextRound(one)).accepted).toHaveLength(1);
  });

  it("stops the agency's surveys on the RFC 8058 one-click POST, and only that agency's", async () => {
    const { one, two, path, nextRound } = await fixture();
    const res = await app.request(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);
    expect((await nextRound(one)).skipped).toEqual([expect.objectContaining({ reason: 'unsubscribed' })]);
    expect((await nextRound(two)).accepted).toHaveLength(1);
  });

  it('stops every agency when the person asks for all surveys to stop', async () => {
    const { one, two, path, nextRound } = await fixture();
    await app.request(path, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'scope=all' });
    expect((await nextRound(one)).skipped[0]?.reason).toBe('unsubscribed');
    expect((await nextRound(two)).skipped[0]?.reason).toBe('unsubscribed');
  });

  it('gives a forged link the invalid-link page and suppresses nothing', async () => {
    const { one, path, nextRound } = await fixture();
    const forged = path.slice(0, -3) + 'xyz';
    const res = await app.request(forged, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'scope=all' });
    expect(res.status).toBe(404);
    expect((await nextRound(one)).accepted).toHaveLength(1);
  });
});
