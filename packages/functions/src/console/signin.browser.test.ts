import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createAgency, createMember, createPro, listMembers, type Agency } from '@rapport/core';
import { addSessionCookie, consoleSession, expectAccessible, launchBrowser, PHONE, serveOnFreePort, sesEmails, testDeps } from '@rapport/testing';
import { createApp } from '../api/app';
import { inProcessSendQueue, type Deps } from '../deps';

/**
 * Signing in to the console in Chromium, with the links taken from the SES store. The app is served
 * at http://localhost:<port>; a second server at http://127.0.0.1:<port> plays another site.
 */
const queue = inProcessSendQueue(() => deps);
let offsetMs = 0;
const deps: Deps = testDeps({ queue, now: () => new Date(Date.now() + offsetMs) });
let browser: Browser;
let app: Awaited<ReturnType<typeof serveOnFreePort>>;
let other: Awaited<ReturnType<typeof serveOnFreePort>>;
let base: string;

const tag = () => randomUUID().slice(0, 8);

beforeAll(async () => {
  browser = await launchBrowser();
  app = await serveOnFreePort(createApp(deps).fetch);
  base = app.url.replace('127.0.0.1', 'localhost');
  // Links in the emails point at this server.
  Object.assign(deps.config, { publicUrl: base });
  // Another site: a page that sends a form to the URL in `?to=` as soon as it loads.
  other = await serveOnFreePort((request) => {
    const to = new URL(request.url).searchParams.get('to') ?? '';
    const html = `<!doctype html><title>Win a prize</title><form id="f" method="post" action="${to.replace(/"/g, '&quot;')}"><input type="hidden" name="_csrf" value="guess"></form><script>document.getElementById('f').submit()</script>`;
    return new Response(html, { headers: { 'Content-Type': 'text/html; charset=utf-8' } });
  });
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await other?.close();
  await queue.stop();
});

const phone = () => browser.newContext(PHONE);
const audit = expectAccessible;

/** The sign-in links of the latest email to an address. */
async function latestLinks(address: string) {
  await queue.drain();
  const mail = (await sesEmails({ to: address })).at(-1);
  expect(mail, `an email to ${address}`).toBeDefined();
  return { mail: mail!, links: [...mail!.body.html!.matchAll(/href="([^"]+\/login\/[^"]+)"/g)].map((m) => m[1]!) };
}

/** Asks for a sign-in link on the page, as a person would, and returns the one link emailed. */
async function askForLink(page: Page, email: string, next?: string) {
  await page.goto(`${base}/login${next ? `?next=${encodeURIComponent(next)}` : ''}`);
  const before = (await sesEmails({ to: email })).length;
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await page.waitForURL(`${base}/login/sent`);
  await queue.drain();
  expect(await sesEmails({ to: email })).toHaveLength(before + 1);
  const { links } = await latestLinks(email);
  expect(links).toHaveLength(1);
  return links[0]!;
}

