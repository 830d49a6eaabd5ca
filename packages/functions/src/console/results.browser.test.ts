import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { closeRound, createAgency, createCampaign, createMember, createPro, createRound, erasePro, getPro, listCommitments, submitResponse, TIPS, type Audience, type Identity } from '@rapport/core';
import { deliver } from '@rapport/core/sending/dispatch';
import { addSessionCookie, agencyFixture, consoleSession, expectAccessible, launchBrowser, PHONE, serveOnFreePort, testDeps, workerAt, type AgencyFixture } from '@rapport/testing';
import { deliveryDeps } from '../deps';

/**
 * The results pages in real Chromium: a pro's home, a past summary, the team table and a pro's
 * page for a lead; refusals; nothing under the anonymity threshold shown. The clock is fixed at
 * 15 April 2030 (the last 12 months: May 2029 to April 2030). One agency, k = 3:
 * - Jane: January, reporters 4, 5, 3 (recommend 9, 10, 6; relevance 2, 2, 3; listening 4, 4, 5;
 *   follow-through 5, 4, 4), one with a quotable comment; March, reporters 5, 4, 5. Both closed:
 *   two batches of 3. Her March summary was emailed.
 * - Bob: one named colleague in February, 3: a batch of one, shown by its count only.
 * - Cara: an anonymous round of 2 reporters (1 and 2), closed: pooled, released nowhere.
 * - Dan: February reporters 1, 1, 1, March 5, 5, 5: up. Eve: February 5, 5, 5, March 1, 1, 2: down.
 * Another agency has a pro, Zed.
 */
const NOW = new Date('2030-04-15T12:00:00Z');
const deps = testDeps({ now: () => NOW });
const { db } = deps;
let f: AgencyFixture;
const pros: Record<'jane' | 'bob' | 'cara' | 'dan' | 'eve' | 'zed', string> = {} as never;
let leadId: string;
let adminId: string;
let browser: Browser;
let server: Awaited<ReturnType<typeof serveOnFreePort>>;
let seq = 0;

type Answer = { audience: Audience; responsiveness: number; recommend?: number; relevance?: number; listening?: number; followThrough?: number; improve?: string; quoteConsent?: boolean };

/** A round of the pro's campaign begun at `at`, every invitation delivered and answered an hour later, closed at `closeAt`. */
async function answered(agencyId: string, campaignId: string, at: string, answers: Answer[], closeAt: string, attribution: 'anonymous' | 'named' = 'anonymous') {
  const when = new Date(at);
  const recipients = answers.map((a) => ({ email: `r${++seq}-${agencyId.slice(-8).toLowerCase()}@news.example`, audience: a.audience }));
  const { round, accepted } = await createRound(db, agencyId, campaignId, { recipients, attribution }, when);
  const delivery = { ...deliveryDeps(deps), now: () => when };
  for (const [i, invitation] of accepted.entries()) {
    await deliver(delivery, { kind: 'invitation', roundId: round.roundId, invitationId: invitation.invitationId });
    const { audience: _a, ...given } = answers[i]!;
    await submitResponse(db, invitation, given, new Date(when.getTime() + 3_600_000));
  }
  if (attribution === 'anonymous') expect(await closeRound(db, round.roundId, new Date(closeAt))).toBe(true);
  return round.roundId;
}

const reporters = (...scores: number[]): Answer[] => scores.map((responsiveness) => ({ audience: 'reporter', responsiveness }));

async function proWith(agencyId: string, name: string) {
  const pro = await createPro(db, agencyId, { name, email: `${name.split(' ')[0]!.toLowerCase()}-${agencyId.slice(-8).toLowerCase()}@acme.example` }, new Date('2029-12-01T00:00:00Z'));
  const campaign = await createCampaign(db, agencyId, { proId: pro.proId, name: `${name.split(' ')[0]} Launch` }, new Date('2029-12-01T00:00:00Z'));
  return { proId: pro.proId, campaignId: campaign.campaignId };
}

let janeRound: string;

