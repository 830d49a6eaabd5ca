import { describe, expect, it } from 'vitest';
import { createAgency, createCampaign, createPro, createRound, signInvitationToken, suppress } from '@rapport/core';
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
  return { one, two, path, email, nextRound };
}

const form = (on: typeof app, path: string, body: string) =>
  on.request(path, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body });

describe('unsubscribing', () => {
  it('shows a confirmation on GET and changes nothing', async () => {
    const { one, path, nextRound } = await fixture();
    const res = await app.request(path);
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('Stop these surveys?');
    // Whose address (masked: whoever holds the link sees it) and which agency.
    expect(page).toContain('This stops feedback surveys to <strong>s•••@news.example</strong>.');
    expect(page).toContain('Surveys from <bdi>One</bdi> (about <bdi>Jane Doe</bdi> and their colleagues)');
    expect((await nextRound(one)).accepted).toHaveLength(1);
  });

  it('offers an undo, which lifts the unsubscribe it made from the same link', async () => {
    const { one, path, nextRound } = await fixture();
    const done = await form(app, path, 'scope=agency');
    const page = await done.text();
    expect(page).toContain('<strong>s•••@news.example</strong> will get no more feedback surveys from <bdi>One</bdi>.');
    expect(page).toContain('<input type="hidden" name="undo" value="agency"/><button type="submit">Undo</button>');
    const undone = await form(app, path, 'undo=agency');
    expect(undone.status).toBe(200);
    expect(await undone.text()).toContain('<strong>s•••@news.example</strong> may again get feedback surveys from <bdi>One</bdi>.');
    expect((await nextRound(one)).accepted).toHaveLength(1);
  });

  it('undoes "all surveys" too, but not after 24 hours', async () => {
    const { one, two, path, nextRound } = await fixture();
    await form(app, path, 'scope=all');
    const later = createApp({ ...deps, now: () => new Date(deps.now().getTime() + 24 * 3_600_000 + 60_000) });
    const late = await form(later, path, 'undo=all');
    expect(late.status).toBe(409);
    expect(await late.text()).toContain('This can no longer be undone');
    expect((await nextRound(one)).skipped[0]?.reason).toBe('unsubscribed');
    expect((await nextRound(two)).skipped[0]?.reason).toBe('unsubscribed');

    const soon = await fixture();
    await form(app, soon.path, 'scope=all');
    const undone = await form(app, soon.path, 'undo=all');
    expect(await undone.text()).toContain('may again get feedback surveys from any agency, through Rapport.');
    expect((await soon.nextRound(soon.two)).accepted).toHaveLength(1);
  });

  it('never lifts a bounce, a complaint, or an unsubscribe this link did not make', async () => {
    const { one, two, path, email, nextRound } = await fixture();
    const now = deps.now();
    await suppress(deps.db, email, 'bounced', { global: true }, now);
    await suppress(deps.db, email, 'unsubscribed', { agencyId: one.agencyId }, now);
    expect((await form(app, path, 'undo=all')).status).toBe(409);
    expect((await form(app, path, 'undo=agency')).status).toBe(409);
    // Unsubscribing again keeps the first reason, and so nothing to undo either.
    await form(app, path, 'scope=all');
    expect((await form(app, path, 'undo=all')).status).toBe(409);
    expect((await nextRound(one)).skipped[0]?.reason).toBe('bounced');
    expect((await nextRound(two)).skipped[0]?.reason).toBe('bounced');
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
