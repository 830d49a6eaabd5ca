import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createAgency, createCampaign, createPro, createRound, getResponse, getRound, openInvitation, signInvitationToken } from '@rapport/core';
import { deliver } from '@rapport/core/sending/dispatch';
import { launchBrowser, serveOnFreePort, sesEmails, testDeps, workerAt } from '@rapport/testing';
import { createApp } from '../api/app';

const deps = testDeps();
let n = 0;

async function invitationLink(audience = 'reporter', attribution = 'anonymous', proName = 'Jane <b>Doe</b>') {
  const now = deps.now();
  const agency = await createAgency(deps.db, { name: `Page test ${++n}` }, now);
  const pro = await createPro(deps.db, agency.agencyId, { name: proName, email: `jane${n}-${Date.now()}@acme.example` }, now);
  const campaign = await createCampaign(deps.db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, now);
  const email = `r${n}-${Date.now()}@x.example`;
  const { round, accepted } = await createRound(deps.db, agency.agencyId, campaign.campaignId, { attribution, recipients: [{ email, audience }] }, now);
  const ref = { roundId: round.roundId, invitationId: accepted[0]!.invitationId };
  return { agencyId: agency.agencyId, ref, email, path: `/s/${signInvitationToken(deps.linkSecret, ref)}` };
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

  it('isolates a name carrying a right-to-left override (U+202E) in the page, and in the invitation actually sent, whose headers lose it', async () => {
    const { ref, email, path } = await invitationLink('reporter', 'anonymous', 'Jane \u202eeoD');
    const page = await browser.newPage();
    // The control first: unisolated, the override does reverse what follows it in this browser.
    await page.setContent('<p id="t">Jane \u202eeoD on the Launch</p>');
    const leaked = await page.evaluate(`(() => {
      const text = document.getElementById('t').firstChild;
      const at = (from, to) => { const r = document.createRange(); r.setStart(text, from); r.setEnd(text, to); return r.getBoundingClientRect().left; };
      const s = text.data;
      return at(s.indexOf(' on') + 1, s.indexOf(' on') + 3) > at(s.indexOf('the'), s.indexOf('the') + 3);
    })()`);
    expect(leaked).toBe(true);

    await page.goto(`${server.url}${path}`);
    // Every text holding the override sits inside a <bdi>, the title has none, and the words after the name read left to right.
    const report = await page.evaluate<{ outside: number; inside: number; title: string; inOrder: boolean }>(`(() => {
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      let outside = 0, inside = 0;
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.data.includes('\u202e')) continue;
        if (node.parentElement.closest('bdi')) inside++; else outside++;
      }
      const h1 = document.querySelector('h1');
      const after = h1.querySelector('bdi').nextSibling;
      const at = (from, to) => { const r = document.createRange(); r.setStart(after, from); r.setEnd(after, to); return r.getBoundingClientRect().left; };
      const s = after.data;
      return { outside, inside, title: document.title, inOrder: at(s.indexOf('on'), s.indexOf('on') + 2) < at(s.indexOf('the'), s.indexOf('the') + 3) };
    })()`);
    expect(report).toEqual({ outside: 0, inside: expect.any(Number), title: 'Feedback on Jane eoD', inOrder: true });
    expect(report.inside).toBeGreaterThanOrEqual(8);
    await page.close();

    // The invitation as the local SES server received it: no bidi control in Subject, From or To; the name isolated in the HTML.
    expect(await deliver(workerAt(deps, deps.now()), { kind: 'invitation', ...ref })).toBe('sent');
    const [sent, ...more] = await sesEmails({ to: email });
    expect(more).toEqual([]);
    expect(sent!.subject).toBe('How responsive was Jane eoD on the Spring Launch?');
    expect(sent!.from).toBe('"Jane eoD via Rapport" <surveys@rapport.example>');
    for (const part of [sent!.subject, sent!.from, ...sent!.destination.to, sent!.body.text!, sent!.body.html!]) expect(part).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    expect(sent!.body.html).toContain('When you needed something from <span dir="auto" style="unicode-bidi:isolate;">Jane eoD</span>, how responsive were they?');
  });

  it('works by keyboard alone and shows a clear error when the headline is missing', async () => {
    const { ref, path } = await invitationLink('client');
    const page = await browser.newPage();
    await page.goto(`${server.url}${path}`);
    // The headline is `required`: the browser itself stops the form and says so.
    await page.getByRole('button', { name: 'Send my answers' }).focus();
    await page.keyboard.press('Enter');
    expect(await page.locator('input[name=responsiveness]:invalid').count()).toBe(5);
    expect(await page.locator('.errors').count()).toBe(0);
    // A browser that does not validate sends it anyway: the page answers in the respondent's words,
    // marks the question invalid and ties the words to it.
    await page.evaluate(`document.querySelector('form').noValidate = true`);
    await page.getByRole('button', { name: 'Send my answers' }).press('Enter');
    const message = 'Please choose how responsive Jane <b>Doe</b> was, from 1 to 5: this question is required.';
    expect((await page.locator('.errors').innerText()).split(/\n+/)).toEqual(['Please check the marked question:', message]);
    expect(await page.locator('#responsiveness-error').innerText()).toBe(message);
    expect(await page.locator('#q-responsiveness').getAttribute('aria-describedby')).toBe('responsiveness-error');
    expect(await page.locator('input[name=responsiveness][aria-invalid=true]').count()).toBe(5);
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
