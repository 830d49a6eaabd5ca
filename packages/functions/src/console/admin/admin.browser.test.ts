import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createCampaign, createMember, getAgency, getPro, listApiKeys, listPros, listSuppressions, RESPONSE_CSV_COLUMNS, type SurveyResponse } from '@rapport/core';
import { addSessionCookie, agencyFixture, consoleSession, expectAccessible, launchBrowser, parseCsv, PHONE, serveOnFreePort, testDeps, type AgencyFixture } from '@rapport/testing';
import { seedResponses } from '../../api/routes/responses.fixtures';

/**
 * An admin in real Chromium at a 390 px phone, through every admin page: each page is audited
 * (axe-core WCAG 2.1 AA, nothing spilling out of its box) and each change checked in the table.
 */
const deps = testDeps();
let browser: Browser;
let server: Awaited<ReturnType<typeof serveOnFreePort>>;
let f: AgencyFixture;

beforeAll(async () => {
  f = await agencyFixture(deps);
  [browser, server] = await Promise.all([launchBrowser(), serveOnFreePort(f.app.fetch)]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const audited: string[] = [];
async function audit(page: Page) {
  audited.push(new URL(page.url()).pathname);
  await expectAccessible(page);
}

/** The answers of three anonymous responses released in one batch. */
const ANSWERS = [
  { responsiveness: 5, recommend: 10, improve: 'Quick, clear answers', quoteConsent: true },
  { responsiveness: 3, recommend: 6, improve: '=SUM(1)', quoteConsent: false },
  { responsiveness: 4, recommend: 8, quoteConsent: false },
];

describe('console admin pages in Chromium', () => {
  it('an admin adds, edits and deactivates a pro, changes settings, creates and revokes a key, suppresses an address, downloads the export', async () => {
    const u = f.agencyId.slice(3, 13).toLowerCase();
    const admin = await createMember(deps.db, f.agencyId, { name: 'Ada Admin', email: `ada-${u}@acme.example`, role: 'admin' }, deps.now());
    const context = await browser.newContext({ ...PHONE, acceptDownloads: true });
    const { sessionId } = await consoleSession(deps, { kind: 'member', agencyId: f.agencyId, memberId: admin.memberId });
    await addSessionCookie(context, deps, server.url, sessionId);
    const page = await context.newPage();

    // The index links every admin page.
    await page.goto(`${server.url}/app/admin`);
    await audit(page);
    const links = await page.locator('main ul.sections a').evaluateAll((as) => as.map((a) => [a.textContent, a.getAttribute('href')]));
    expect(links).toEqual([
      ['Members', '/app/admin/members'],
      ['Pros', '/app/admin/pros'],
      ['Settings', '/app/admin/settings'],
      ['API keys', '/app/admin/keys'],
      ['Suppressions', '/app/admin/suppressions'],
      ['Exports', '/app/admin/exports'],
    ]);

    // Pros: add one, then the same email again (the 409 next to the email field).
    await page.getByRole('link', { name: 'Pros' }).click();
    await audit(page);
    const email = `sam-${u}@acme.example`;
    await page.getByLabel('Name', { exact: true }).fill('Sam Lee');
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByRole('button', { name: 'Add the pro' }).click();
    await expect.poll(() => page.locator('[role=status]').textContent()).toBe('The pro was added. They can sign in with their email.');
    await audit(page);
    const [pro] = (await listPros(deps.db, f.agencyId, { limit: 10 })).items;
    expect(pro).toMatchObject({ name: 'Sam Lee', email });
    expect(new URL(page.url()).pathname).toBe(`/app/admin/pros/${pro!.proId}`);

    await page.goto(`${server.url}/app/admin/pros`);
    expect(await page.locator('tbody tr').allTextContents()).toEqual([`Sam Lee${email}Active`]);
    await page.getByLabel('Name', { exact: true }).fill('Samantha Lee');
    await page.getByLabel('Email', { exact: true }).fill(email.toUpperCase());
    await page.getByRole('button', { name: 'Add the pro' }).click();
    await expect.poll(() => page.locator('#f-email-error').textContent()).toBe('Another pro of this agency already has this email');
    expect(await page.getByLabel('Email', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Email', { exact: true }).getAttribute('aria-describedby')).toBe('f-email-hint f-email-error');
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe('Samantha Lee');
    await audit(page);
    expect((await listPros(deps.db, f.agencyId, { limit: 10 })).items).toHaveLength(1);

    // Edit, then deactivate.
    await page.getByRole('link', { name: 'Sam Lee' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Sam Lee-Park');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('[role=status]').textContent()).toBe('Saved.');
    expect((await getPro(deps.db, f.agencyId, pro!.proId)).name).toBe('Sam Lee-Park');
    await page.getByRole('button', { name: 'Deactivate' }).click();
    await expect.poll(() => page.locator('[role=status]').textContent()).toBe('The pro is deactivated and signed out everywhere.');
    await audit(page);
    const deactivated = await getPro(deps.db, f.agencyId, pro!.proId);
    expect(deactivated.deactivatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    // Settings: one invalid value (shown next to its field, kept, nothing written), then valid ones.
    await page.goto(`${server.url}/app/admin/settings`);
    await audit(page);
    await page.getByLabel('Anonymity threshold', { exact: true }).fill('11');
    await page.getByLabel('Days between surveys of a reporter', { exact: true }).fill('60');
    await page.getByRole('button', { name: 'Save the settings' }).click();
    await expect.poll(() => page.locator('#f-anonymityThreshold-error').textContent()).toBe('must be from 3 to 10');
    expect(await page.getByLabel('Anonymity threshold', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Anonymity threshold', { exact: true }).inputValue()).toBe('11');
    expect(await page.getByLabel('Days between surveys of a reporter', { exact: true }).inputValue()).toBe('60');
    await audit(page);
    const before = await getAgency(deps.db, f.agencyId);
    expect([before.anonymityThreshold, before.throttle.reporterDays, before.version]).toEqual([5, 90, 1]);
    await page.getByLabel('Anonymity threshold', { exact: true }).fill('6');
    await page.getByLabel('Colleagues', { exact: true }).fill('2, 5');
    await page.getByLabel('Who gets the agency summary', { exact: true }).fill(`boss-${u}@acme.example`);
    await page.getByLabel('Email a pro at once about a low score', { exact: true }).check();
    await page.getByRole('button', { name: 'Save the settings' }).click();
    await expect.poll(() => page.locator('[role=status]').textContent()).toBe('The settings are saved.');
    const after = await getAgency(deps.db, f.agencyId);
    expect(after).toMatchObject({
      anonymityThreshold: 6,
      throttle: { ...before.throttle, reporterDays: 60 },
      reminders: { ...before.reminders, colleagueDays: [2, 5] },
      summary: { ...before.summary, adminEmails: [`boss-${u}@acme.example`] },
      earlyWarnings: true,
      version: 2,
    });
    expect(await page.getByLabel('Anonymity threshold', { exact: true }).inputValue()).toBe('6');

    // API keys: the secret is shown once, works against /v1, is gone on reload; revoked, it is refused.
    await page.goto(`${server.url}/app/admin/keys`);
    await audit(page);
    await page.getByLabel('Name', { exact: true }).fill('CRM sync');
    await page.getByLabel('Role', { exact: true }).selectOption('read');
    await page.getByRole('button', { name: 'Create the key' }).click();
    const secret = await page.locator('#secret').inputValue();
    expect(secret).toMatch(/^rpk_[A-Za-z0-9_-]{43}$/);
    await audit(page);
    const asKey = () => f.app.request('/v1/pros', { headers: { Authorization: `Bearer ${secret}` } });
    expect((await asKey()).status).toBe(200);
    await page.reload();
    expect(await page.content()).not.toContain(secret);
    await page.goto(`${server.url}/app/admin/keys`);
    expect(await page.content()).not.toContain(secret);
    const created = (await listApiKeys(deps.db, f.agencyId, { limit: 10 })).items.filter((k) => k.name === 'CRM sync');
    expect(created.map((k) => [k.role, k.hint, k.revokedAt])).toEqual([['read', secret.slice(-4), null]]);
    await page.locator(`a[href="/app/admin/keys/${created[0]!.keyId}/revoke"]`).click();
    await audit(page);
    await page.getByRole('button', { name: 'Revoke the key' }).click();
    await expect.poll(() => page.locator('[role=status]').textContent()).toBe('The key is revoked: it stopped working at once.');
    expect((await asKey()).status).toBe(401);
    expect((await listApiKeys(deps.db, f.agencyId, { limit: 10 })).items.find((k) => k.keyId === created[0]!.keyId)!.revokedAt).not.toBeNull();

    // Suppressions: an address added by hand is listed.
    await page.goto(`${server.url}/app/admin/suppressions`);
    await audit(page);
    const suppressed = `asked-not-to-be-surveyed-${u}@some-long-newsroom-domain.example`;
    await page.getByLabel('Email', { exact: true }).fill(suppressed);
    await page.getByRole('button', { name: 'Suppress' }).click();
    await expect.poll(() => page.locator('[role=status]').textContent()).toBe('The address is suppressed: the agency’s rounds skip it.');
    expect((await page.locator('tbody tr td').allTextContents()).slice(0, 2)).toEqual([suppressed, 'Added by an admin']);
    await audit(page);
    expect((await listSuppressions(deps.db, f.agencyId, { limit: 10 })).items).toMatchObject([{ email: suppressed, reason: 'unsubscribed', scope: 'agency', addedBy: admin.memberId }]);
    await page.getByRole('link', { name: `Lift for ${suppressed}` }).click();
    await audit(page);

    // Exports: the released rows, exactly, filtered by release date.
    const campaign = await createCampaign(deps.db, f.agencyId, { proId: pro!.proId, name: 'Spring, "Big" Launch' }, deps.now());
    const group = { agencyId: f.agencyId, proId: pro!.proId, campaignId: campaign.campaignId, campaignName: campaign.name, audience: 'reporter' as const, attribution: 'anonymous' as const, period: '2030-05' };
    const seeded = await seedResponses(deps.db, group, ANSWERS.map((answers) => ({ answers })), '2030-05-20T09:00:00.000Z');
    await seedResponses(deps.db, group, ANSWERS.map((answers) => ({ answers })), '2030-04-20T09:00:00.000Z');
    await page.goto(`${server.url}/app/admin/exports`);
    await audit(page);
    await page.getByLabel('Released on or after (optional)', { exact: true }).fill('2030-05-01');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download responses.csv' }).click()]);
    expect(download.suggestedFilename()).toBe('responses.csv');
    const [header, ...rows] = parseCsv(readFileSync((await download.path())!, 'utf8'));
    expect(header).toEqual([...RESPONSE_CSV_COLUMNS]);
    const row = (r: SurveyResponse) =>
      RESPONSE_CSV_COLUMNS.map((column) => {
        const a = r.answers as Record<string, unknown>;
        const cells: Record<string, unknown> = {
          record: 'response',
          period: '2030-05',
          pro_id: pro!.proId,
          campaign_id: campaign.campaignId,
          campaign_name: 'Spring, "Big" Launch',
          audience: 'reporter',
          attribution: 'anonymous',
          instrument_version: 1,
          responsiveness: a.responsiveness,
          recommend: a.recommend,
          improve: a.improve === '=SUM(1)' ? "'=SUM(1)" : a.improve,
          quote_consent: a.quoteConsent,
          released_at: '2030-05-20T09:00:00.000Z',
          batch_id: r.release!.batchId,
        };
        return cells[column] === undefined ? '' : String(cells[column]);
      });
    const byKey = [...seeded].sort((x, y) => (x.release!.rowKey < y.release!.rowKey ? -1 : 1));
    expect(rows).toEqual(byKey.map(row));

    // A bad filter is shown next to its field, not downloaded.
    await page.goto(`${server.url}/app/admin/exports/responses.csv?since=2030-02-31x`);
    expect(await page.locator('#f-since-error').textContent()).toBe('must be an ISO 8601 date or time, e.g. 2030-01-31 or 2030-01-31T09:00:00Z');
    await audit(page);

    expect(new Set(audited)).toEqual(
      new Set([
        '/app/admin',
        '/app/admin/pros',
        `/app/admin/pros/${pro!.proId}`,
        '/app/admin/settings',
        '/app/admin/keys',
        `/app/admin/keys/${created[0]!.keyId}/revoke`,
        '/app/admin/suppressions',
        '/app/admin/suppressions/lift',
        '/app/admin/exports',
        '/app/admin/exports/responses.csv',
      ]),
    );
    await context.close();
  }, 180_000);

  it('an admin adds a pro, changes a setting (a bad value first), creates a key and revokes it, by keyboard alone', async () => {
    // An agency of its own: the test above counts the pros and keys of the shared one.
    const g = await agencyFixture(deps);
    const own = await serveOnFreePort(g.app.fetch);
    try {
      const u = g.agencyId.slice(3, 13).toLowerCase();
      const admin = await createMember(deps.db, g.agencyId, { name: 'Kit Keys', email: `kit-${u}@acme.example`, role: 'admin' }, deps.now());
      const context = await browser.newContext();
      await addSessionCookie(context, deps, own.url, (await consoleSession(deps, { kind: 'member', agencyId: g.agencyId, memberId: admin.memberId })).sessionId);
      const page = await context.newPage();
      /** The focused element's id, text and link target. */
      const focused = () => page.evaluate<string[]>(`[document.activeElement.id, document.activeElement.textContent.trim(), document.activeElement.getAttribute('href')]`);
      /** Presses Tab (or Shift+Tab) until the element with `target` as its id, text or link has the focus: nothing is clicked. */
      const tabTo = async (target: string, key: 'Tab' | 'Shift+Tab' = 'Tab') => {
        for (let i = 0; i < 80 && !(await focused()).includes(target); i++) await page.keyboard.press(key);
        expect(await focused()).toContain(target);
      };
      const status = () => page.locator('[role=status]').textContent();

      // Pros: from the admin index, add one.
      await page.goto(`${own.url}/app/admin`);
      await tabTo('Pros');
      await page.keyboard.press('Enter');
      await page.waitForURL(`${own.url}/app/admin/pros`);
      await tabTo('f-name');
      await page.keyboard.type('Kay Board');
      await tabTo('f-email');
      await page.keyboard.type(`kay-${u}@acme.example`);
      await tabTo('Add the pro');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/app\/admin\/pros\/pro_[0-9A-Z]+\?done=added$/);
      expect(await status()).toBe('The pro was added. They can sign in with their email.');
      expect((await listPros(deps.db, g.agencyId, { limit: 10 })).items.map((p) => [p.name, p.email])).toEqual([['Kay Board', `kay-${u}@acme.example`]]);

      // Settings: a bad value is refused next to its field; corrected, with a checkbox ticked by Space, it is saved.
      await tabTo('Admin');
      await page.keyboard.press('Enter');
      await page.waitForURL(`${own.url}/app/admin`);
      await tabTo('Settings');
      await page.keyboard.press('Enter');
      await page.waitForURL(`${own.url}/app/admin/settings`);
      await tabTo('f-anonymityThreshold');
      await page.keyboard.press('Control+A');
      await page.keyboard.type('11');
      await tabTo('Save the settings');
      await page.keyboard.press('Enter');
      await page.locator('#f-anonymityThreshold-error').waitFor();
      expect(await page.locator('#f-anonymityThreshold-error').textContent()).toBe('must be from 3 to 10');
      expect(await page.locator('#f-anonymityThreshold').getAttribute('aria-invalid')).toBe('true');
      expect(await page.locator('#f-anonymityThreshold').getAttribute('aria-describedby')).toBe('f-anonymityThreshold-hint f-anonymityThreshold-error');
      expect((await getAgency(deps.db, g.agencyId)).version).toBe(1);
      await tabTo('f-anonymityThreshold');
      await page.keyboard.press('Control+A');
      await page.keyboard.type('6');
      await tabTo('Save the settings');
      await tabTo('f-earlyWarnings', 'Shift+Tab');
      await page.keyboard.press('Space');
      expect(await page.locator('#f-earlyWarnings').isChecked()).toBe(true);
      await tabTo('Save the settings');
      await page.keyboard.press('Space');
      await page.waitForURL(`${own.url}/app/admin/settings?done=saved`);
      expect(await status()).toBe('The settings are saved.');
      expect(await getAgency(deps.db, g.agencyId)).toMatchObject({ anonymityThreshold: 6, earlyWarnings: true, version: 2 });

      // API keys: created with the Admin role (arrow keys in the select), the secret shown once; then revoked.
      await tabTo('Admin', 'Shift+Tab');
      await page.keyboard.press('Enter');
      await page.waitForURL(`${own.url}/app/admin`);
      await tabTo('API keys');
      await page.keyboard.press('Enter');
      await page.waitForURL(`${own.url}/app/admin/keys`);
      await tabTo('f-name');
      await page.keyboard.type('Keyboard sync');
      await tabTo('f-role');
      await page.keyboard.press('ArrowUp');
      expect(await page.locator('#f-role').inputValue()).toBe('admin');
      await tabTo('Create the key');
      await page.keyboard.press('Enter');
      await page.locator('#secret').waitFor();
      const secret = await page.locator('#secret').inputValue();
      expect(secret).toMatch(/^rpk_[A-Za-z0-9_-]{43}$/);
      const keyed = async () => (await listApiKeys(deps.db, g.agencyId, { limit: 10 })).items.filter((k) => k.name === 'Keyboard sync');
      const [key] = await keyed();
      expect((await keyed()).map((k) => [k.role, k.hint, k.revokedAt])).toEqual([['admin', secret.slice(-4), null]]);
      await tabTo('Back to the API keys');
      await page.keyboard.press('Enter');
      // The secret's page answered the POST at this same URL: wait for the list's heading instead.
      await page.locator('h1', { hasText: /^API keys$/ }).waitFor();
      expect(await page.content()).not.toContain(secret);
      // The fixture's key is listed too: each "Revoke…" link names its key to a screen reader.
      expect(await page.getByRole('link', { name: `Revoke the key Keyboard sync, ending in ${secret.slice(-4)}…`, exact: true }).getAttribute('href')).toBe(`/app/admin/keys/${key!.keyId}/revoke`);
      await tabTo(`/app/admin/keys/${key!.keyId}/revoke`);
      await page.keyboard.press('Enter');
      await page.waitForURL(`${own.url}/app/admin/keys/${key!.keyId}/revoke`);
      await tabTo('Revoke the key');
      await page.keyboard.press('Enter');
      await page.waitForURL(`${own.url}/app/admin/keys?done=revoked`);
      expect(await status()).toBe('The key is revoked: it stopped working at once.');
      expect((await keyed()).map((k) => k.revokedAt)).toEqual([expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)]);
      expect((await g.app.request('/v1/pros', { headers: { Authorization: `Bearer ${secret}` } })).status).toBe(401);
      await context.close();
    } finally {
      await own.close();
    }
  }, 90_000);
});
