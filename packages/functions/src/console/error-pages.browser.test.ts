import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page, Response as Answer } from 'playwright-core';
import { cancelRound, createCampaign, createMember, createPro, createRound, getRound, MAX_MEDIA_LIST_BYTES } from '@rapport/core';
import { addSessionCookie, agencyFixture, consoleSession, expectAccessible, launchBrowser, PHONE, serveOnFreePort, testDeps, type AgencyFixture } from '@rapport/testing';
import { MAX_BODY_BYTES } from '../api/limits';
import { SIGN_IN_LIMIT_PER_EMAIL } from './login';
import { inProcessSendQueue, type Deps } from '../deps';

/**
 * The pages a person meets only when something stands in the way (too many sign-in requests, a form
 * or list too large, a conflict), and the close-now confirmation, in Chromium at a 390 px phone:
 * axe-core WCAG 2.1 AA and no horizontal scroll, like every other console page.
 */
const queue = inProcessSendQueue(() => deps);
let deps: Deps;
let browser: Browser;
let server: Awaited<ReturnType<typeof serveOnFreePort>>;
let f: AgencyFixture;

beforeAll(async () => {
  deps = { ...testDeps(), queue };
  f = await agencyFixture(deps);
  [browser, server] = await Promise.all([launchBrowser(), serveOnFreePort(f.app.fetch)]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await queue.stop();
});

const phone = () => browser.newContext(PHONE);
const audit = expectAccessible;

/** Clicks a form's button and returns the answer to its POST. */
async function submit(page: Page, button: string): Promise<Answer> {
  const [answer] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: button }).click()]);
  await page.waitForLoadState();
  return answer;
}

/** The page's main text, a line per block. */
const mainLines = async (page: Page) => (await page.locator('main').innerText()).split(/\n+/);

let admins = 0;
async function signedInAdmin(): Promise<BrowserContext> {
  const u = f.agencyId.slice(-8).toLowerCase();
  const admin = await createMember(deps.db, f.agencyId, { name: 'Ada Admin', email: `ada${++admins}-${u}@agency.example`, role: 'admin' }, deps.now());
  const context = await phone();
  await addSessionCookie(context, deps, server.url, (await consoleSession(deps, { kind: 'member', agencyId: f.agencyId, memberId: admin.memberId })).sessionId);
  return context;
}

describe('refusal and confirmation pages in Chromium', () => {
  it('the 429 page: one sign-in request too many for an address', async () => {
    const context = await phone();
    const page = await context.newPage();
    const email = `nobody-${f.agencyId.slice(-8).toLowerCase()}@unknown.example`;
    const statuses: number[] = [];
    for (let i = 0; i <= SIGN_IN_LIMIT_PER_EMAIL; i++) {
      await page.goto(`${server.url}/login`);
      await page.getByLabel('Email address').fill(email);
      statuses.push((await submit(page, 'Email me a sign-in link')).status());
    }
    expect(statuses).toEqual([...Array(SIGN_IN_LIMIT_PER_EMAIL).fill(303), 429]);
    expect(await page.locator('h1').innerText()).toBe('Please try again in a few minutes');
    expect(await mainLines(page)).toEqual(['Please try again in a few minutes', expect.stringMatching(/^There were many requests in a short while\. Please try again in \d+ min\.$/), 'Back to the start']);
    await audit(page);
    await context.close();
  }, 60_000);

  it('the 413 pages: a media list over 1 MB, and a form over its limit', async () => {
    const context = await signedInAdmin();
    const page = await context.newPage();
    const pro = await createPro(deps.db, f.agencyId, { name: 'Lia Large', email: `lia-${f.agencyId.slice(-8).toLowerCase()}@acme.example` }, deps.now());
    const campaign = await createCampaign(deps.db, f.agencyId, { proId: pro.proId, name: 'Big List' }, deps.now());
    // A list one byte over 1 MB: step 1 says so on a page of its own.
    await page.goto(`${server.url}/app/rounds/new`);
    await page.getByLabel('Campaign', { exact: true }).selectOption(campaign.campaignId);
    const header = 'Email\n';
    await page.getByLabel('A CSV file').setInputFiles({ name: 'big.csv', mimeType: 'text/csv', buffer: Buffer.from(header + 'x'.repeat(MAX_MEDIA_LIST_BYTES + 1 - header.length)) });
    expect((await submit(page, 'Next: columns')).status()).toBe(413);
    expect(await mainLines(page)).toEqual([
      'The list is too large',
      'A media list can have up to 2,000 contacts and 1 MB. Please split it, or remove columns you do not need, and try again.',
      'Start again',
    ]);
    await audit(page);
    // Any other form over its limit: a name longer than the body a console form may send.
    await page.goto(`${server.url}/app/admin/pros`);
    await page.getByLabel('Name', { exact: true }).fill('x'.repeat(MAX_BODY_BYTES));
    await page.getByLabel('Email', { exact: true }).fill('long@acme.example');
    expect((await submit(page, 'Add the pro')).status()).toBe(413);
    expect(await mainLines(page)).toEqual(['This form is too large', 'Please shorten what you typed, and send it again.', 'Back to the start']);
    await audit(page);
    await context.close();
  }, 60_000);

  it('the close-now confirmation, and the 409 page when the round was cancelled meanwhile', async () => {
    const context = await signedInAdmin();
    const page = await context.newPage();
    const u = f.agencyId.slice(-8).toLowerCase();
    const pro = await createPro(deps.db, f.agencyId, { name: 'Cal Close', email: `cal-${u}@acme.example` }, deps.now());
    const campaign = await createCampaign(deps.db, f.agencyId, { proId: pro.proId, name: 'Close Call' }, deps.now());
    const { round } = await createRound(deps.db, f.agencyId, campaign.campaignId, { recipients: [{ email: `rae-${u}@news.example`, audience: 'reporter' }] }, deps.now());
    await page.goto(`${server.url}/app/rounds/${round.roundId}`);
    expect((await submit(page, 'Close now…')).status()).toBe(200);
    expect(await page.locator('#confirm').innerText()).toBe('Close this round now?');
    await audit(page);
    // Someone cancels it while the confirmation is open: closing it is a conflict, said in words.
    await cancelRound(deps.db, f.agencyId, round.roundId);
    expect((await submit(page, 'Yes, close it now')).status()).toBe(409);
    expect(await mainLines(page)).toEqual(['This could not be done', 'The survey was cancelled', 'Back to the start']);
    await audit(page);
    expect((await getRound(deps.db, f.agencyId, round.roundId)).status).toBe('cancelled');
    await context.close();
  }, 60_000);
});
