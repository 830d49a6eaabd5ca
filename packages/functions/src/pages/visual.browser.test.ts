import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  createAgency,
  createCampaign,
  createPro,
  createRound,
  RateLimitedError,
  recordCommitment,
  renderAgencySummary,
  renderEarlyWarning,
  renderInvitation,
  renderProSummary,
  renderSignInEmail,
  signInvitationToken,
  signMailToken,
} from '@rapport/core';
import { axeViolations, launchBrowser, overflowing, serveOnFreePort, testDeps } from '@rapport/testing';
import { createApp } from '../api/app';
import { pageError } from './guard';
import { agencySummary, proSummary } from '../../../core/src/summary/render.fixtures';

/**
 * The visual guard: every public page and every email, in real Chromium at a small phone, a
 * common phone and a desktop width. Nothing may spill out of its box, and axe-core must find no
 * WCAG 2.1 AA violation. The screenshots stay in <repo>/test-artifacts/screens (ignored by git)
 * for a person to look at.
 */
const SCREENS = fileURLToPath(new URL('../../../../test-artifacts/screens/', import.meta.url));
const WIDTHS = [320, 390, 1280];

const deps = testDeps();
const app = createApp(deps);
let browser: Browser;
let server: Awaited<ReturnType<typeof serveOnFreePort>>;
/** One page per width, reused for every view. */
const pages = new Map<number, Page>();

/** A page's HTML as the app answers it, with the status. */
async function fetched(path: string, body?: string): Promise<string> {
  const res = await app.request(path, body === undefined ? {} : { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body });
  return res.text();
}

/** An agency with a pro who made a commitment, and links to rounds of each kind. */
async function world() {
  const now = deps.now();
  const agency = await createAgency(deps.db, { name: 'Northwind Communications' }, now);
  const pro = await createPro(deps.db, agency.agencyId, { name: 'Sam Lee', email: `sam-${now.getTime()}@northwind.example` }, now);
  await recordCommitment(deps.db, agency.agencyId, pro.proId, { text: 'I will answer every reporter within two working hours.' }, now);
  const campaign = await createCampaign(deps.db, agency.agencyId, { proId: pro.proId, name: 'Spring Product Launch' }, now);
  let n = 0;
  const link = async (audience: string, attribution = 'anonymous', at = now) => {
    const email = `jordan-${++n}-${now.getTime()}@newsroom.example`;
    const { round, accepted } = await createRound(deps.db, agency.agencyId, campaign.campaignId, { attribution, recipients: [{ email, name: 'Dr. Jordan Avery', audience }] }, at);
    return signInvitationToken(deps.linkSecret, { roundId: round.roundId, invitationId: accepted[0]!.invitationId });
  };
  const mail = signMailToken(deps.linkSecret, { stream: 'summaries', agencyId: agency.agencyId, proId: pro.proId }, now);
  return { link, mail };
}

/** Every view: a name, text it shows (so each screenshot is of the state it is named for; '' for the summaries, whose copy is theirs), and how to get its HTML. */
const views: { name: string; shows: string; html: () => Promise<string> }[] = [];
const view = (name: string, shows: string, html: () => Promise<string>) => views.push({ name, shows, html });

let w: Awaited<ReturnType<typeof world>>;
view('survey-reporter', 'How was working with Sam Lee on the Spring Product Launch?', async () => fetched(`/s/${await w.link('reporter')}`));
view('survey-colleague', 'How was working with Sam Lee on the Spring Product Launch?', async () => fetched(`/s/${await w.link('colleague')}`));
view('survey-client', 'How was working with Sam Lee on the Spring Product Launch?', async () => fetched(`/s/${await w.link('client')}`));
view('survey-named', 'How was working with Sam Lee on the Spring Product Launch?', async () => fetched(`/s/${await w.link('reporter', 'named')}?score=4`));
view('survey-errors', 'How was working with Sam Lee on the Spring Product Launch?', async () => fetched(`/s/${await w.link('reporter')}`, 'recommend=7&improve=' + 'x'.repeat(2001)));
view('thanks-anonymous', 'Thank you', async () => fetched(`/s/${await w.link('reporter')}`, 'responsiveness=4'));
view('thanks-named', 'Thank you', async () => fetched(`/s/${await w.link('client', 'named')}`, 'responsiveness=4'));
view('closed', 'This survey has closed', async () => fetched(`/s/${await w.link('reporter', 'anonymous', new Date(deps.now().getTime() - 60 * 86_400_000))}`));
view('invalid-link', 'This link is not valid', () => fetched('/s/not-a-link'));
view('unsubscribe-confirm', 'Stop these surveys?', async () => fetched(`/u/${await w.link('reporter')}`));
view('unsubscribe-done', 'You are unsubscribed', async () => fetched(`/u/${await w.link('reporter')}`, 'scope=agency'));
view('unsubscribe-undone', 'You are subscribed again', async () => {
  const token = await w.link('reporter');
  await fetched(`/u/${token}`, 'scope=agency');
  return fetched(`/u/${token}`, 'undo=agency');
});
view('preferences', 'Your emails from Rapport', () => fetched(`/m/${w.mail}`));
view('preferences-stopped', 'Stopped', () => fetched(`/m/${w.mail}`, 'stop=summaries'));
view('preferences-partly-stopped', 'Your emails from Rapport', () => fetched(`/m/${w.mail}`));
view('preferences-resumed', 'They will come again', () => fetched(`/m/${w.mail}`, 'resume=summaries'));
view('preferences-nothing-changed', 'Nothing was changed', () => fetched(`/m/${w.mail}`, 'nothing=1'));
// The error pages, from the pages' one error handler.
const failing = new Hono()
  .onError(pageError)
  .get('/429', () => {
    throw new RateLimitedError('Too many requests for this link', 300);
  })
  .get('/500', () => {
    throw new Error('the table is gone');
  });
