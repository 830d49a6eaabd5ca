import { describe, expect, it } from 'vitest';
import { createCampaign, createMember, createPro, createRound, endAllSessions } from '@rapport/core';
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

  it('every console page: the security headers, a CSP allowing no inline script or style, and none in its HTML', async () => {
    const deps = testDeps();
    const { app, agencyId, readKeyId } = await agencyFixture(deps);
    const u = agencyId.slice(-8).toLowerCase();
    const pro = await createPro(deps.db, agencyId, { name: 'Ada', email: `ada-${u}@example.com` }, deps.now());
    const admin = await createMember(deps.db, agencyId, { name: 'Ann', email: `ann-${u}@example.com`, role: 'admin' }, deps.now());
    const campaign = await createCampaign(deps.db, agencyId, { proId: pro.proId, name: 'Launch' }, deps.now());
    const { round } = await createRound(deps.db, agencyId, campaign.campaignId, { recipients: [{ email: `r-${u}@news.example`, audience: 'reporter' }] }, deps.now());
    const asAdmin = await consoleSession(deps, { kind: 'member', agencyId, memberId: admin.memberId });
    const asPro = await consoleSession(deps, { kind: 'pro', agencyId, proId: pro.proId });
    const pages: [string, { cookie: string } | null][] = [
      ...['/', '/login', '/login/sent', `/login/${'A'.repeat(43)}`, '/signup', '/signup/sent'].map((p) => [p, null] as [string, null]),
      ...['/app', '/app/account', `/app/pros/${pro.proId}`, `/app/rounds/${round.roundId}`, '/app/rounds/new', '/app/admin', '/app/admin/members', '/app/admin/members/new', `/app/admin/members/${admin.memberId}`,
        '/app/admin/pros', `/app/admin/pros/${pro.proId}`, '/app/admin/settings', '/app/admin/keys', `/app/admin/keys/${readKeyId}/revoke`, '/app/admin/suppressions', `/app/admin/suppressions/lift?email=a@b.example`,
        '/app/admin/exports', '/app/nothing'].map((p) => [p, asAdmin] as [string, typeof asAdmin]),
      ['/app', asPro],
      ['/app/admin', asPro],
    ];
    const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    for (const [path, session] of pages) {
      const res = await app.request(path, session ? { headers: { Cookie: session.cookie } } : {});
      const html = await res.text();
      const status = path.endsWith('A'.repeat(43)) || path === '/app/nothing' ? 404 : session === asPro && path === '/app/admin' ? 403 : 200;
      expect(res.status, path).toBe(status);
      expect(res.headers.get('Content-Type'), path).toMatch(/^text\/html/);
      expect(res.headers.get('Content-Security-Policy'), path).toBe(csp);
      expect([res.headers.get('X-Frame-Options'), res.headers.get('X-Content-Type-Options'), res.headers.get('Referrer-Policy')], path).toEqual(['DENY', 'nosniff', expect.stringMatching(/^(no-referrer|same-origin)$/)]);
      if (path !== '/') expect(res.headers.get('Cache-Control'), path).toContain('no-store');
      // No inline script (every <script> has a same-origin src), no style attribute or element, no event handler attribute.
      for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag, path).toMatch(/ src="\/[^/]/);
      expect(html.match(/<script\b[^>]*>[^<]+<\/script>/g), path).toBeNull();
      expect(html.match(/<[^>]+\s(style|on[a-z]+)=/gi), path).toBeNull();
      expect(html.match(/<style\b/g), path).toBeNull();
    }
  });
});