beforeAll(async () => {
  f = await agencyFixture(deps);
  expect((await f.call('PATCH', '/v1/settings', { body: { anonymityThreshold: 3 } })).status).toBe(200);
  const jane = await proWith(f.agencyId, 'Jane Doe');
  const bob = await proWith(f.agencyId, 'Bob Roe');
  const cara = await proWith(f.agencyId, 'Cara Poe');
  const dan = await proWith(f.agencyId, 'Dan Moe');
  const eve = await proWith(f.agencyId, 'Eve Low');
  Object.assign(pros, { jane: jane.proId, bob: bob.proId, cara: cara.proId, dan: dan.proId, eve: eve.proId });
  janeRound = await answered(
    f.agencyId,
    jane.campaignId,
    '2030-01-15T10:00:00Z',
    [
      { audience: 'reporter', responsiveness: 4, recommend: 9, relevance: 2, listening: 4, followThrough: 5, improve: 'Send embargo times\nearlier, please', quoteConsent: true },
      { audience: 'reporter', responsiveness: 5, recommend: 10, relevance: 2, listening: 4, followThrough: 4 },
      { audience: 'reporter', responsiveness: 3, recommend: 6, relevance: 3, listening: 5, followThrough: 4 },
    ],
    '2030-01-29T00:00:00Z',
  );
  await answered(f.agencyId, jane.campaignId, '2030-03-05T10:00:00Z', reporters(5, 4, 5), '2030-03-20T00:00:00Z');
  await answered(f.agencyId, bob.campaignId, '2030-02-12T10:00:00Z', [{ audience: 'colleague', responsiveness: 3 }], '', 'named');
  await answered(f.agencyId, cara.campaignId, '2030-03-02T10:00:00Z', [{ audience: 'reporter', responsiveness: 1, improve: 'Cara never called back' }, { audience: 'reporter', responsiveness: 2 }], '2030-03-20T00:00:00Z');
  await answered(f.agencyId, dan.campaignId, '2030-02-03T10:00:00Z', reporters(1, 1, 1), '2030-02-20T00:00:00Z');
  await answered(f.agencyId, dan.campaignId, '2030-03-03T10:00:00Z', reporters(5, 5, 5), '2030-03-20T00:00:00Z');
  await answered(f.agencyId, eve.campaignId, '2030-02-04T10:00:00Z', reporters(5, 5, 5), '2030-02-20T00:00:00Z');
  await answered(f.agencyId, eve.campaignId, '2030-03-04T10:00:00Z', reporters(1, 1, 2), '2030-03-20T00:00:00Z');
  // Jane's March summary, emailed as the summary job does.
  expect(await deliver(workerAt(deps, new Date('2030-04-01T10:00:00Z')), { kind: 'summary', agencyId: f.agencyId, proId: pros.jane, period: '2030-03' })).toBe('sent');
  const other = await createAgency(db, { name: 'Elsewhere PR' }, NOW);
  pros.zed = (await createPro(db, other.agencyId, { name: 'Zed Other', email: `zed-${other.agencyId.slice(-8).toLowerCase()}@else.example` }, NOW)).proId;
  const tag = f.agencyId.slice(-8).toLowerCase();
  leadId = (await createMember(db, f.agencyId, { name: 'Lee Lead', email: `lead-${tag}@acme.example`, role: 'lead' }, NOW)).memberId;
  adminId = (await createMember(db, f.agencyId, { name: 'Ada Admin', email: `admin-${tag}@acme.example`, role: 'admin' }, NOW)).memberId;
  server = await serveOnFreePort(f.app.fetch);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const asPro = (proId: string): Identity => ({ kind: 'pro', agencyId: f.agencyId, proId });
const lead = (): Identity => ({ kind: 'member', agencyId: f.agencyId, memberId: leadId });
const admin = (): Identity => ({ kind: 'member', agencyId: f.agencyId, memberId: adminId });

/** A phone-sized browser signed in as `identity` (axe needs the CSP bypassed to inject its script). */
async function signedIn(identity: Identity): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext(PHONE);
  const { sessionId } = await consoleSession(deps, identity);
  await addSessionCookie(context, deps, server.url, sessionId);
  return { context, page: await context.newPage() };
}

/** axe and the 390 px overflow check on the page as it is. */
const checked = expectAccessible;

/** The page's visible text, whitespace collapsed. */
const textOf = async (page: Page, selector = 'main') => (await page.locator(selector).innerText()).replace(/\s+/g, ' ');

/** A GET through the app as `identity`: status and HTML. */
async function get(identity: Identity, path: string) {
  const s = await consoleSession(deps, identity);
  const res = await f.app.request(path, { headers: { Cookie: s.cookie } });
  return { status: res.status, html: await res.text() };
}

describe('the results pages', () => {
  it("a pro's home: headline in plain words, the chart and its table, audiences, tips, comments; records a commitment; opens a past summary", async () => {
    const { context, page } = await signedIn(asPro(pros.jane));
    const res = await page.goto(`${server.url}/app`);
    expect(res!.status()).toBe(200);
    expect(await page.title()).toBe('My results · Rapport');
    const text = await textOf(page);
    // Six answers 4, 5, 3, 5, 4, 5: mean 26/6, s = √(2/3), t(5) = 2.571: 4.333 ± 0.857 → 3.476…5 (clamped).
    expect(text).toContain('Responsiveness 4.3 out of 5 4.3 out of 5, from 6 answers; likely between 3.5 and 5.0');
    // 5 of 6 rated 4 or 5: Wilson → 43.6%…97.0%.
    expect(text).toContain('Rated you 4 or 5 83% 83%, from 6 answers; likely between 44% and 97%');
    // Recommend only in January: 9, 10, 6 → +33, adjusted Wald −51…+85.
    expect(text).toContain('Net Promoter Score +33 +33, from 3 answers; likely between -51 and +85');
    expect(text).toContain('6 answers counted from 6 delivered invitations.');
    expect(text).not.toContain('Some results are not shown yet');
    // The same figures as the API's scores for the same pro.
    const api = await f.call('GET', `/v1/pros/${pros.jane}/scores?granularity=total`, { key: f.readKey });
    expect(api.body.periods[0].total.items.responsiveness).toMatchObject({ n: 6, mean: 26 / 6 });
    expect(api.body.periods[0].total.items.responsiveness.ci[0]).toBeCloseTo(3.476, 3);

    // The chart: an SVG with a dot (and a range) for January and March only; its table says every month.
    expect(await page.locator('svg.chart .dot').count()).toBe(2);
    expect(await page.locator('svg.chart .range').count()).toBe(2);
    expect(await page.locator('svg.chart').getAttribute('role')).toBe('img');
    await page.locator('.trend-table summary').click();
    const rows = await page.locator('.trend-table tbody tr').allInnerTexts();
    expect(rows).toHaveLength(12);
    expect(rows[0]!.replace(/\s+/g, ' ')).toBe('May 2029 no answers');
    // January: 4, 5, 3: mean 4, t(2) = 4.303 → 1.5…5.
    expect(rows[8]!.replace(/\s+/g, ' ')).toBe('Jan 2030 4.0 out of 5, from 3 answers; likely between 1.5 and 5.0');
    // March: 5, 4, 5: 4.667 ± 4.303·0.577/√3 → 3.2…5.
    expect(rows[10]!.replace(/\s+/g, ' ')).toBe('Mar 2030 4.7 out of 5, from 3 answers; likely between 3.2 and 5.0');

    // At 390 px the table is stacked: each figure labelled by its column (CSS), the header row hidden.
    expect(await textOf(page, 'table.audiences')).toBe('Reporters 4.3 out of 5, from 6 answers; likely between 3.5 and 5.0 +33, from 3 answers; likely between -51 and +85');
    // Relevance 2, 2, 3 (mean 2.3) is the weakest of the reporters' three dimensions.
    expect(text).toContain('Relevant and accurate: 2.3 out of 5 from 3 answers, the lowest score.');
    expect(await page.locator('.tips li').allInnerTexts()).toEqual(TIPS.relevance.slice(0, 3).map((t) => t.text));
    expect(text).toContain('Reporter · Jane Launch, Jan 2030 Send embargo times earlier, please');
    expect(text).toContain('Reporter · recommends 9/10, Jan 2030 Send embargo times earlier, please');
    expect(await page.locator('main a[href^="/app/rounds/rnd_"]').first().getAttribute('href')).toBe(`/app/rounds/${janeRound}`);
    await checked(page);
    await page.screenshot({ path: fileURLToPath(new URL('../../../../test-artifacts/screens/console-pro-home-390.png', import.meta.url)), fullPage: true });

    // Print: no nav, no forms, the chart kept.
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('header.top').isVisible()).toBe(false);
    expect(await page.locator('form').first().isVisible()).toBe(false);
    expect(await page.locator('svg.chart').isVisible()).toBe(true);
    expect(await page.locator('#summaries-h').isVisible()).toBe(false);
    await page.emulateMedia({ media: 'screen' });

    // An empty commitment is refused next to its field, then one is recorded.
    await page.getByLabel('Record a commitment').fill('   ');
    await page.getByRole('button', { name: 'Save the commitment' }).click();
    expect(await page.locator('#commitment-error').innerText()).toBe('The commitment must not be empty.');
    expect(await page.getByLabel('Record a commitment').getAttribute('aria-invalid')).toBe('true');
    await checked(page);
    await page.getByLabel('Record a commitment').fill('I will answer reporters within two hours');
    await page.getByRole('button', { name: 'Save the commitment' }).click();
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/app?saved=1');
    expect(await textOf(page, '#commitment')).toContain('Since 15 April 2030 I will answer reporters within two hours');
    expect((await getPro(db, f.agencyId, pros.jane)).commitment).toEqual({ text: 'I will answer reporters within two hours', since: NOW.toISOString() });
    expect((await listCommitments(db, f.agencyId, pros.jane, { limit: 10 })).items.map((c) => c.text)).toEqual(['I will answer reporters within two hours']);

    // The past summary, as emailed: March against February.
    await page.getByRole('link', { name: 'March 2030', exact: true }).click();
    expect(new URL(page.url()).pathname).toBe(`/app/pros/${pros.jane}/summaries/2030-03`);
    const summary = await textOf(page);
    expect(summary).toContain('The summary emailed to Jane Doe for March 2030, compared with February 2030.');
    expect(summary).toContain('Responsiveness 4.7 out of 5 4.7 out of 5, from 3 answers; likely between 3.2 and 5.0');
    expect(summary).toContain('Responsiveness, February 2030: no answers.');
    await page.locator('.email-text summary').click();
    expect(await page.locator('.email-text pre').innerText()).toContain('Responsiveness: 4.7 out of 5, from 3 answers, likely between 3.2 and 5.0');
    expect(await page.locator('.email-text pre').innerText()).toContain(`See more in Rapport: http://localhost:3000/app`);
    await checked(page);

    // Another pro's page, and another agency's, in the browser: the 404 page, naming no one.
    for (const other of [pros.bob, pros.zed]) {
      expect((await page.goto(`${server.url}/app/pros/${other}`))!.status()).toBe(404);
      expect(await page.locator('h1').innerText()).toBe('Page not found');
      expect(await textOf(page)).not.toMatch(/Bob Roe|Zed Other/);
    }
    await checked(page);
    await context.close();
  }, 60_000);

  it('a lead: the team table with exact figures, movers and who needs attention; a pro page as the pro sees it, without the form', async () => {
    const { context, page } = await signedIn(lead());
    await page.goto(`${server.url}/app`);
    expect(await page.title()).toBe('Team · Rapport');
    const rows = (await page.locator('table.team tbody tr').allInnerTexts()).map((r) => r.replace(/\s+/g, ' ').trim());
    expect(rows).toEqual([
      'Jane Doe 4.3 out of 5, from 6 answers; likely between 3.5 and 5.0 4.7 out of 5, from 3 answers; likely between 3.2 and 5.0',
      'Bob Roe 1 answer, too few to show no answers',
      'Cara Poe no answers no answers',
      // 1, 1, 1, 5, 5, 5: mean 3, s = 2.191, t(5) = 2.571 → −0.3…5.3, clamped to 1…5. March 5, 5, 5 against February's 1, 1, 1: ranges apart.
      'Dan Moe 3.0 out of 5, from 6 answers; likely between 1.0 and 5.0 5.0 out of 5, from 3 answers; likely between 5.0 and 5.0 ▲ up',
      // 5, 5, 5, 1, 1, 2: mean 19/6. March 1, 1, 2: 1.33 ± 4.303·0.577/√3 → 1…2.8, below February's 5…5.
      'Eve Low 3.2 out of 5, from 6 answers; likely between 1.0 and 5.0 1.3 out of 5, from 3 answers; likely between 1.0 and 2.8 ▼ down',
    ]);
    const text = await textOf(page);
    expect(text).toContain(
      'Needs attention Pros scoring below 3 out of 5 in March 2030, or with a real drop, among those with enough answers to show. Eve Low: 1.3 out of 5, from 3 answers; likely between 1.0 and 2.8; February 2030: 5.0 out of 5, from 3 answers; likely between 5.0 and 5.0; down, a real change Biggest movers',
    );
    expect(text).toContain(
      'Biggest movers Dan Moe: 5.0 out of 5, from 3 answers; likely between 5.0 and 5.0; February 2030: 1.0 out of 5, from 3 answers; likely between 1.0 and 1.0; up, a real change Eve Low: 1.3 out of 5',
    );
    await checked(page);
    await page.getByRole('link', { name: 'Jane Doe' }).first().click();
    expect(new URL(page.url()).pathname).toBe(`/app/pros/${pros.jane}`);
    expect(await page.locator('h1').innerText()).toBe('Results of Jane Doe');
    expect(await textOf(page)).toContain('Responsiveness 4.3 out of 5 4.3 out of 5, from 6 answers; likely between 3.5 and 5.0');
    expect(await page.locator('form[action$="/commitment"]').count()).toBe(0);
    await checked(page);
    await context.close();
  }, 60_000);
});

