import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  addSuppression,
  createApiKey,
  createCampaign,
  createMember,
  createPro,
  createRound,
  erasePro,
  FORMER_PRO_NAME,
  getApiKey,
  getMember,
  getPro,
  getRound,
  keys,
  listPros,
  type Identity,
} from '@rapport/core';
import { agencyFixture, consoleSession, testDeps } from '@rapport/testing';

/**
 * Attacks on the console's promises (issue 14): each a way in that was tried, kept as a test so it
 * stays shut. Tenant isolation and the pro's own-things rule are a property over generated names
 * and requests; the rest are the inputs that once broke a page.
 */
const deps = testDeps();
const RUNS = Number(process.env.ATTACK_RUNS ?? 4);

type Session = Awaited<ReturnType<typeof consoleSession>>;

const request = (app: Awaited<ReturnType<typeof agencyFixture>>['app'], s: Session, method: 'GET' | 'POST', path: string, fields: Record<string, string> = {}) => {
  if (method === 'GET') return app.request(path, { headers: { Cookie: s.cookie } });
  const form = new FormData();
  form.set('_csrf', s.csrf);
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  return app.request(path, { method, headers: { Cookie: s.cookie, 'Sec-Fetch-Site': 'same-origin' }, body: form });
};

let n = 0;
/** Text unique to this run, in a generated name: found in a page, it came from the other side. */
const nameArb = fc.tuple(fc.constantFrom('', '<b>', '\u202e', '=HYPERLINK("x")', 'Zoë '), fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme-ascii' }));

describe('console attacks', () => {
  it('another agency’s things, and to a pro another pro’s, are 403 or 404 on every page and form, naming nothing of theirs, changing nothing', async () => {
    await fc.assert(
      fc.asyncProperty(nameArb, nameArb, fc.constantFrom('admin', 'lead', 'pro'), fc.constantFrom('other agency', 'other pro'), async (proWords, campaignWords, role, target) => {
        const u = `x${++n}q${Date.now().toString(36)}`;
        const a = await agencyFixture(deps);
        const b = await agencyFixture(deps);
        // The target's things: in agency B, or (for a pro) a colleague's in agency A.
        const owner = target === 'other agency' ? b : a;
        const secretName = `${proWords[0]}${proWords[1].trim() || 'p'} ${u}P`.trim();
        const secretCampaign = `${campaignWords[0]}${campaignWords[1].trim() || 'c'} ${u}C`.trim();
        const victim = await createPro(deps.db, owner.agencyId, { name: secretName, email: `victim-${u}@b.example` }, deps.now());
        await createPro(deps.db, owner.agencyId, { name: `Second ${u}P2`, email: `second-${u}@b.example` }, deps.now());
        const campaign = await createCampaign(deps.db, owner.agencyId, { proId: victim.proId, name: secretCampaign }, deps.now());
        const { round } = await createRound(deps.db, owner.agencyId, campaign.campaignId, { recipients: [{ email: `reporter-${u}@news.example`, audience: 'reporter' }] }, deps.now());
        const member = await createMember(deps.db, b.agencyId, { name: `Member ${u}M`, email: `member-${u}@b.example`, role: 'lead' }, deps.now());
        const key = await createApiKey(deps.db, b.agencyId, { name: `Key ${u}K`, role: 'read' }, deps.now());
        await addSuppression(deps.db, b.agencyId, { email: `suppressed-${u}@news.example` }, member.memberId, deps.now());
        await deps.db.doc.send(new PutCommand({ TableName: deps.db.table, Item: { ...keys.summarySent(owner.agencyId, victim.proId, '2030-01'), status: 'sent', at: deps.now().toISOString() } }));
        const cursor = (await listPros(deps.db, b.agencyId, { limit: 1 })).nextCursor!;

        // The viewer, in agency A.
        const me = await createPro(deps.db, a.agencyId, { name: 'Me Myself', email: `me-${u}@a.example` }, deps.now());
        const identity: Identity =
          role === 'pro'
            ? { kind: 'pro', agencyId: a.agencyId, proId: me.proId }
            : { kind: 'member', agencyId: a.agencyId, memberId: (await createMember(deps.db, a.agencyId, { name: 'Viewer', email: `viewer-${u}@a.example`, role }, deps.now())).memberId };
        if (target === 'other pro' && role !== 'pro') return; // members read their colleagues' pros by design
        const s = await consoleSession(deps, identity);
        const list = `Email\nreporter2-${u}@news.example\n`;
        const send = { campaignId: campaign.campaignId, list, col0: 'email', audience: 'reporter', attribution: 'anonymous' };
        type Try = ['GET' | 'POST', string, Record<string, string>?];
        const tries: Try[] = [
          ['GET', `/app/pros/${victim.proId}`],
          ['GET', `/app/pros/${victim.proId}?comments=${cursor}&testimonials=${cursor}&campaigns=${cursor}`],
          ['GET', `/app/pros/${victim.proId}/summaries/2030-01`],
          ['GET', `/app/rounds/${round.roundId}`],
          // Another agency's cursor on the viewer's own home: the team table's, or a pro's lists.
          ['GET', role === 'pro' ? `/app?comments=${cursor}&testimonials=${cursor}&campaigns=${cursor}` : `/app?cursor=${cursor}`],
          ['GET', `/app/admin/pros?cursor=${cursor}`],
          ['GET', `/app/admin/keys?cursor=${cursor}`],
          ['GET', `/app/admin/suppressions?cursor=${cursor}`],
          ['GET', `/app/admin/pros/${victim.proId}`],
          ['GET', `/app/admin/members/${member.memberId}`],
          ['GET', `/app/admin/keys/${key.apiKey.keyId}/revoke`],
          ['POST', `/app/rounds/${round.roundId}/cancel`, { confirm: 'yes' }],
          ['POST', `/app/pros/${victim.proId}/commitment`, { text: 'Taken over' }],
          ['POST', '/app/rounds/new', { campaignId: campaign.campaignId, pasted: list }],
          // A pro's new campaign is always their own: only a member names the pro.
          ...(role === 'pro' ? [] : [['POST', '/app/rounds/new', { campaignId: 'new', proId: victim.proId, campaignName: 'Planted', pasted: list }] as Try]),
          ['POST', '/app/rounds/new/map', send],
          ['POST', '/app/rounds/new/preview', send],
          ['POST', '/app/rounds/new/send', { ...send, key: '00000000-0000-4000-8000-000000000000' }],
          ['POST', `/app/admin/pros/${victim.proId}`, { name: 'Renamed', email: `renamed-${u}@a.example` }],
          ['POST', `/app/admin/pros/${victim.proId}/deactivate`],
          ['POST', `/app/admin/members/${member.memberId}`, { name: 'Renamed', role: 'admin' }],
          ['POST', `/app/admin/members/${member.memberId}/deactivate`],
          ['POST', `/app/admin/keys/${key.apiKey.keyId}/revoke`],
          ['POST', '/app/admin/suppressions/lift', { email: `suppressed-${u}@news.example` }],
        ];
        // The first step's form only preselects a campaign of its own list: another's id selects nothing.
        const start = await request(a.app, s, 'GET', `/app/rounds/new?campaignId=${campaign.campaignId}`);
        expect(start.status).toBe(role === 'lead' ? 403 : 200);
        expect(await start.text()).not.toContain(campaign.campaignId.slice(4) + '" selected');
        for (const [method, path, fields] of tries) {
          const res = await request(a.app, s, method, path, fields);
          const body = await res.text();
          const what = `${role} → ${target}: ${method} ${path}`;
          // 400: a cursor of another listing; 403: not this role's page; 404: not theirs to see.
          expect([400, 403, 404], what).toContain(res.status);
          for (const secret of [`${u}P`, `${u}C`, `${u}M`, `${u}K`, `victim-${u}`, `suppressed-${u}`]) expect(body, `${what} shows ${secret}`).not.toContain(secret);
        }
        // Nothing of theirs changed.
        expect((await getRound(deps.db, owner.agencyId, round.roundId)).status).toBe('open');
        const after = await getPro(deps.db, owner.agencyId, victim.proId);
        expect([after.name, after.deactivatedAt, after.commitment]).toEqual([secretName, undefined, undefined]);
        expect((await getMember(deps.db, b.agencyId, member.memberId)).deactivatedAt).toBeUndefined();
        expect((await getApiKey(deps.db, b.agencyId, key.apiKey.keyId)).revokedAt ?? null).toBeNull();
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  }, 60_000 * RUNS);

  it('answers a malformed or oversized sign-in or sign-out form with a page (400, 413), never a 500, and queues nothing', async () => {
    const f = await agencyFixture(deps);
    const queued: unknown[] = [];
    const d = testDeps({ queue: { enqueue: async (jobs) => void queued.push(...jobs) } });
    const app = (await agencyFixture(d)).app;
    const pro = await createPro(d.db, f.agencyId, { name: 'Pat', email: `pat-${f.agencyId.slice(3, 12).toLowerCase()}@a.example` }, d.now());
    const s = await consoleSession(d, { kind: 'pro', agencyId: f.agencyId, proId: pro.proId });
    const malformed = { 'Content-Type': 'multipart/form-data; boundary=xyz', 'Sec-Fetch-Site': 'same-origin' };
    const cases: [string, RequestInit, number][] = [
      ['/login', { method: 'POST', headers: malformed, body: '--xyz\r\nContent-Disposition: form-data; name="email"\r\n\r\nann@a.example' }, 400],
      ['/login', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `email=ann%40a.example&x=${'a'.repeat(2 * 1024 * 1024)}` }, 413],
      ['/logout', { method: 'POST', headers: { Cookie: s.cookie, 'Content-Type': 'application/x-www-form-urlencoded' }, body: `_csrf=${s.csrf}&x=${'a'.repeat(2 * 1024 * 1024)}` }, 413],
    ];
    for (const [path, init, status] of cases) {
      const res = await app.request(path, init);
      expect(res.status, path).toBe(status);
      expect(res.headers.get('Content-Type'), path).toBe('text/html; charset=UTF-8');
      expect(res.headers.get('Content-Security-Policy'), path).toContain("default-src 'none'");
    }
    expect(queued).toEqual([]);
  });

  it('sends to rows whose contact type is named like an object’s own member (constructor, __proto__, toString)', async () => {
    const f = await agencyFixture(deps);
    const u = f.agencyId.slice(3, 12).toLowerCase();
    const pro = await createPro(deps.db, f.agencyId, { name: 'Pat', email: `pat-${u}@a.example` }, deps.now());
    const campaign = await createCampaign(deps.db, f.agencyId, { proId: pro.proId, name: 'Launch' }, deps.now());
    const s = await consoleSession(deps, { kind: 'pro', agencyId: f.agencyId, proId: pro.proId });
    // Over 30 types: no choice per type is offered, each takes its guess or the audience for all rows.
    const types = ['constructor', '__proto__', 'toString', 'hasOwnProperty', ...Array.from({ length: 30 }, (_, i) => `Type ${i}`)];
    const list = `Email,Type\n${types.map((t, i) => `c${i}-${u}@news.example,${t}`).join('\n')}\n`;
    const res = await request(f.app, s, 'POST', '/app/rounds/new/preview', { campaignId: campaign.campaignId, list, col0: 'email', col1: 'contactType', audience: 'client' });
    const body = await res.text();
    expect(res.status).toBe(200);
    expect(body).not.toContain('the audience must be');
    expect(body.match(/<td>Client<\/td>/g)?.length).toBe(types.length);
  });

  it('a deactivated pro is signed out at once, and reactivating them does not bring their old sessions back', async () => {
    const f = await agencyFixture(deps);
    const u = f.agencyId.slice(3, 12).toLowerCase();
    const pro = await createPro(deps.db, f.agencyId, { name: 'Pat', email: `pat-${u}@a.example` }, deps.now());
    const admin = await createMember(deps.db, f.agencyId, { name: 'Ada', email: `ada-${u}@a.example`, role: 'admin' }, deps.now());
    const a = await consoleSession(deps, { kind: 'member', agencyId: f.agencyId, memberId: admin.memberId });
    const laptop = await consoleSession(deps, { kind: 'pro', agencyId: f.agencyId, proId: pro.proId });
    expect((await request(f.app, laptop, 'GET', '/app')).status).toBe(200);
    expect((await request(f.app, a, 'POST', `/app/admin/pros/${pro.proId}/deactivate`)).status).toBe(303);
    const refused = await request(f.app, laptop, 'GET', '/app');
    expect([refused.status, refused.headers.get('Location')]).toEqual([303, '/login?next=%2Fapp']);
    // "Deactivated and signed out everywhere": the laptop left behind stays signed out.
    expect((await request(f.app, a, 'POST', `/app/admin/pros/${pro.proId}/reactivate`)).status).toBe(303);
    const after = await request(f.app, laptop, 'GET', '/app');
    expect([after.status, after.headers.get('Location')]).toEqual([303, '/login?next=%2Fapp']);
  });

  it("an erased pro's page offers nothing to edit or reactivate, and posting either anyway is refused (409), the record left erased", async () => {
    const f = await agencyFixture(deps);
    const u = f.agencyId.slice(3, 12).toLowerCase();
    const pro = await createPro(deps.db, f.agencyId, { name: 'Pat', email: `pat-${u}@a.example` }, deps.now());
    const admin = await createMember(deps.db, f.agencyId, { name: 'Ada', email: `ada-${u}@a.example`, role: 'admin' }, deps.now());
    const a = await consoleSession(deps, { kind: 'member', agencyId: f.agencyId, memberId: admin.memberId });
    await erasePro(deps.db, f.agencyId, pro.proId, deps.now());
    const page = await request(f.app, a, 'GET', `/app/admin/pros/${pro.proId}`);
    const body = await page.text();
    expect(page.status).toBe(200);
    expect(body).toContain('personal data was erased');
    expect(body).not.toContain(`action="/app/admin/pros/${pro.proId}/reactivate"`);
    expect(body).not.toContain(`action="/app/admin/pros/${pro.proId}"`);
    expect((await request(f.app, a, 'POST', `/app/admin/pros/${pro.proId}/reactivate`)).status).toBe(409);
    expect((await request(f.app, a, 'POST', `/app/admin/pros/${pro.proId}`, { name: 'Pat', email: `pat-${u}@a.example` })).status).toBe(409);
    expect(await getPro(deps.db, f.agencyId, pro.proId)).toMatchObject({ name: FORMER_PRO_NAME, email: '', deactivatedAt: expect.any(String) });
  });
});
