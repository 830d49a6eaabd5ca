import { createHash, randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createAgency,
  createMember,
  createPro,
  createSignInToken,
  deactivateMember,
  getMember,
  keys,
  listMembers,
  loginChoices,
  loginHash,
  resolveSession,
  updateMember,
  updatePro,
  type Identity,
} from '@rapport/core';
import { consoleSession, sesEmails, testDeps } from '@rapport/testing';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createApp } from '../api/app';
import { inProcessSendQueue, type Deps } from '../deps';
import { safeNext, SIGN_IN_LIMIT_PER_CLIENT, SIGN_IN_LIMIT_PER_EMAIL } from './login';

const queue = inProcessSendQueue(() => deps);
let offsetMs = 0;
const deps: Deps = testDeps({ queue, now: () => new Date(Date.now() + offsetMs) });
const app = createApp(deps);
afterAll(() => queue.stop());

const tag = () => randomUUID().slice(0, 8);
const form = (body: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(body).toString(),
});
const cookieOf = (res: Response) => res.headers.get('Set-Cookie')?.match(/rapport_session=([^;]*)/)?.[1];

/** The sign-in links of the latest email to an address, with each button's label. */
async function linksTo(address: string) {
  await queue.drain();
  const mail = (await sesEmails({ to: address })).at(-1);
  if (!mail) return [];
  return [...mail.body.html!.matchAll(/<a href="([^"]+\/login\/[^"]+)"[^>]*>(.*?)<\/a>/g)].map((m) => ({ url: m[1]!, label: m[2]!.replace(/<[^>]+>/g, ''), path: new URL(m[1]!).pathname }));
}

async function agencyWith(name = `Agency ${tag()}`) {
  return createAgency(deps.db, { name }, deps.now());
}

