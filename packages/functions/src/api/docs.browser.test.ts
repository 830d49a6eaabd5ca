import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, serveOnFreePort, testDeps } from '@rapport/testing';
import { createApp } from '../index';

describe('API reference in a real browser', () => {
  let browser: Browser;
  let server: Awaited<ReturnType<typeof serveOnFreePort>>;

  beforeAll(async () => {
    server = await serveOnFreePort(createApp(testDeps()).fetch);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('renders /docs with every operation, offline', async () => {
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(r.url()));
    page.on('pageerror', (e) => failed.push(e.message));
    await page.goto(`${server.url}/docs`);
    await page.getByText('Rapport API').first().waitFor();
    await page.locator('.opblock').first().waitFor();
    const operations = await page.locator('.opblock-summary-path').allInnerTexts();
    expect(operations.map((t) => t.replace(/\u200b/g, ''))).toContain('/v1/pros/{proId}');
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, object> };
    const documented = Object.values(document.paths).flatMap((item) => Object.keys(item as object));
    expect(await page.locator('.opblock').count()).toBe(documented.length);
    expect(failed).toEqual([]);
  });
});
