import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createAgency, createCampaign, createPro, createRound, getResponse, getRound, openInvitation, signInvitationToken } from '@rapport/core';
import { launchBrowser, serveOnFreePort, testDeps } from '@rapport/testing';
import { createApp } from '../api/app';

const deps = testDeps();
let n = 0;

async function invitationLink(audience = 'reporter', attribution = 'anonymous') {
  const now = deps.now();
  const agency = await createAgency(deps.db, { name: `Page test ${++n}` }, now);
  const pro = await createPro(deps.db, agency.agencyId, { name: 'Jane <b>Doe</b>', email: `jane${n}-${Date.now()}@acme.example` }, now);
  const campaign = await createCampaign(deps.db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, now);
  const { round, accepted } = await createRound(deps.db, agency.agencyId, campaign.campaignId, { attribution, recipients: [{ email: `r${n}-${Date.now()}@x.example`, audience }] }, now);
  const ref = { roundId: round.roundId, invitationId: accepted[0]!.invitationId };
  return { agencyId: agency.agencyId, ref, path: `/s/${signInvitationToken(deps.linkSecret, ref)}` };
}

describe('survey page in a real browser', () => {
  let browser: Browser;
  let server: Awaited<ReturnType<typeof serveOnFreePort>>;
  beforeAll(async () => {
    server = await serveOnFreePort(createApp(deps).fetch);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('opens with the clicked score selected, records nothing on GET, stores the answers on submit, and revises', async () => {
    const { agencyId, ref, path } = await invitationLink('reporter');
    const page = await browser.newPage({ viewport: { width: 375, height: 740 } });
    for (let score = 1; score <= 5; score++) {
      const res = await page.goto(`${server.url}${path}?score=${score}`);
      expect(res!.status()).toBe(200);
    }
    expect(await getResponse(deps.db, ref)).toBeNull();
    expect((await openInvitation(deps.db, ref)).invitation.status).toBe('pending');

    await page.goto(`${server.url}${path}?score=4`);
    // The pro's name is shown as text, never as markup.
    await expect(page.locator('h1').innerText()).resolves.toContain('Jane <b>Doe</b>');
    expect(await page.locator('input[name=responsiveness][value="4"]').isChecked()).toBe(true);
    // Exactly the reporter's three dimension items, plus the headline and NPS.
    expect(await page.locator('fieldset legend').allInnerTexts()).toHaveLength(6);
    await page.getByLabel('9', { exact: true }).check();
    await page.locator('input[name=relevance][value="5"]').check();
    await page.getByLabel(/one thing could/).fill('Reply before my 5 pm deadline.');
    await page.getByLabel(/quote your comment/).check();
    // No horizontal scrolling on a phone.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await page.getByRole('button', { name: 'Send my answers' }).click();
    await expect(page.locator('h1').innerText()).resolves.toBe('Thank you');

    expect(await getResponse(deps.db, ref)).toMatchObject({
      revision: 1,
      answers: { responsiveness: 4, recommend: 9, relevance: 5, improve: 'Reply before my 5 pm deadline.', quoteConsent: true },
    });
    expect((await openInvitation(deps.db, ref)).invitation.status).toBe('responded');

    // Back to the link: an anonymous answer is never shown again (whoever holds the link would read
    // it), and answering again replaces it whole.
    await page.goto(`${server.url}${path}`);
    expect(await page.locator('input[name=recommend][value="9"]').isChecked()).toBe(false);
    expect(await page.locator('textarea[name=improve]').inputValue()).toBe('');
    await page.locator('input[name=responsiveness][value="2"]').check();
    await page.getByRole('button', { name: 'Send my answers' }).click();
    expect((await getResponse(deps.db, ref))?.answers).toEqual({ responsiveness: 2, quoteConsent: false });
    expect(await getResponse(deps.db, ref)).toMatchObject({ revision: 2 });
    expect((await getRound(deps.db, agencyId, ref.roundId)).counts).toMatchObject({ pending: 0, responded: 1 });
    await page.close();
  });

  it('works by keyboard alone and shows a clear error when the headline is missing', async () => {
    const { ref, path } = await invitationLink('client');
    const page = await browser.newPage();
    await page.goto(`${server.url}${path}`);
    await page.getByRole('button', { name: 'Send my answers' }).focus();
    await page.keyboard.press('Enter');
    await expect(page.locator('.errors').innerText()).resolves.toContain('Please check the marked questions');
    expect(await getResponse(deps.db, ref)).toBeNull();
    await page.locator('input[name=responsiveness][value="3"]').focus();
    await page.keyboard.press('Space');
    await page.getByRole('button', { name: 'Send my answers' }).press('Enter');
    await expect(page.locator('h1').innerText()).resolves.toBe('Thank you');
    expect((await getResponse(deps.db, ref))!.answers.responsiveness).toBe(3);
    await page.close();
  });
});

describe('survey links without a browser', () => {
  const app = createApp(deps);

  it('gives a forged, altered or unknown link the same page, revealing nothing', async () => {
    const { path } = await invitationLink();
    const altered = path.slice(0, -2) + (path.endsWith('AA') ? 'BB' : 'AA');
    const unknown = `/s/${signInvitationToken(deps.linkSecret, { roundId: 'rnd_01JAAAAAAAAAAAAAAAAAAAAAAA', invitationId: 'inv_01JAAAAAAAAAAAAAAAAAAAAAAA' })}`;
    const pages = await Promise.all([altered, unknown, '/s/garbage'].map(async (p) => {
      const res = await app.request(p);
      return { status: res.status, body: await res.text() };
    }));
    expect(pages.map((p) => p.status)).toEqual([404, 404, 404]);
    expect(new Set(pages.map((p) => p.body)).size).toBe(1);
    expect(pages[0]!.body).toContain('This link is not valid');
    const post = await app.request(altered, { method: 'POST', body: new URLSearchParams({ responsiveness: '5' }) });
    expect(post.status).toBe(404);
  });

  it('sends strict security headers', async () => {
    const { path } = await invitationLink();
    const res = await app.request(path);
    expect(res.headers.get('Content-Security-Policy')).toBe(
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(res.headers.get('Referrer-Policy')).toBe('no-referrer');
    expect(res.headers.get('X-Frame-Options')).toBe('DENY');
    expect(await res.text()).not.toContain('<script');
  });

  it('shows a friendly closed page once the round has closed, and refuses answers', async () => {
    const { ref, path } = await invitationLink();
    const closedApp = createApp({ ...deps, now: () => new Date(Date.now() + 15 * 86_400_000) });
    const res = await closedApp.request(path);
    expect(res.status).toBe(410);
    expect(await res.text()).toContain('This survey has closed');
    const post = await closedApp.request(path, { method: 'POST', body: new URLSearchParams({ responsiveness: '5' }) });
    expect(post.status).toBe(410);
    expect(await getResponse(deps.db, ref)).toBeNull();
  });
});