describe('sign-in by email', () => {
  it('answers a known and an unknown address alike; the known one gets one link per identity, across agencies', async () => {
    const t = tag();
    const known = `Jane.${t}@Example.com`;
    const unknown = `nobody.${t}@example.com`;
    const a = await agencyWith(`Acme ${t}`);
    const b = await agencyWith(`Beta ${t}`);
    const pro = await createPro(deps.db, a.agencyId, { name: 'Jane Doe', email: known }, deps.now());
    const member = await createMember(deps.db, b.agencyId, { name: 'Jane D.', email: known.toLowerCase(), role: 'admin' }, deps.now());

    const answers = await Promise.all([known, unknown].map((email) => app.request('/login', form({ email, next: '/app/account' }))));
    expect(answers.map((r) => [r.status, r.headers.get('Location'), r.headers.get('Set-Cookie')])).toEqual([
      [303, '/login/sent', null],
      [303, '/login/sent', null],
    ]);
    expect(await Promise.all(answers.map((r) => r.text()))).toEqual(['', '']);
    const sent = await app.request('/login/sent');
    expect(await sent.text()).toContain('If this address may sign in to Rapport, a sign-in link is on its way.');

    const links = await linksTo(known);
    // In the order of the lookup's items: members, then pros.
    expect(links.map((l) => l.label)).toEqual([`Sign in to Beta ${t} as admin`, `Sign in to Acme ${t} as pro`]);
    expect(await sesEmails({ to: unknown })).toEqual([]);
    const [mail] = await sesEmails({ to: known });
    expect(mail!.subject).toBe('Your Rapport sign-in link');
    expect(mail!.destination.to).toEqual([`"Jane D." <${known.toLowerCase()}>`]);

    // Each link signs in as its own identity, then to `next`.
    const identities: Identity[] = [];
    for (const link of links) {
      const res = await app.request(link.path, form({}));
      expect([res.status, res.headers.get('Location')]).toEqual([303, '/app/account']);
      const viewer = await resolveSession(deps.db, cookieOf(res)!, deps.now());
      identities.push(viewer!.kind === 'pro' ? { kind: 'pro', agencyId: viewer!.agencyId, proId: viewer!.proId } : { kind: 'member', agencyId: viewer!.agencyId, memberId: viewer!.memberId });
    }
    expect(identities).toEqual([
      { kind: 'member', agencyId: b.agencyId, memberId: member.memberId },
      { kind: 'pro', agencyId: a.agencyId, proId: pro.proId },
    ]);
  });

  it('a link: GET changes nothing, POST signs in once; used, expired and forged links say so alike', async () => {
    const a = await agencyWith();
    const pro = await createPro(deps.db, a.agencyId, { name: 'Ada', email: `ada.${tag()}@example.com` }, deps.now());
    const identity: Identity = { kind: 'pro', agencyId: a.agencyId, proId: pro.proId };
    const token = await createSignInToken(deps.db, identity, loginHash(pro.email), undefined, deps.now());
    for (let i = 0; i < 3; i++) {
      const scanned = await app.request(`/login/${token}`);
      expect(scanned.status).toBe(200);
      expect(scanned.headers.get('Set-Cookie')).toBeNull();
      expect(scanned.headers.get('Cache-Control')).toContain('no-store');
      expect(scanned.headers.get('Content-Security-Policy')).toContain("script-src 'self'");
      expect(await scanned.text()).toContain(`<form method="post" action="/login/${token}"`);
    }
    // Two POSTs at once: one signs in.
    const both = await Promise.all([app.request(`/login/${token}`, form({})), app.request(`/login/${token}`, form({}))]);
    expect(both.map((r) => r.status).sort()).toEqual([303, 404]);
    const signedIn = both.find((r) => r.status === 303)!;
    expect(signedIn.headers.get('Location')).toBe('/app');
    expect(signedIn.headers.get('Set-Cookie')).toMatch(/^rapport_session=[A-Za-z0-9_-]{43}; Max-Age=1209600; Path=\/; HttpOnly; SameSite=Lax$/);
    const stored = keys.signInToken(createHash('sha256').update(token).digest('hex'));
    expect((await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: stored }))).Item).toBeUndefined();

    const expired = await createSignInToken(deps.db, identity, loginHash(pro.email), undefined, deps.now());
    offsetMs = 15 * 60_000 + 1000;
    try {
      const pages = await Promise.all([
        app.request(`/login/${token}`),
        app.request(`/login/${token}`, form({})),
        app.request(`/login/${expired}`),
        app.request(`/login/${expired}`, form({})),
        app.request(`/login/${'A'.repeat(43)}`),
        app.request(`/login/${'A'.repeat(43)}`, form({})),
        app.request('/login/short', form({})),
      ]);
      const bodies = await Promise.all(pages.map((p) => p.text()));
      expect(pages.map((p) => [p.status, p.headers.get('Set-Cookie')])).toEqual(Array(7).fill([404, null]));
      expect(new Set(bodies.map((b) => b.replaceAll(token, '').replaceAll(expired, '')))).toHaveProperty('size', 1);
      expect(bodies[0]).toContain('This sign-in link does not work');
    } finally {
      offsetMs = 0;
    }
  });

  it('refuses a cross-site POST of a link and of the sign-in form, and uses nothing up', async () => {
    const a = await agencyWith();
    const pro = await createPro(deps.db, a.agencyId, { name: 'Ada', email: `ada.${tag()}@example.com` }, deps.now());
    const token = await createSignInToken(deps.db, { kind: 'pro', agencyId: a.agencyId, proId: pro.proId }, loginHash(pro.email), undefined, deps.now());
    const attempts: Record<string, string>[] = [{ 'Sec-Fetch-Site': 'cross-site' }, { 'Sec-Fetch-Site': 'same-site' }, { Origin: 'https://evil.example' }];
    for (const headers of attempts) {
      const res = await app.request(`/login/${token}`, form({}, headers));
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('This form was not sent from a Rapport page');
      expect((await app.request('/login', form({ email: pro.email }, headers))).status).toBe(403);
    }
    expect((await app.request(`/login/${token}`, form({}, { 'Sec-Fetch-Site': 'same-origin', Origin: 'http://localhost:3000' }))).status).toBe(303);
  });

  it('under https (deployed): a __Host- cookie with Secure; the table keeps only its SHA-256, with a 14-day TTL', async () => {
    const origin = 'https://rapport.example';
    const deployed = createApp({ ...deps, config: { ...deps.config, publicUrl: origin } });
    const a = await agencyWith();
    const pro = await createPro(deps.db, a.agencyId, { name: 'Ada', email: `ada.${tag()}@example.com` }, deps.now());
    const token = await createSignInToken(deps.db, { kind: 'pro', agencyId: a.agencyId, proId: pro.proId }, loginHash(pro.email), undefined, deps.now());
    const before = Date.now();
    const res = await deployed.request(`${origin}/login/${token}`, form({}, { 'Sec-Fetch-Site': 'same-origin', Origin: origin }));
    expect([res.status, res.headers.get('Location')]).toEqual([303, '/app']);
    const setCookie = res.headers.get('Set-Cookie')!;
    expect(setCookie).toMatch(/^__Host-rapport_session=[A-Za-z0-9_-]{43}; Max-Age=1209600; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    expect(setCookie).not.toMatch(/Domain=/i);
    const sessionId = /^__Host-rapport_session=([^;]+)/.exec(setCookie)![1]!;
    // Stored under its hash, never as itself, with a TTL 14 days on.
    const item = (await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.session(createHash('sha256').update(sessionId).digest('hex')) }))).Item!;
    expect(JSON.stringify(item)).not.toContain(sessionId);
    expect(Number(item.expiresAt) * 1000).toBeGreaterThanOrEqual(before + 14 * 86_400_000 - 2000);
    expect(Number(item.expiresAt) * 1000).toBeLessThanOrEqual(Date.now() + 14 * 86_400_000 + 2000);
    expect((await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.session(sessionId) }))).Item).toBeUndefined();
    // The cookie signs in under that origin; the plain name of http://localhost does not.
    expect((await deployed.request(`${origin}/app/account`, { headers: { Cookie: `__Host-rapport_session=${sessionId}` } })).status).toBe(200);
    const plain = await deployed.request(`${origin}/app/account`, { headers: { Cookie: `rapport_session=${sessionId}` } });
    expect([plain.status, plain.headers.get('Location')]).toEqual([303, '/login?next=%2Fapp%2Faccount']);
  });

  it('carries next only when it is a console path', () => {
    expect(['/app', '/app/account', '/app/rounds/rnd_1?x=1', '/app#top'].map(safeNext)).toEqual(['/app', '/app/account', '/app/rounds/rnd_1?x=1', '/app#top']);
    for (const bad of ['//evil.example', 'https://evil.example/app', '/apple', '/app//evil.example', '/app\\evil', '/app/\\evil', '/\\evil.example', '/app\nx', '/login', '', 42, undefined, `/app/${'x'.repeat(600)}`]) {
      expect(safeNext(bad)).toBeUndefined();
    }
  });

  it('shows a bad address next to its field, with the value kept', async () => {
    const res = await app.request('/login', form({ email: 'not an address', next: '/app/account' }));
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('value="not an address"');
    expect(html).toContain('aria-invalid="true" aria-describedby="email-error"');
    expect(html).toContain('<input type="hidden" name="next" value="/app/account"/>');
  });

  it('limits sign-in requests per email address and per client address, known or not', async () => {
    const t = tag();
    const a = await agencyWith();
    const known = `limit.${t}@example.com`;
    await createPro(deps.db, a.agencyId, { name: 'Lim', email: known }, deps.now());
    const unknown = `limit-unknown.${t}@example.com`;
    // A client address of its own for this test: the file's other tests share deps' one.
    const local = createApp({ ...deps, clientAddress: () => `2001:db8:${t.slice(0, 4)}:${t.slice(4)}::7` });
    const statuses = async (email: string, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await local.request('/login', form({ email }))).status);
      return out;
    };
    expect(await statuses(known, SIGN_IN_LIMIT_PER_EMAIL + 1)).toEqual([...Array(SIGN_IN_LIMIT_PER_EMAIL).fill(303), 429]);
    expect(await statuses(unknown, SIGN_IN_LIMIT_PER_EMAIL + 1)).toEqual([...Array(SIGN_IN_LIMIT_PER_EMAIL).fill(303), 429]);
    const [overKnown, overUnknown] = await Promise.all([known, unknown].map((email) => local.request('/login', form({ email }))));
    expect([overKnown!.status, overUnknown!.status, overKnown!.headers.get('Retry-After')]).toEqual([429, 429, expect.stringMatching(/^\d+$/)]);
    expect(await overKnown!.text()).toBe(await overUnknown!.text());
    expect(await linksTo(known)).toHaveLength(1);
    expect((await sesEmails({ to: known })).length).toBe(SIGN_IN_LIMIT_PER_EMAIL);

    // The client address: other addresses each time, until the address's own limit.
    // Every request so far counted against the client address, those the email's limit refused too.
    const spent = 2 * (SIGN_IN_LIMIT_PER_EMAIL + 1) + 2;
    const rest = await Promise.all(Array.from({ length: SIGN_IN_LIMIT_PER_CLIENT - spent + 1 }, (_, i) => local.request('/login', form({ email: `spray${i}.${t}@example.com` }))));
    expect(rest.map((r) => r.status).sort()).toEqual([...Array(SIGN_IN_LIMIT_PER_CLIENT - spent).fill(303), 429]);
  });
});

