import { describe, expect, it } from 'vitest';
import { createCampaign, createMember, createPro, getAgency, getPro, listApiKeys, type Identity } from '@rapport/core';
import { agencyFixture, consoleSession, testDeps } from '@rapport/testing';

const deps = testDeps();
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

let n = 0;
async function world() {
  const f = await agencyFixture(deps);
  const other = await agencyFixture(deps);
  const u = `${++n}-${f.agencyId.slice(3, 12).toLowerCase()}`;
  const admin = await createMember(deps.db, f.agencyId, { name: 'Ada Admin', email: `admin-${u}@acme.example`, role: 'admin' }, deps.now());
  const lead = await createMember(deps.db, f.agencyId, { name: 'Lee Lead', email: `lead-${u}@acme.example`, role: 'lead' }, deps.now());
  const pro = await createPro(deps.db, f.agencyId, { name: 'Pat Pro', email: `pat-${u}@acme.example` }, deps.now());
  const otherPro = await createPro(deps.db, other.agencyId, { name: 'Olga Other', email: `olga-${u}@other.example` }, deps.now());
  const otherKey = (await listApiKeys(deps.db, other.agencyId, { limit: 1 })).items[0]!;
  const session = async (identity: Identity) => {
    const s = await consoleSession(deps, identity);
    const get = (path: string) => f.app.request(path, { headers: { Cookie: s.cookie } });
    const post = (path: string, fields: Record<string, string> = {}, csrf = true) =>
      f.app.request(path, {
        method: 'POST',
        headers: { Cookie: s.cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: form(csrf ? { _csrf: s.csrf, ...fields } : fields),
      });
    return { get, post };
  };
  return { f, u, pro, otherPro, otherKey, admin, lead, session };
}

describe('console admin pages over HTTP', () => {
  it('are refused to a lead and to a pro with the 403 page, every page and every POST', async () => {
    const w = await world();
    const gets = ['/app/admin', '/app/admin/pros', `/app/admin/pros/${w.pro.proId}`, '/app/admin/settings', '/app/admin/keys', `/app/admin/keys/${w.f.readKeyId}/revoke`, '/app/admin/suppressions', '/app/admin/suppressions/lift?email=a%40b.example', '/app/admin/exports', '/app/admin/exports/responses.csv'];
    const posts = ['/app/admin/pros', `/app/admin/pros/${w.pro.proId}`, `/app/admin/pros/${w.pro.proId}/deactivate`, `/app/admin/pros/${w.pro.proId}/reactivate`, '/app/admin/settings', '/app/admin/keys', `/app/admin/keys/${w.f.readKeyId}/revoke`, '/app/admin/suppressions', '/app/admin/suppressions/lift'];
    for (const identity of [{ kind: 'member', agencyId: w.f.agencyId, memberId: w.lead.memberId }, { kind: 'pro', agencyId: w.f.agencyId, proId: w.pro.proId }] as Identity[]) {
      const s = await w.session(identity);
      for (const path of gets) {
        const res = await s.get(path);
        expect(res.status, `${identity.kind} GET ${path}`).toBe(403);
        expect(await res.text()).toContain('This page is for the agency’s admins');
      }
      for (const path of posts) {
        const res = await s.post(path, { name: 'X', email: 'x@x.example', role: 'admin' });
        expect(res.status, `${identity.kind} POST ${path}`).toBe(403);
        expect(await res.text()).toContain('This page is for the agency’s admins');
      }
    }
    // Nothing was changed by any of them.
    expect((await w.f.call('GET', `/v1/pros/${w.pro.proId}`)).body.deactivatedAt).toBeUndefined();
    expect((await w.f.call('GET', `/v1/api-keys`)).body.data.map((k: { revokedAt: string | null }) => k.revokedAt)).toEqual([null, null]);
  });

  it("answers another agency's pro and key with the 404 page, and refuses a POST without its CSRF token", async () => {
    const w = await world();
    const s = await w.session({ kind: 'member', agencyId: w.f.agencyId, memberId: w.admin.memberId });
    for (const path of [`/app/admin/pros/${w.otherPro.proId}`, `/app/admin/keys/${w.otherKey.keyId}/revoke`, '/app/admin/pros/pro_nonsense']) {
      const res = await s.get(path);
      expect(res.status, path).toBe(404);
      expect(await res.text()).toContain('Page not found');
    }
    for (const path of [`/app/admin/pros/${w.otherPro.proId}`, `/app/admin/pros/${w.otherPro.proId}/deactivate`, `/app/admin/keys/${w.otherKey.keyId}/revoke`]) {
      expect((await s.post(path, { name: 'Taken Over', email: 'x@x.example' })).status, path).toBe(404);
    }
    const otherPro = await w.f.call('GET', `/v1/pros/${w.otherPro.proId}`, { key: null });
    expect(otherPro.status).toBe(401);
    const posts = ['/app/admin/pros', `/app/admin/pros/${w.pro.proId}/deactivate`, '/app/admin/settings', '/app/admin/keys', `/app/admin/keys/${w.f.readKeyId}/revoke`, '/app/admin/suppressions', '/app/admin/suppressions/lift'];
    for (const path of posts) {
      const res = await s.post(path, { name: 'X', email: 'x@x.example' }, false);
      expect(res.status, path).toBe(403);
      expect(await res.text()).toContain('This form was not sent from a Rapport page');
    }
    expect((await w.f.call('GET', `/v1/pros/${w.pro.proId}`)).body.deactivatedAt).toBeUndefined();
    // With its token, a cross-site POST is still refused; a same-origin one whose Origin the no-referrer policy made `null` is not.
    const withSite = async (site: string) => {
      const { cookie, csrf } = await consoleSession(deps, { kind: 'member', agencyId: w.f.agencyId, memberId: w.admin.memberId });
      const headers = { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': site, Origin: 'null' };
      return (await w.f.app.request('/app/admin/suppressions', { method: 'POST', headers, body: form({ _csrf: csrf, email: `s-${w.u}@x.example` }) })).status;
    };
    expect(await withSite('cross-site')).toBe(403);
    expect(await withSite('same-origin')).toBe(303);
  });

  it('a deactivated pro: signed out, no new round (409 from the API), shown by GET /v1/pros; reactivated, all back', async () => {
    const w = await world();
    const admin = await w.session({ kind: 'member', agencyId: w.f.agencyId, memberId: w.admin.memberId });
    const pro = await w.session({ kind: 'pro', agencyId: w.f.agencyId, proId: w.pro.proId });
    const campaign = await createCampaign(deps.db, w.f.agencyId, { proId: w.pro.proId, name: 'Launch' }, deps.now());
    const round = () => w.f.call('POST', `/v1/campaigns/${campaign.campaignId}/surveys`, { body: { recipients: [{ email: `r-${Date.now()}-${Math.random()}@news.example`, audience: 'reporter' }] } });

    expect((await admin.post(`/app/admin/pros/${w.pro.proId}/deactivate`)).headers.get('Location')).toBe(`/app/admin/pros/${w.pro.proId}?done=deactivated`);
    const listed = (await w.f.call('GET', '/v1/pros')).body.data.find((p: { proId: string }) => p.proId === w.pro.proId);
    const stored = await getPro(deps.db, w.f.agencyId, w.pro.proId);
    expect(stored.deactivatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(listed.deactivatedAt).toBe(stored.deactivatedAt);
    expect((await pro.get('/app')).status).toBe(303);
    const refused = await round();
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toBe('The campaign’s pro is deactivated: reactivate them to send a round');
    const page = await (await admin.get(`/app/admin/pros/${w.pro.proId}?done=deactivated`)).text();
    expect(page).toContain('The pro is deactivated and signed out everywhere.');
    expect(page).toContain('Reactivate');

    expect((await admin.post(`/app/admin/pros/${w.pro.proId}/reactivate`)).status).toBe(303);
    expect((await w.f.call('GET', `/v1/pros/${w.pro.proId}`)).body.deactivatedAt).toBeUndefined();
    expect((await round()).status).toBe(202);
  });

  it("a pro's address corrected: the pro is signed out and the admin told so; a change of name or of letter case only keeps them signed in", async () => {
    const w = await world();
    const admin = await w.session({ kind: 'member', agencyId: w.f.agencyId, memberId: w.admin.memberId });
    const pro = await w.session({ kind: 'pro', agencyId: w.f.agencyId, proId: w.pro.proId });
    const path = `/app/admin/pros/${w.pro.proId}`;
    expect((await admin.post(path, { name: 'Pat A. Pro', email: w.pro.email.toUpperCase() })).headers.get('Location')).toBe(`${path}?done=saved`);
    expect((await pro.get('/app')).status).toBe(200);
    expect((await admin.post(path, { name: 'Pat A. Pro', email: `patricia-${w.u}@acme.example` })).headers.get('Location')).toBe(`${path}?done=moved`);
    expect((await pro.get('/app')).status).toBe(303);
    expect(await (await admin.get(`${path}?done=moved`)).text()).toContain('Saved. The pro is signed out: they sign in again with the new email.');
    expect((await admin.get(path)).status).toBe(200);
  });

  it('settings: a change made since the form was read is a conflict, nothing written', async () => {
    const w = await world();
    const admin = await w.session({ kind: 'member', agencyId: w.f.agencyId, memberId: w.admin.memberId });
    const html = await (await admin.get('/app/admin/settings')).text();
    const version = /name="version" value="(\d+)"/.exec(html)![1]!;
    await w.f.call('PATCH', '/v1/settings', { body: { anonymityThreshold: 7 } });
    const fields = Object.fromEntries([...html.matchAll(/name="([^"]+)"[^>]*value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const res = await admin.post('/app/admin/settings', { ...fields, version, anonymityThreshold: '4', 'summary.cadence': 'weekly', 'summary.weekday': 'monday', 'summary.adminEmails': '' });
    expect(res.status).toBe(409);
    expect(await res.text()).toContain('The settings were changed by someone else since this form was opened');
    expect((await getAgency(deps.db, w.f.agencyId)).anonymityThreshold).toBe(7);
  });

  it('API keys: the same create form sent twice makes one key and shows its secret once', async () => {
    const w = await world();
    const admin = await w.session({ kind: 'member', agencyId: w.f.agencyId, memberId: w.admin.memberId });
    const once = /name="once" value="([^"]+)"/.exec(await (await admin.get('/app/admin/keys')).text())![1]!;
    const first = await admin.post('/app/admin/keys', { once, name: 'CRM sync', role: 'read' });
    expect(first.status).toBe(201);
    expect(first.headers.get('Cache-Control')).toBe('no-store');
    const secret = /<textarea id="secret" class="secret" rows="2" readonly="">\s*(rpk_[A-Za-z0-9_-]+)\s*<\/textarea>/.exec(await first.text())![1]!;
    const again = await admin.post('/app/admin/keys', { once, name: 'CRM sync', role: 'read' });
    expect(again.status).toBe(303);
    expect(again.headers.get('Location')).toBe('/app/admin/keys?done=once');
    const keys = (await listApiKeys(deps.db, w.f.agencyId, { limit: 10 })).items;
    expect(keys.map((k) => k.name).sort()).toEqual(['', '', 'CRM sync']);
    expect(keys.find((k) => k.name === 'CRM sync')!.hint).toBe(secret.slice(-4));
    expect(await (await admin.get('/app/admin/keys')).text()).not.toContain(secret);
  });
});
