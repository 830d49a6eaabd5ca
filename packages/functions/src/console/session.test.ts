import { describe, expect, it } from 'vitest';
import { createPro, endAllSessions } from '@rapport/core';
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
});