describe('the landing page', () => {
  it('says what Rapport is, links to sign-in, the API reference and, locally, the inbox, under the console’s headers', async () => {
    const res = await app.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Security-Policy')).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    const html = await res.text();
    expect(html).toContain('PR pros ask the reporters, colleagues and clients they worked with how responsive they were');
    expect([...html.matchAll(/<a [^>]*href="([^"]+)"/g)].map((m) => m[1])).toEqual(['#main', '/', '/login', '/docs', `${new URL(deps.config.sesEndpoint!).origin}/`]);
    const deployed = createApp({ ...deps, config: { ...deps.config, sesEndpoint: undefined } });
    expect(await (await deployed.request('/')).text()).not.toContain('Local inbox');
  });
});

describe('sign-in lookup', () => {
  it('moves with a pro’s email, drops a deactivated member, and keeps one item per identity', async () => {
    const t = tag();
    const a = await agencyWith();
    const before = `old.${t}@example.com`;
    const after = `new.${t}@example.com`;
    const pro = await createPro(deps.db, a.agencyId, { name: 'Mo', email: before }, deps.now());
    expect(await loginChoices(deps.db, loginHash(before))).toHaveLength(1);
    await updatePro(deps.db, a.agencyId, pro.proId, { email: after }, deps.now());
    expect(await loginChoices(deps.db, loginHash(before))).toEqual([]);
    expect((await loginChoices(deps.db, loginHash(after))).map((c) => c.identity)).toEqual([{ kind: 'pro', agencyId: a.agencyId, proId: pro.proId }]);
    const { Items } = await deps.db.doc.send(new QueryCommand({ TableName: deps.db.table, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': keys.loginPartition(loginHash(before)) } }));
    expect(Items).toEqual([]);

    const admin = await createMember(deps.db, a.agencyId, { name: 'Ad Min', email: `admin.${t}@example.com`, role: 'admin' }, deps.now());
    const lead = await createMember(deps.db, a.agencyId, { name: 'Lee', email: after, role: 'lead' }, deps.now());
    expect((await loginChoices(deps.db, loginHash(after))).map((c) => c.role)).toEqual(['Lead', 'Pro']);
    const session = await consoleSession(deps, { kind: 'member', agencyId: a.agencyId, memberId: lead.memberId });
    await deactivateMember(deps.db, a.agencyId, lead.memberId, { memberId: admin.memberId }, deps.now());
    expect((await loginChoices(deps.db, loginHash(after))).map((c) => c.role)).toEqual(['Pro']);
    expect(await resolveSession(deps.db, session.sessionId, deps.now())).toBeNull();
    expect((await getMember(deps.db, a.agencyId, lead.memberId)).deactivatedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('a link sent before the person’s address changed no longer signs in; one sent to the new address does', async () => {
    const t = tag();
    const a = await agencyWith();
    const before = `typo.${t}@example.com`;
    const after = `right.${t}@example.com`;
    const pro = await createPro(deps.db, a.agencyId, { name: 'Mo', email: before }, deps.now());
    expect((await app.request('/login', form({ email: before }))).status).toBe(303);
    const [stale] = await linksTo(before);
    // The admin corrects the address: whoever holds the old one is not the pro.
    await updatePro(deps.db, a.agencyId, pro.proId, { email: after }, deps.now());
    const refused = await app.request(stale!.path, form({}));
    expect([refused.status, refused.headers.get('Set-Cookie')]).toEqual([404, null]);
    expect(await refused.text()).toContain('This sign-in link does not work');

    expect((await app.request('/login', form({ email: after }))).status).toBe(303);
    const [fresh] = await linksTo(after);
    const signedIn = await app.request(fresh!.path, form({}));
    expect(signedIn.status).toBe(303);
    expect(await resolveSession(deps.db, cookieOf(signedIn)!, deps.now())).toMatchObject({ kind: 'pro', proId: pro.proId, email: after });
  });

  it('keeps at least one admin, and an admin cannot deactivate themself', async () => {
    const t = tag();
    const a = await agencyWith();
    const first = await createMember(deps.db, a.agencyId, { name: 'First', email: `first.${t}@example.com`, role: 'admin' }, deps.now());
    await expect(updateMember(deps.db, a.agencyId, first.memberId, { role: 'lead' }, deps.now())).rejects.toMatchObject({ field: 'role', message: 'An agency keeps at least one admin: make another member admin first' });
    await expect(deactivateMember(deps.db, a.agencyId, first.memberId, { memberId: first.memberId }, deps.now())).rejects.toThrow('You cannot deactivate yourself: ask another admin');
    const second = await createMember(deps.db, a.agencyId, { name: 'Second', email: `second.${t}@example.com`, role: 'lead' }, deps.now());
    await updateMember(deps.db, a.agencyId, second.memberId, { role: 'admin', name: 'Second Admin' }, deps.now());
    // Each demotes the other at once: one wins, the agency keeps an admin.
    const results = await Promise.allSettled([
      updateMember(deps.db, a.agencyId, first.memberId, { role: 'lead' }, deps.now()),
      deactivateMember(deps.db, a.agencyId, second.memberId, { memberId: first.memberId }, deps.now()),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const members = await listMembers(deps.db, a.agencyId);
    expect(members.filter((m) => m.role === 'admin' && !m.deactivatedAt)).toHaveLength(1);
    const { Item } = await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.memberAdmins(a.agencyId) }));
    expect(Item?.n).toBe(1);
  });
});
