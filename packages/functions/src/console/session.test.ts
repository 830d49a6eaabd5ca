import { describe, expect, it } from 'vitest';
import { createMember, createPro, endAllSessions } from '@rapport/core';
import { agencyFixture, consoleSession, testDeps } from '@rapport/testing';

describe('console session', () => {
  it('redirects without a session, passes with one, refuses a POST without CSRF', async () => {
    const deps = testDeps();
    const { app, agencyId } = await agencyFixture(deps);
    const pro = await createPro(deps.db, agencyId, { name: 'Ada', email: 'ada@example.com' }, deps.now());
    const anon = await app.request('/app');
    expect(anon.status).toBe(303);
    const s = await consoleSession(deps, { kind: 'pro', agencyId, proId: pro.proId });
    const nope = await app.request('/app/nothing', { headers: { Cookie: s.cookie } });
    expect(nope.status).toBe(404);
    expect(await nope.text()).toContain('Page not found');
    const bad = await app.request('/logout', { method: 'POST', headers: { Cookie: s.cookie, 'Content-Type': 'application/x-www-form-urlencoded' }, body: '_csrf=x' });
    expect(bad.status).toBe(403);
    const good = await app.request('/logout', { method: 'POST', headers: { Cookie: s.cookie, 'Content-Type': 'application/x-www-form-urlencoded' }, body: `_csrf=${s.csrf}` });
    expect(good.status).toBe(303);
    expect((await app.request('/app/nothing', { headers: { Cookie: s.cookie } })).status).toBe(303);
    const s2 = await consoleSession(deps, { kind: 'pro', agencyId, proId: pro.proId });
    expect((await app.request('/app/nothing', { headers: { Cookie: s2.cookie } })).status).toBe(404);
    await endAllSessions(deps.db, { kind: 'pro', agencyId, proId: pro.proId }, new Date(Date.now() + 5));
    expect((await app.request('/app/nothing', { headers: { Cookie: s2.cookie } })).status).toBe(303);
  });

  it('offers "Send a round" to pros and admins but not to leads, and a GET of /logout leads to the account page', async () => {
    const deps = testDeps();
    const { app, agencyId } = await agencyFixture(deps);
    const pro = await createPro(deps.db, agencyId, { name: 'Ada', email: `ada-${agencyId}@example.com` }, deps.now());
    const lead = await createMember(deps.db, agencyId, { name: 'Lee', email: `lee-${agencyId}@example.com`, role: 'lead' }, deps.now());
    const admin = await createMember(deps.db, agencyId, { name: 'Ann', email: `ann-${agencyId}@example.com`, role: 'admin' }, deps.now());
    const nav = async (identity: Parameters<typeof consoleSession>[1]) => {
      const { cookie } = await consoleSession(deps, identity);
      const html = await (await app.request('/app/account', { headers: { Cookie: cookie } })).text();
      return [...html.matchAll(/<nav[\s\S]*?<\/nav>/g)][0]![0].match(/>([^<>]+)<\/a>/g)!.map((a) => a.slice(1, -4));
    };
    expect(await nav({ kind: 'pro', agencyId, proId: pro.proId })).toEqual(['My results', 'Send a round', 'Account']);
    expect(await nav({ kind: 'member', agencyId, memberId: lead.memberId })).toEqual(['Team', 'Account']);
    expect(await nav({ kind: 'member', agencyId, memberId: admin.memberId })).toEqual(['Team', 'Send a round', 'Admin', 'Account']);
    const get = await app.request('/logout');
    expect([get.status, get.headers.get('Location')]).toEqual([303, '/app/account']);
  });
});
