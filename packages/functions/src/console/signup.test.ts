import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { getAgency, listAllPros, resolveSession } from '@rapport/core';
import { sesEmails, testDeps } from '@rapport/testing';
import { createApp } from '../api/app';
import { inProcessSendQueue, type Deps } from '../deps';
import { SIGN_IN_LIMIT_PER_EMAIL } from './login';

const queue = inProcessSendQueue(() => deps);
const deps: Deps = testDeps({ queue });
Object.assign(deps.config, { signUpOpen: true });
const app = createApp(deps);
const closedApp = createApp({ ...deps, config: { ...deps.config, signUpOpen: false } });
afterAll(() => queue.stop());

const form = (body: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(body).toString(),
});
const fields = (email: string) => ({ agencyName: 'Wren PR', name: 'Wes Wren', email, sendsSurveys: 'on' });

/** The sign-up link in the latest email to an address. */
async function linkTo(address: string) {
  await queue.drain();
  const text = (await sesEmails({ to: address })).at(-1)?.body.text ?? '';
  return /http:\/\/localhost:3000(\/signup\/[A-Za-z0-9_-]{43})\n/.exec(text)?.[1];
}

describe('/signup', () => {
  it('asks for a link with the agency, the person and the checkbox checked; answers "check your email"; a scanner’s GET creates nothing; the POST creates and signs in', async () => {
    const page = await (await app.request('/signup')).text();
    expect(page).toContain('<input type="checkbox" id="sendsSurveys" name="sendsSurveys" value="on" checked=""');
    expect(await (await app.request('/login')).text()).toContain('<a href="/signup">Start your agency</a>');
    expect(await (await app.request('/')).text()).toContain('href="/signup"');

    const email = `wes.${randomUUID().slice(0, 8)}@wren.example`;
    const asked = await app.request('/signup', form(fields(email)));
    expect([asked.status, asked.headers.get('Location')]).toEqual([303, '/signup/sent']);
    const path = (await linkTo(email))!;
    const shown = await app.request(path);
    expect(shown.status).toBe(200);
    expect(await shown.text()).toContain('<button type="submit">Create the agency and sign in</button>');
    // Opening the link twice (a mail scanner, then the person) changes nothing.
    expect((await app.request(path)).status).toBe(200);

    const created = await app.request(path, form({}));
    expect([created.status, created.headers.get('Location')]).toEqual([303, '/app']);
    const session = created.headers.get('Set-Cookie')!.match(/rapport_session=([^;]*)/)![1]!;
    const viewer = (await resolveSession(deps.db, session, deps.now()))!;
    expect(viewer).toMatchObject({ kind: 'member', role: 'admin', name: 'Wes Wren', email });
    expect((await getAgency(deps.db, viewer.agencyId)).name).toBe('Wren PR');
    expect((await listAllPros(deps.db, viewer.agencyId)).map((p) => [p.name, p.email])).toEqual([['Wes Wren', email]]);
    // The first-steps panel on /app links to her own pro page.
    const home = await (await app.request('/app', { headers: { Cookie: `rapport_session=${session}` } })).text();
    expect(home).toContain('<h2 id="first-steps-h">First steps</h2>');
    expect(home).toContain(`<a href="/app/pros/${(await listAllPros(deps.db, viewer.agencyId))[0]!.proId}">Your own results</a>`);
    // Used once.
    expect((await app.request(path, form({}))).status).toBe(404);
  });

  it('shows each error next to its field with the values kept (400), unchecked stays unchecked; no email', async () => {
    const res = await app.request('/signup', form({ agencyName: ' ', name: 'Wes', email: 'wes at wren' }));
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('<p class="error" id="agencyName-error">Enter your agency’s name (up to 200 characters)</p>');
    expect(html).toContain('<p class="error" id="email-error">Enter an email address, such as jane@agency.example</p>');
    expect(html).not.toContain('id="name-error"');
    expect(html).toContain('value="wes at wren"');
    expect(html).not.toMatch(/id="sendsSurveys"[^>]*checked/);
  });

  it('answers a malformed multipart form with the form and its errors (400), not a 500, and sends nothing', async () => {
    const email = `broken.${randomUUID().slice(0, 8)}@wren.example`;
    const body = `--xyz\r\nContent-Disposition: form-data; name="email"\r\n\r\n${email}`;
    for (const contentType of ['multipart/form-data; boundary=xyz', 'multipart/form-data']) {
      const res = await app.request('/signup', { method: 'POST', headers: { 'Content-Type': contentType }, body });
      expect(res.status).toBe(400);
      expect(res.headers.get('Content-Type')).toBe('text/html; charset=UTF-8');
      expect(await res.text()).toContain('<p class="error" id="email-error">Enter an email address, such as jane@agency.example</p>');
    }
    expect(await linkTo(email)).toBeUndefined();
  });

  it('refuses a cross-site form; counts requests with the sign-in ones (429 over the limit)', async () => {
    const email = `limit.${randomUUID().slice(0, 8)}@wren.example`;
    expect((await app.request('/signup', form(fields(email), { 'Sec-Fetch-Site': 'cross-site' }))).status).toBe(403);
    for (let i = 0; i < SIGN_IN_LIMIT_PER_EMAIL; i++) expect((await app.request('/signup', form(fields(email)))).status).toBe(303);
    expect((await app.request('/signup', form(fields(email)))).status).toBe(429);
    expect((await app.request('/login', form({ email }))).status).toBe(429);
  });

  it('closed (the default, and production’s): the pages say to ask the agency’s admin, the POST is refused, nothing links to it', async () => {
    const page = await closedApp.request('/signup');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<h1>Ask your agency’s admin</h1>');
    expect((await closedApp.request('/signup', form(fields('x@wren.example')))).status).toBe(403);
    expect((await closedApp.request(`/signup/${'x'.repeat(43)}`, form({}))).status).toBe(403);
    expect(await (await closedApp.request('/login')).text()).not.toContain('/signup');
    expect(await (await closedApp.request('/')).text()).not.toContain('/signup');
  });
});