view('error-429', 'Please try again in a few minutes', async () => (await failing.request('/429')).text());
view('error-500', 'Something went wrong', async () => (await failing.request('/500')).text());
const invitation = (kind: 'invitation' | 'reminder') =>
  renderInvitation({
    proName: 'Sam Lee',
    agencyName: 'Northwind Communications',
    campaignName: 'Spring Product Launch',
    recipientName: 'Dr. Jordan Avery',
    audience: 'reporter',
    attribution: 'anonymous',
    surveyUrl: 'https://rapport.example/s/token',
    unsubscribeUrl: 'https://rapport.example/u/token',
    kind,
    commitment: 'I will answer every reporter within two working hours.',
    returning: true,
  }).html;
view('email-invitation', 'Hi Dr. Avery,', async () => invitation('invitation'));
view('email-reminder', 'A quick reminder: Sam Lee at Northwind Communications wants to improve', async () => invitation('reminder'));
view('email-early-warning', 'Hi Sam Lee,', async () =>
  renderEarlyWarning({
    proName: 'Sam Lee',
    campaignName: 'Spring Product Launch',
    audience: 'reporter',
    answers: { responsiveness: 2, recommend: 4, relevance: 2, improve: 'Answer the phone before the deadline, not after it.', quoteConsent: false },
    preferencesUrl: 'https://rapport.example/m/token',
  }).html,
);
view('email-summary', '', async () => renderProSummary(proSummary(), 'https://rapport.example/m/token').html);
view('email-agency-summary', '', async () => renderAgencySummary(agencySummary(), 'https://rapport.example/m/token').html);
const signInChoice = (agencyName: string, role: string) => ({ identity: { kind: 'pro' as const, agencyId: 'ag_1', proId: 'pro_1' }, email: 'sam@northwind.example', name: 'Sam Lee', agencyName, role });
view('email-sign-in', 'Hi Sam Lee,', async () =>
  renderSignInEmail({
    links: [
      { choice: signInChoice('Northwind Communications', 'Pro'), url: `https://rapport.example/login/${'A'.repeat(43)}` },
      { choice: signInChoice('Northwind Communications', 'Lead'), url: `https://rapport.example/login/${'B'.repeat(43)}` },
    ],
    signInUrl: 'https://rapport.example/login',
    invite: { by: 'Bea Boss', agencyName: 'Northwind Communications' },
  }).html,
);

describe('every public page and email at 320, 390 and 1280 px', () => {
  beforeAll(async () => {
    mkdirSync(SCREENS, { recursive: true });
    server = await serveOnFreePort(app.fetch);
    browser = await launchBrowser();
    // Scripts are off in the pages (CSP): axe-core is injected, so the CSP is bypassed for it.
    const context = await browser.newContext({ bypassCSP: true });
    for (const width of WIDTHS) {
      const page = await context.newPage();
      await page.setViewportSize({ width, height: 800 });
      // At the app's origin, so that the pages' stylesheet (/assets/pages.css) loads.
      await page.goto(`${server.url}/assets/pages.css`);
      pages.set(width, page);
    }
    w = await world();
    console.log(`Screenshots: ${SCREENS}`);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const { name, shows, html } of views) {
    it(`${name}: nothing overflows, no WCAG 2.1 AA violation`, async () => {
      const content = await html();
      expect(content.slice(0, 15).toLowerCase()).toBe('<!doctype html>');
      if (shows) expect(content.replace(/<[^>]+>/g, '')).toContain(shows);
      for (const width of WIDTHS) {
        const page = pages.get(width)!;
        await page.setContent(content, { waitUntil: 'load' });
        await page.screenshot({ path: `${SCREENS}${name}-${width}.png`, fullPage: true });
        expect({ width, overflowing: await overflowing(page) }).toEqual({ width, overflowing: [] });
        expect({ width, violations: await axeViolations(page) }).toEqual({ width, violations: [] });
      }
    });
  }
});