async function signIn(page: Page, link: string, landing = '/app') {
  await page.goto(link);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}${landing}`);
}

async function agencyWithPro(): Promise<{ agency: Agency; email: string; proId: string }> {
  const agency = await createAgency(deps.db, { name: `Acme ${tag()}` }, deps.now());
  const email = `jane.${tag()}@acme.example`;
  const pro = await createPro(deps.db, agency.agencyId, { name: 'Jane Doe', email }, deps.now());
  return { agency, email, proId: pro.proId };
}

describe('console sign-in in Chromium', () => {
  it('a pro signs in through the emailed link and lands on /app; the public pages pass axe at 390 px', async () => {
    const { agency, email } = await agencyWithPro();
    const context = await phone();
    const page = await context.newPage();
    await page.goto(`${base}/`);
    expect(await page.locator('h1').innerText()).toBe('Rapport');
    expect(await page.getByRole('link', { name: 'API reference' }).getAttribute('href')).toBe('/docs');
    expect(await page.getByRole('link', { name: 'Local inbox' }).getAttribute('href')).toBe(`${new URL(deps.config.sesEndpoint!).origin}/`);
    await audit(page);
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/login`);
    await audit(page);
    // A mistyped address is shown next to its field.
    await page.getByLabel('Email address').fill('jane at acme');
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    expect(await page.locator('#email-error').innerText()).toBe('Enter an email address, such as jane@agency.example');
    await audit(page);

    const link = await askForLink(page, email);
    expect(await page.locator('h1').innerText()).toBe('Check your email');
    await audit(page);
    await page.goto(link);
    await audit(page);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/app`);
    await page.goto(`${base}/app/account`);
    expect(await page.locator('.facts').innerText()).toBe(`Name\nJane Doe\nEmail\n${email}\nAgency\n${agency.name}\nRole\nPro: your own results and rounds`);
    await audit(page);
    // The pages that answer a wrong turn: a used link, a missing page, sign-up while closed.
    for (const [path, status, title] of [[new URL(link).pathname, 404, 'This sign-in link does not work'], ['/app/nothing', 404, 'Page not found'], ['/signup', 200, 'Ask your agency’s admin']] as const) {
      expect((await page.goto(`${base}${path}`))!.status(), path).toBe(status);
      expect(await page.locator('h1').innerText()).toBe(title);
      await audit(page);
    }
    await context.close();
  }, 60_000);

  it('a pro signs in using only the keyboard', async () => {
    const { email } = await agencyWithPro();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    const focused = () => page.evaluate<string>(`document.activeElement.id || document.activeElement.textContent.trim()`);
    const tabTo = async (target: string) => {
      for (let i = 0; i < 12 && (await focused()) !== target; i++) await page.keyboard.press('Tab');
      expect(await focused()).toBe(target);
    };
    await tabTo('email');
    await page.keyboard.type(email);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/login/sent`);
    const { links } = await latestLinks(email);
    await page.goto(links[0]!);
    await tabTo('Sign in');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/app`);
    await page.goto(`${base}/app/account`);
    await tabTo('Sign out everywhere');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/login?signedOut=1`);
    expect(await page.locator('[role=status]').innerText()).toBe('You are signed out.');
    await context.close();
  }, 60_000);

  it('an admin signs in and invites a lead; the lead’s email arrives, the lead signs in and gets a 403 page on the admin pages', async () => {
    const agency = await createAgency(deps.db, { name: `Beta ${tag()}` }, deps.now());
    const adminEmail = `boss.${tag()}@beta.example`;
    const admin = await createMember(deps.db, agency.agencyId, { name: 'Bea Boss', email: adminEmail, role: 'admin' }, deps.now());
    const context = await phone();
    const page = await context.newPage();
    // Asked for from a page behind sign-in: the link brings the admin back there.
    await page.goto(`${base}/app/admin/members`);
    await page.waitForURL(`${base}/login?next=%2Fapp%2Fadmin%2Fmembers`);
    await page.getByLabel('Email address').fill(adminEmail);
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.waitForURL(`${base}/login/sent`);
    const { links } = await latestLinks(adminEmail);
    await signIn(page, links[0]!, '/app/admin/members');
    expect(await page.locator('h1').innerText()).toBe('Members');
    await audit(page);

    await page.getByRole('link', { name: 'Invite a member' }).click();
    await audit(page);
    const leadEmail = `lee.${tag()}@beta.example`;
    await page.getByLabel('Name').fill('Lee Lead');
    await page.getByLabel('Email address').fill('lee at beta');
    await page.getByRole('button', { name: 'Invite' }).click();
    expect(await page.locator('#email-error').innerText()).toBe('Email must be a valid email address');
    expect(await page.getByLabel('Name').inputValue()).toBe('Lee Lead');
    await audit(page);
    await page.getByLabel('Email address').fill(leadEmail);
    await page.getByRole('button', { name: 'Invite' }).click();
    await page.waitForURL(`${base}/app/admin/members?done=invited`);
    expect(await page.locator('tbody').innerText()).toContain('Lee Lead');
    const members = await listMembers(deps.db, agency.agencyId);
    expect(members.map((m) => [m.name, m.email, m.role, m.deactivatedAt])).toEqual([
      ['Bea Boss', adminEmail, 'admin', undefined],
      ['Lee Lead', leadEmail, 'lead', undefined],
    ]);

    const invitation = await latestLinks(leadEmail);
    expect(invitation.mail.subject).toBe(`Bea Boss invited you to ${agency.name} on Rapport`);
    expect(invitation.links).toHaveLength(1);
    const leadContext = await phone();
    const leadPage = await leadContext.newPage();
    await signIn(leadPage, invitation.links[0]!);
    await leadPage.goto(`${base}/app/account`);
    expect(await leadPage.locator('.facts dd').nth(0).innerText()).toBe('Lee Lead');
    const refused = await leadPage.goto(`${base}/app/admin/members`);
    expect(refused!.status()).toBe(403);
    expect(await leadPage.locator('h1').innerText()).toBe('Not allowed');
    await audit(leadPage);

    // The admin renames the lead and deactivates them: the lead's session ends.
    await page.getByRole('link', { name: 'Lee Lead' }).click();
    await audit(page);
    await page.getByLabel('Name').fill('Lee L. Lead');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(`${base}/app/admin/members?done=saved`);
    await page.getByRole('link', { name: 'Lee L. Lead' }).click();
    await page.getByRole('button', { name: 'Deactivate Lee L. Lead' }).click();
    await page.waitForURL(`${base}/app/admin/members?done=deactivated`);
    expect(await page.locator('tbody tr').nth(1).innerText()).toMatch(/^Lee L\. Lead\n.+\tLead\ndeactivated \d{4}-\d\d-\d\d$/);
    await audit(page);
    await leadPage.goto(`${base}/app/account`);
    expect(leadPage.url()).toBe(`${base}/login?next=%2Fapp%2Faccount`);
    // The admin's own page offers no way to deactivate themself.
    await page.goto(`${base}/app/admin/members/${admin.memberId}`);
    expect(await page.getByRole('button', { name: /^Deactivate/ }).count()).toBe(0);
    await leadContext.close();
    await context.close();
  }, 90_000);

  it('refuses what must not sign in: a scanner’s GETs, a used, an expired or a forged link, a cross-site form', async () => {
    const { email } = await agencyWithPro();
    const context = await browser.newContext();
    const page = await context.newPage();

    // The answer to asking is the same page for a known and an unknown address.
    const link = await askForLink(page, email);
    const knownHtml = await page.content();
    await page.goto(`${base}/login`);
    await page.getByLabel('Email address').fill(`nobody.${tag()}@acme.example`);
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.waitForURL(`${base}/login/sent`);
    expect(await page.content()).toBe(knownHtml);

    // A link scanner opens the link several times: nothing signs in, the link still works.
    for (let i = 0; i < 3; i++) {
      const scanned = await fetch(link);
      expect([scanned.status, scanned.headers.get('Set-Cookie')]).toEqual([200, null]);
      expect(await scanned.text()).toContain('>Sign in</button>');
    }
    // Another site's form posting the link: refused, and the link is not used up.
    const crossSite = page.waitForResponse((r) => r.url() === link && r.request().method() === 'POST');
    await page.goto(`${other.url}/?to=${encodeURIComponent(link)}`);
    expect((await crossSite).status()).toBe(403);
    expect(await context.cookies(base)).toEqual([]);
    await signIn(page, link);
    const session = (await context.cookies(base)).find((c) => c.name === 'rapport_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });

    // Used: the link's page says it does not work, and so does a forged one, word for word.
    const used = await page.goto(link);
    expect(used!.status()).toBe(404);
    const usedText = await page.locator('main').innerText();
    expect(usedText).toContain('This sign-in link does not work');
    const forged = await page.goto(`${base}/login/${'x'.repeat(43)}`);
    expect(forged!.status()).toBe(404);
    expect(await page.locator('main').innerText()).toBe(usedText);
    expect((await fetch(link, { method: 'POST', headers: { Origin: base } })).status).toBe(404);

    // Expired: sixteen minutes on, the fresh link does not work either.
    const later = await askForLink(page, email);
    offsetMs = 16 * 60_000;
    try {
      expect((await page.goto(later))!.status()).toBe(404);
      expect(await page.locator('main').innerText()).toBe(usedText);
    } finally {
      offsetMs = 0;
    }

    // Another site's form posting /logout: refused, the session lives on.
    const logout = page.waitForResponse((r) => r.url() === `${base}/logout`);
    await page.goto(`${other.url}/?to=${encodeURIComponent(`${base}/logout`)}`);
    expect([303, 403]).toContain((await logout).status());
    const account = await page.goto(`${base}/app/account`);
    expect([account!.status(), page.url()]).toEqual([200, `${base}/app/account`]);
    await context.close();
  }, 90_000);

  it('“sign out everywhere” ends the other sessions of the same person', async () => {
    const { agency, proId } = await agencyWithPro();
    const contexts = await Promise.all([phone(), phone()]);
    const pages = await Promise.all(contexts.map((c) => c.newPage()));
    for (const [i, context] of contexts.entries()) {
      const { sessionId } = await consoleSession(deps, { kind: 'pro', agencyId: agency.agencyId, proId });
      await addSessionCookie(context, deps, base, sessionId);
      await pages[i]!.goto(`${base}/app/account`);
      expect(pages[i]!.url()).toBe(`${base}/app/account`);
    }
    await pages[0]!.getByRole('button', { name: 'Sign out everywhere' }).click();
    await pages[0]!.waitForURL(`${base}/login?signedOut=1`);
    await pages[1]!.goto(`${base}/app/account`);
    expect(pages[1]!.url()).toBe(`${base}/login?next=%2Fapp%2Faccount`);
    await Promise.all(contexts.map((c) => c.close()));
  }, 60_000);
});
