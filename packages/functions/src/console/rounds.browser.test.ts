import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createCampaign, createMember, createPro, listRounds, withProgress } from '@rapport/core';
import { addSessionCookie, agencyFixture, consoleSession, expectAccessible, launchBrowser, PHONE, serveOnFreePort, sesEmails, testDeps } from '@rapport/testing';
import { inProcessSendQueue, type Deps } from '../deps';

const queue = inProcessSendQueue(() => deps);
let deps: Deps;

/** Each row of the preview as its cells read: row, contact (address, name, outlet), audience, result. */
const previewRows = (page: Page) =>
  page.evaluate<string[][]>(`[...document.querySelectorAll('table.preview tbody tr')].map((tr) =>
    [...tr.children].map((td) => [...td.childNodes].map((n) => n.textContent.trim()).filter(Boolean).join(' / ')))`);

describe('sending a round in the console, in Chromium', () => {
  let browser: Browser;
  let server: Awaited<ReturnType<typeof serveOnFreePort>>;
  beforeAll(async () => {
    deps = { ...testDeps(), queue };
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await queue.stop();
  });

  /** Every page of the flow passes axe and fits a 390 px phone. */
  const audit = expectAccessible;

  async function phone(sessionId: string): Promise<BrowserContext> {
    const context = await browser.newContext(PHONE);
    await addSessionCookie(context, deps, server.url, sessionId);
    return context;
  }

  /** Waits until the round's page, refreshing its progress by itself, shows every email sent. */
  async function watchUntilSent(page: Page, total: number) {
    expect(page.url()).toMatch(/\/app\/rounds\/rnd_/);
    await page.waitForFunction(`document.getElementById('count-sent')?.textContent === '${total}'`, undefined, { timeout: 30_000 });
    expect(await page.locator('#count-waiting').innerText()).toBe('0');
    expect(await page.locator('#progress').getAttribute('data-live')).toBe('false');
    await audit(page);
  }

  it('an admin sends Muck Rack and Cision exports, correcting a column; a pro sends pasted addresses for their own campaign', async () => {
    const f = await agencyFixture(deps);
    server = await serveOnFreePort(f.app.fetch);
    Object.assign(deps.config, { publicUrl: server.url });
    const u = f.agencyId.slice(-8).toLowerCase();
    const a = (who: string, domain = 'news.example') => `${who}-${u}@${domain}`;
    const jane = await createPro(deps.db, f.agencyId, { name: 'Jane Doe', email: a('jane', 'acme.example') }, deps.now());
    const spring = await createCampaign(deps.db, f.agencyId, { proId: jane.proId, name: 'Spring Launch' }, deps.now());
    const admin = await createMember(deps.db, f.agencyId, { name: 'Ada Admin', email: a('ada', 'agency.example'), role: 'admin' }, deps.now());
    const adminSession = await consoleSession(deps, { kind: 'member', agencyId: f.agencyId, memberId: admin.memberId });
    const context = await phone(adminSession.sessionId);
    const page = await context.newPage();

    // 1. Muck Rack-style export: comma separated, CRLF, a note over two lines (Excel's Alt+Enter:
    // LF in quotes, which the browser posts back as CRLF at the next steps), one invalid row and one duplicate.
    await page.goto(`${server.url}/app/rounds/new`);
    await audit(page);
    await page.getByLabel('Campaign', { exact: true }).selectOption(spring.campaignId);
    // A malformed file: the message names the row, next to the file field.
    await page.getByLabel('A CSV file').setInputFiles({ name: 'broken.csv', mimeType: 'text/csv', buffer: Buffer.from(`Email,Name\r\n${a('zed')},"Zed\r\n`) });
    await page.getByRole('button', { name: 'Next: columns' }).click();
    expect(await page.getByLabel('A CSV file').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('p.error').innerText()).toContain('Row 2 opens a quote (") that is never closed.');
    await audit(page);
    await page.getByLabel('Campaign', { exact: true }).selectOption(spring.campaignId);
    const muckRack = [
      'First Name,Last Name,Email,Outlet,Title,Notes',
      `Ana,Diaz,${a('ana')},The Daily,Senior Reporter,`,
      `Ben,Ode,${a('ben')},Radio One,Producer,"Prefers email\nafter 10am"`,
      'Cy,Fox,cy-at-nowhere,The Weekly,Editor,',
      `Ana,Diaz,${a('ANA')},The Daily,Senior Reporter,`,
      `Dee,Roy,${a('dee', 'client.example')},Acme Corp,Client,`,
    ].join('\r\n');
    await page.getByLabel('A CSV file').setInputFiles({ name: 'muckrack.csv', mimeType: 'text/csv', buffer: Buffer.from(muckRack) });
    await page.getByRole('button', { name: 'Next: columns' }).click();
    expect(await page.locator('main').innerText()).toContain('What is in each column?');
    await audit(page);
    // Every column guessed; the contact types map to audiences.
    for (const [i, field] of ['firstName', 'lastName', 'email', 'outlet', 'contactType'].entries()) expect(await page.locator(`#col${i}`).inputValue()).toBe(field);
    expect(await page.getByLabel('Client', { exact: true }).inputValue()).toBe('client');
    expect(await page.getByLabel('Senior Reporter').inputValue()).toBe('reporter');
    await page.getByRole('button', { name: 'Preview' }).click();
    await expect(page.locator('h1').innerText()).resolves.toBe('Preview');
    await audit(page);
    expect(await previewRows(page)).toEqual([
      ['2', `${a('ana')} / Ana Diaz / The Daily`, 'Reporter', 'Accepted'],
      ['3', `${a('ben')} / Ben Ode / Radio One`, 'Reporter', 'Accepted'],
      ['5', 'cy-at-nowhere / Cy Fox / The Weekly', 'Reporter', 'Skipped: not a valid address'],
      ['6', `${a('ANA')} / Ana Diaz / The Daily`, 'Reporter', 'Skipped: already in the list above'],
      ['7', `${a('dee', 'client.example')} / Dee Roy / Acme Corp`, 'Client', 'Accepted'],
    ]);
    await page.getByRole('button', { name: 'Send to 3 contacts' }).click();
    await watchUntilSent(page, 3);

    // 2. Cision-style export from European Excel: BOM, semicolons; "Publication Title" is not
    // guessed, so the admin sets it to Outlet.
    await page.goto(`${server.url}/app/rounds/new`);
    await page.getByLabel('Campaign', { exact: true }).selectOption(spring.campaignId);
    const cision = [
      'Contact First Name;Contact Last Name;Email Address;Publication Title;Job Title',
      `Eve;Lund;${a('eve')};Nordic Post;Columnist`,
      `Fay;Kim;${a('fay')};Tech Today;Editor`,
      `Gus;Berg;gus@;Nordic Post;Writer`,
      `Fay;Kim;${a('fay')};Tech Today;Editor`,
    ].join('\r\n');
    await page.getByLabel('A CSV file').setInputFiles({ name: 'cision.csv', mimeType: 'text/csv', buffer: Buffer.from(`\uFEFF${cision}\r\n`) });
    await page.getByRole('button', { name: 'Next: columns' }).click();
    expect(await page.locator('#col3').inputValue()).toBe('');
    await page.getByLabel('Publication Title').selectOption('outlet');
    await page.getByRole('button', { name: 'Preview' }).click();
    expect(await previewRows(page)).toEqual([
      ['2', `${a('eve')} / Eve Lund / Nordic Post`, 'Reporter', 'Accepted'],
      ['3', `${a('fay')} / Fay Kim / Tech Today`, 'Reporter', 'Accepted'],
      ['4', 'gus@ / Gus Berg / Nordic Post', 'Reporter', 'Skipped: not a valid address'],
      ['5', `${a('fay')} / Fay Kim / Tech Today`, 'Reporter', 'Skipped: already in the list above'],
    ]);
    await page.getByRole('button', { name: 'Send to 2 contacts' }).click();
    await watchUntilSent(page, 2);
    expect(await page.locator('main').innerText()).toContain(`gus@: not a valid address\n${a('fay')}: already in the list above`);
    await context.close();

    // 3. The pro pastes addresses for their own campaign.
    const proContext = await phone((await consoleSession(deps, { kind: 'pro', agencyId: f.agencyId, proId: jane.proId })).sessionId);
    const proPage = await proContext.newPage();
    await proPage.goto(`${server.url}/app/rounds/new`);
    await audit(proPage);
    await proPage.getByLabel('Campaign', { exact: true }).selectOption(spring.campaignId);
    await proPage.getByLabel('Or paste addresses').fill(`${a('hal')}\n${a('ivy')}\n${a('ana')}\n`);
    await proPage.getByRole('button', { name: 'Next: columns' }).click();
    await audit(proPage);
    await proPage.getByLabel('Audience of every row').selectOption('colleague');
    await proPage.getByRole('button', { name: 'Preview' }).click();
    const throttledRow = (await previewRows(proPage))[2]!;
    expect(throttledRow.slice(0, 3)).toEqual(['3', a('ana'), 'Colleague']);
    expect(throttledRow[3]).toMatch(/^Skipped: surveyed too recently until /);
    await proPage.getByRole('button', { name: 'Send to 2 contacts' }).click();
    await watchUntilSent(proPage, 2);
    // Cancelling asks first; the confirmation is a page too.
    await proPage.getByRole('button', { name: 'Cancel this round…' }).click();
    expect(await proPage.locator('#confirm').innerText()).toBe('Cancel this round?');
    await audit(proPage);
    await proPage.getByRole('button', { name: 'Yes, cancel the round' }).click();
    expect(await proPage.locator('#round-status').innerText()).toBe('Cancelled');
    await proContext.close();

    // Each accepted address got exactly one email; the skipped ones none.
    const recipients: [string, string | null][] = [
      [a('ana'), 'Ana Diaz'],
      [a('ben'), 'Ben Ode'],
      [a('dee', 'client.example'), 'Dee Roy'],
      [a('eve'), 'Eve Lund'],
      [a('fay'), 'Fay Kim'],
      [a('hal'), null],
      [a('ivy'), null],
    ];
    for (const [address, name] of recipients) {
      const mails = await sesEmails({ to: address });
      expect(mails.map((m) => m.destination.to)).toEqual([[name ? `"${name}" <${address}>` : address]]);
    }
    expect(await sesEmails({ to: 'cy-at-nowhere' })).toEqual([]);
    expect((await withProgress(deps.db, (await listRounds(deps.db, f.agencyId, spring.campaignId, { limit: 10 })).items)).map((r) => r.counts.pending + r.counts.sent)).toEqual([3, 2, 2]);
  }, 120_000);

  it('a pro sends a round from pasted addresses, cancels it and records a commitment, by keyboard alone', async () => {
    const f = await agencyFixture(deps);
    const own = await serveOnFreePort(f.app.fetch);
    try {
      const u = f.agencyId.slice(-8).toLowerCase();
      const pro = await createPro(deps.db, f.agencyId, { name: 'Kay Board', email: `kay-${u}@acme.example` }, deps.now());
      const campaign = await createCampaign(deps.db, f.agencyId, { proId: pro.proId, name: 'Keys Launch' }, deps.now());
      const context = await browser.newContext();
      await addSessionCookie(context, deps, own.url, (await consoleSession(deps, { kind: 'pro', agencyId: f.agencyId, proId: pro.proId })).sessionId);
      const page = await context.newPage();
      const focused = () => page.evaluate<string>(`document.activeElement.id || document.activeElement.textContent.trim()`);
      const tabTo = async (target: string) => {
        for (let i = 0; i < 40 && (await focused()) !== target; i++) await page.keyboard.press('Tab');
        expect(await focused()).toBe(target);
      };
      await page.goto(`${own.url}/app/rounds/new`);
      await tabTo('campaignId');
      await page.keyboard.press('ArrowDown');
      expect(await page.locator('#campaignId').inputValue()).toBe(campaign.campaignId);
      await tabTo('pasted');
      await page.keyboard.type(`ann-${u}@news.example\nbo-${u}@news.example`);
      await tabTo('Next: columns');
      await page.keyboard.press('Enter');
      await page.locator('h1', { hasText: 'What is in each column?' }).waitFor();
      await tabTo('Preview');
      await page.keyboard.press('Enter');
      await page.waitForURL(`${own.url}/app/rounds/new/preview`);
      await tabTo('Send to 2 contacts');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/app\/rounds\/rnd_/);
      await tabTo('Cancel this round…');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/cancel$/);
      await tabTo('Yes, cancel the round');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/app\/rounds\/rnd_[0-9A-Z]+$/);
      expect(await page.locator('#round-status').innerText()).toBe('Cancelled');
      await page.goto(`${own.url}/app`);
      await tabTo('commitment-text');
      await page.keyboard.type('I will answer within two hours');
      await tabTo('Save the commitment');
      await page.keyboard.press('Enter');
      await page.waitForURL((url) => url.pathname === '/app' && url.search === '?saved=1');
      expect(await page.locator('#commitment').innerText()).toContain('I will answer within two hours');
      await context.close();
    } finally {
      await own.close();
    }
  }, 60_000);
});