describe('refusals and the anonymity threshold', () => {
  it("a pro gets a 404 page for another pro's page, another agency's pro and their summaries; a lead cannot record a commitment", async () => {
    for (const path of [`/app/pros/${pros.bob}`, `/app/pros/${pros.zed}`, `/app/pros/${pros.bob}/summaries/2030-03`, `/app/pros/${pros.jane}/summaries/2030-02`]) {
      const res = await get(asPro(pros.jane), path);
      expect(res.status, path).toBe(404);
      expect(res.html).toContain('Page not found');
    }
    expect((await get(lead(), `/app/pros/${pros.zed}`)).status).toBe(404);
    const s = await consoleSession(deps, lead());
    const post = await f.app.request(`/app/pros/${pros.jane}/commitment`, {
      method: 'POST',
      headers: { Cookie: s.cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: s.csrf, text: 'Not mine to say' }).toString(),
    });
    expect(post.status).toBe(403);
    // An admin may, as through the API; for another agency's pro it is a 404.
    const a = await consoleSession(deps, admin());
    const byAdmin = await f.app.request(`/app/pros/${pros.bob}/commitment`, {
      method: 'POST',
      headers: { Cookie: a.cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: a.csrf, text: 'Call back the same day' }).toString(),
    });
    expect(byAdmin.status).toBe(303);
    expect(byAdmin.headers.get('Location')).toBe(`/app/pros/${pros.bob}?saved=1#commitment`);
    expect((await getPro(db, f.agencyId, pros.bob)).commitment?.text).toBe('Call back the same day');
    const elsewhere = await f.app.request(`/app/pros/${pros.zed}/commitment`, {
      method: 'POST',
      headers: { Cookie: a.cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: a.csrf, text: 'Not ours' }).toString(),
    });
    expect(elsewhere.status).toBe(404);
    // A cross-site POST is refused even with the session's token; nothing is recorded.
    const j = await consoleSession(deps, asPro(pros.jane));
    const before = (await getPro(db, f.agencyId, pros.jane)).commitment;
    const crossSite = await f.app.request(`/app/pros/${pros.jane}/commitment`, {
      method: 'POST',
      headers: { Cookie: j.cookie, 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.example' },
      body: new URLSearchParams({ _csrf: j.csrf, text: 'Planted' }).toString(),
    });
    expect(crossSite.status).toBe(403);
    expect((await getPro(db, f.agencyId, pros.jane)).commitment).toEqual(before);
  });

  it('shows nothing of answers the API withholds: two pooled answers are neither counted nor scored nor quoted', async () => {
    const api = await f.call('GET', `/v1/pros/${pros.cara}/scores?granularity=total`, { key: f.readKey });
    expect(api.body.periods[0]).toMatchObject({ delivered: 2, responses: 0, total: { n: 0, items: {} } });
    expect((await f.call('GET', `/v1/responses?proId=${pros.cara}`, { key: f.readKey })).body.data).toEqual([]);
    const { status, html } = await get(asPro(pros.cara), '/app');
    expect(status).toBe(200);
    const text = html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(text).toContain('No answers to show yet.');
    expect(text).toContain('Some results are not shown yet. Answers to an anonymous survey count only once its round has closed and at least 3 people of the same audience have answered');
    expect(text).toContain('0 answers counted from 2 delivered invitations.');
    for (const leak of ['2 answers', '1 answer', '1.5', 'never called back', 'too few to show']) expect(text).not.toContain(leak);
    // The team table says the same of her.
    const team = (await get(lead(), '/app')).html;
    expect(team).not.toContain('never called back');
  });
});

describe('an erased pro', () => {
  it("an admin's page of an erased pro: what happened and what to do, nothing to edit; axe-clean and within 390 px", async () => {
    const pro = await createPro(deps.db, f.agencyId, { name: 'Erin Gone', email: `erin-${f.agencyId.slice(4).toLowerCase()}@acme.example` }, new Date());
    await erasePro(deps.db, f.agencyId, pro.proId, new Date());
    const { context, page } = await signedIn(admin());
    try {
      await page.goto(`${server.url}/app/admin/pros/${pro.proId}`);
      expect(await textOf(page)).toContain('This pro’s personal data was erased');
      expect(await page.locator('main form').count()).toBe(0);
      await checked(page);
      if (process.env.SCREENSHOTS) await page.screenshot({ path: `${process.env.SCREENSHOTS}/erased-pro-390.png`, fullPage: true });
    } finally {
      await context.close();
    }
  });
});

