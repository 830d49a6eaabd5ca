import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { closeRound, createAgency, createDb, createMember, getPro, listMembers, loginChoices, loginHash, type Db } from '@rapport/core';
import { fileURLToPath } from 'node:url';
import { expectAccessible, launchBrowser, PHONE } from '@rapport/testing';
import { systemPorts } from './engines/ports';
import { startLocalSystem, type LocalSystem } from './system';

const SCREENS = fileURLToPath(new URL('../../../test-artifacts/screens/', import.meta.url));

/**
 * The console's journeys as a new user takes them from `npm start`: the whole local system
 * (DynamoDB Local, the SES server, the app, its in-process sender), started here on free ports, in
 * real Chromium at phone width; every link is taken from the SES server's store.
 */
describe('the console from npm start, in Chromium', () => {
  let system: LocalSystem;
  let browser: Browser;
  let db: Db;
  let base: string;
  const tag = Math.random().toString(36).slice(2, 8);
  beforeAll(async () => {
    [system, browser] = await Promise.all([startLocalSystem({ ...(await systemPorts()), env: {} }), launchBrowser()]);
    base = system.urls.api;
    db = createDb({ region: system.config.region, endpoint: system.config.dynamoEndpoint, table: system.config.table });
  }, 90_000);
  afterAll(async () => {
    db?.client.destroy();
    await browser?.close();
    await system?.stop();
  });

  /**
   * Every page visited passes axe (WCAG 2.1 AA) and fits a 390 px phone; its screenshot goes to
   * <repo>/test-artifacts/screens/journey-<n>-<path>.png (ignored by git), for a person to look at.
   */
  let shot = 0;
  const audit = async (page: Page) => {
    await expectAccessible(page);
    const path = new URL(page.url()).pathname.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '') || 'home';
    await page.screenshot({ path: `${SCREENS}journey-${String(++shot).padStart(2, '0')}-${path.slice(0, 40)}.png`, fullPage: true });
  };
  const phone = (): Promise<BrowserContext> => browser.newContext(PHONE);

  type Email = { subject: string; destination: { to: string[] }; body: { text?: string } };
  /** The emails to an address in this system's SES store, oldest first, once there are `count` (the sender is asynchronous; up to 30 s, as a loaded full run has needed more than 10). */
  async function inbox(address: string, count = 1): Promise<Email[]> {
    for (let i = 0; ; i++) {
      const { emails } = (await (await fetch(`${system.urls.ses}/store`)).json()) as { emails: Email[] };
      const to = emails.filter((e) => e.destination.to.some((t) => t.toLowerCase().includes(address.toLowerCase())));
      if (to.length >= count || i === 300) return to;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const linksIn = (email: Email, path: string) => [...email.body.text!.matchAll(new RegExp(`${base}${path}[^\\s]+`, 'g'))].map((m) => m[0]);

  /** Each row of the send preview as its cells read. */
  const previewRows = (page: Page) =>
    page.evaluate<string[][]>(`[...document.querySelectorAll('table.preview tbody tr')].map((tr) =>
      [...tr.children].map((td) => [...td.childNodes].map((n) => n.textContent.trim()).filter(Boolean).join(' / ')))`);

  it('a PR pro with nothing but an email address starts an agency, sends a round from a CSV and reads the results', async () => {
    const email = `nora.${tag}@nightingale.example`;
    const context = await phone();
    const page = await context.newPage();

    // The landing page → Start your agency.
    await page.goto(`${base}/`);
    await audit(page);
    await page.getByRole('link', { name: 'Start your agency' }).click();
    await page.waitForURL(`${base}/signup`);
    await audit(page);
    expect(await page.getByLabel('I send surveys myself').isChecked()).toBe(true);
    await page.getByLabel('Agency name').fill('Nightingale PR');
    await page.getByLabel('Your name').fill('Nora Quinn');
    await page.getByLabel('Your work email address').fill(email);
    await page.getByRole('button', { name: 'Email me the link' }).click();
    await page.waitForURL(`${base}/signup/sent`);
    expect(await page.locator('h1').innerText()).toBe('Check your email');
    await audit(page);

    // The emailed link: a page with a button (a scanner's GET creates nothing), then the agency.
    const [created] = await inbox(email);
    expect(created!.subject).toBe('Create Nightingale PR on Rapport');
    await page.goto(linksIn(created!, '/signup/')[0]!);
    expect(await page.locator('h1').innerText()).toBe('Create Nightingale PR');
    await audit(page);
    await page.getByRole('button', { name: 'Create the agency and sign in' }).click();
    await page.waitForURL(`${base}/app`);
    expect(await page.locator('.first-steps').innerText()).toMatch(/^First steps\nAdd your pros: [^]*\nSend your first round: [^]*\nYour own results: [^]*\nInvite a lead [^]*$/);
    await audit(page);
    const ownPage = await page.getByRole('link', { name: 'Your own results' }).getAttribute('href');
    expect(ownPage).toMatch(/^\/app\/pros\/pro_[0-9A-Z]{26}$/);

    // Send your first round: a new campaign of her own, a Muck Rack export with a bad and a repeated row.
    await page.getByRole('link', { name: 'Send your first round' }).click();
    await page.waitForURL(`${base}/app/rounds/new`);
    await audit(page);
    await page.getByLabel('New campaign’s name').fill('Autumn Launch');
    await page.getByLabel('The new campaign’s pro').selectOption({ label: 'Nora Quinn' });
    const reporter = (who: string) => `${who}.${tag}@news.example`;
    const people = ['ana', 'ben', 'cy', 'dee', 'eve', 'fay'];
    const csv = [
      'First Name,Last Name,Email,Outlet,Title',
      ...people.map((who, i) => `${who[0]!.toUpperCase()}${who.slice(1)},Reed,${reporter(who)},Outlet ${i + 1},Senior Reporter`),
      'Gus,Reed,gus-at-nowhere,Outlet 7,Editor',
      `Ana,Reed,${reporter('ANA')},Outlet 1,Senior Reporter`,
    ].join('\r\n');
    await page.getByLabel('A CSV file').setInputFiles({ name: 'muckrack.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: 'Next: columns' }).click();
    expect(await page.locator('h1').innerText()).toBe('What is in each column?');
    await audit(page);
    // A job title is not a contact type: she corrects that column to "Not used" (every row a reporter).
    expect(await page.getByLabel('Title', { exact: true }).inputValue()).toBe('contactType');
    await page.getByLabel('Title', { exact: true }).selectOption('');
    await page.getByRole('button', { name: 'Preview' }).click();
    expect(await page.locator('h1').innerText()).toBe('Preview');
    await audit(page);
    expect(await previewRows(page)).toEqual([
      ...people.map((who, i) => [String(i + 2), `${reporter(who)} / ${who[0]!.toUpperCase()}${who.slice(1)} Reed / Outlet ${i + 1}`, 'Reporter', 'Accepted']),
      ['8', 'gus-at-nowhere / Gus Reed / Outlet 7', 'Reporter', 'Skipped: not a valid address'],
      ['9', `${reporter('ANA')} / Ana Reed / Outlet 1`, 'Reporter', 'Skipped: already in the list above'],
    ]);
    await page.getByRole('button', { name: 'Send to 6 contacts' }).click();
    await page.waitForURL(/\/app\/rounds\/rnd_[0-9A-Z]{26}$/);
    const roundId = page.url().split('/').at(-1)!;
    // The round's page follows its progress until every email is sent.
    await page.waitForFunction(`document.getElementById('count-sent')?.textContent === '6'`, undefined, { timeout: 30_000 });
    await audit(page);

    // The invitations in the SES store; five reporters answer through their emailed links (k = 5, the default).
    const invitations = await Promise.all(people.map(async (who) => (await inbox(reporter(who)))[0]!));
    expect(invitations.map((m) => m.subject)).toEqual(Array(6).fill('How responsive was Nora Quinn on the Autumn Launch?'));
    const respondent = await phone();
    for (const [i, score] of [5, 4, 4, 5, 3].entries()) {
      const survey = await respondent.newPage();
      await survey.goto(linksIn(invitations[i]!, '/s/').find((l) => l.endsWith(`score=${score}`))!);
      await survey.locator('input[name=recommend][value="9"]').check();
      if (i === 0) await audit(survey);
      await survey.getByRole('button', { name: 'Send my answers' }).click();
      expect(await survey.locator('h1').innerText()).toBe('Thank you');
      await survey.close();
    }
    await respondent.close();

    // The round closes: the job the scheduled sweep queues for a round whose time is up, run now, so
    // its answers are released in this month, which the pages (on the real clock) show.
    expect(await closeRound(db, roundId, new Date())).toBe(true);
    await page.reload();
    await audit(page);

    // She reads her results as the pro she also is: the sign-in email offers both of her identities.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${base}/login?signedOut=1`);
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.waitForURL(`${base}/login/sent`);
    const signIn = (await inbox(email, 2))[1]!;
    expect(signIn.body.text).toMatch(/Sign in to Nightingale PR as admin: http:\/\/localhost:\d+\/login\/\S{43}\n/);
    const asPro = /Sign in to Nightingale PR as pro: (\S+)/.exec(signIn.body.text!)![1]!;
    await page.goto(asPro);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/app`);
    expect(await page.locator('h1').innerText()).toBe('My results');
    // Scores 5, 4, 4, 5, 3 and recommendations of 9: the headline in plain words, with its intervals.
    const headline = await page.locator('section[aria-labelledby=headline-h]').innerText();
    for (const line of [
      '4.2 out of 5, from 5 answers; likely between 3.2 and 5.0',
      '80%, from 5 answers; likely between 38% and 96%',
      '+100, from 5 answers; likely between +17 and +100',
      '5 answers counted from 6 delivered invitations.',
    ]) {
      expect(headline).toContain(`\n${line}\n`);
    }
    await audit(page);
    // She records what she will change; it is on her page, and on her record for the next rounds.
    await page.getByLabel('Record a commitment').fill('I will answer reporters within two hours');
    await page.getByRole('button', { name: 'Save the commitment' }).click();
    await page.waitForURL((url) => url.pathname === '/app');
    expect(await page.locator('#commitment').innerText()).toContain('I will answer reporters within two hours');
    const proIdentity = (await loginChoices(db, loginHash(email))).find((choice) => choice.identity.kind === 'pro')!.identity as { agencyId: string; proId: string };
    expect((await getPro(db, proIdentity.agencyId, proIdentity.proId)).commitment?.text).toBe('I will answer reporters within two hours');
    await audit(page);
    await context.close();
  }, 120_000);

  it('an admin signs in by email link and invites a lead, who sees the team and gets a 403 page on the admin pages', async () => {
    const agency = await createAgency(db, { name: 'Kestrel Comms' }, new Date());
    const adminEmail = `ada.${tag}@kestrel.example`;
    await createMember(db, agency.agencyId, { name: 'Ada Admin', email: adminEmail, role: 'admin' }, new Date());
    const context = await phone();
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await audit(page);
    await page.getByLabel('Email address').fill(adminEmail);
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.waitForURL(`${base}/login/sent`);
    await audit(page);
    await page.goto(linksIn((await inbox(adminEmail))[0]!, '/login/')[0]!);
    await audit(page);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/app`);
    expect(await page.locator('h1').innerText()).toBe('Team');
    await audit(page);

    await page.goto(`${base}/app/admin/members/new`);
    await audit(page);
    const leadEmail = `lee.${tag}@kestrel.example`;
    await page.getByLabel('Name').fill('Lee Lead');
    await page.getByLabel('Email address').fill(leadEmail);
    await page.getByRole('button', { name: 'Invite' }).click();
    await page.waitForURL(`${base}/app/admin/members?done=invited`);
    await audit(page);
    expect((await listMembers(db, agency.agencyId)).map((m) => [m.name, m.email, m.role])).toEqual([
      ['Ada Admin', adminEmail, 'admin'],
      ['Lee Lead', leadEmail, 'lead'],
    ]);

    const [invitation] = await inbox(leadEmail);
    expect(invitation!.subject).toBe('Ada Admin invited you to Kestrel Comms on Rapport');
    const lead = await phone();
    const leadPage = await lead.newPage();
    await leadPage.goto(linksIn(invitation!, '/login/')[0]!);
    await leadPage.getByRole('button', { name: 'Sign in' }).click();
    await leadPage.waitForURL(`${base}/app`);
    expect(await leadPage.locator('h1').innerText()).toBe('Team');
    // No first steps for a lead: they cannot add pros.
    expect(await leadPage.locator('.first-steps').count()).toBe(0);
    await audit(leadPage);
    const refused = await leadPage.goto(`${base}/app/admin`);
    expect(refused!.status()).toBe(403);
    expect(await leadPage.locator('h1').innerText()).toBe('Not allowed');
    await audit(leadPage);
    await lead.close();
    await context.close();
  }, 120_000);
});
