import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '@rapport/testing';
import { renderAgencySummary, renderProSummary } from './render';
import { agencySummary, hostileSummary, proSummary, withheldSummary } from './render.fixtures';

/** Screenshots land in <repo>/test-artifacts (ignored by git) for a person to look at. */
const ARTIFACTS = fileURLToPath(new URL('../../../../test-artifacts/', import.meta.url));

const WIDTH = 600;

/**
 * Loads the email as a mail client would: no network at all (every request is refused, so a
 * remote resource would show up as a failed request), then measures the layout.
 */
async function open(browser: Browser, html: string, width = WIDTH): Promise<{ page: Page; requests: string[] }> {
  const page = await browser.newPage({ viewport: { width, height: 900 }, javaScriptEnabled: false });
  const requests: string[] = [];
  await page.route('**/*', (route) => {
    requests.push(route.request().url());
    return route.abort();
  });
  await page.setContent(html, { waitUntil: 'load' });
  return { page, requests };
}

/**
 * The page's scroll width and every element whose box reaches past the right edge. Written as a
 * string: it runs in the page, and this project's TypeScript has no DOM library.
 */
async function overflow(page: Page, width: number) {
  return page.evaluate<{ scrollWidth: number; overflowing: string[] }>(`(() => {
    const limit = ${width};
    const out = [];
    for (const el of document.body.querySelectorAll('*')) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue; // hidden (the preheader)
      if (box.right > limit + 0.5 || box.left < -0.5) {
        out.push(el.tagName.toLowerCase() + ' ' + Math.round(box.left) + '–' + Math.round(box.right) + ': ' + (el.textContent || '').slice(0, 60));
      }
    }
    return { scrollWidth: document.documentElement.scrollWidth, overflowing: out };
  })()`);
}

describe('summary emails in real Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("lays out a pro's summary with long names, hostile comments and 12 trend points within 600px", async () => {
    const model = hostileSummary();
    expect(model.trend).toHaveLength(12);
    const { html } = renderProSummary(model);
    const { page, requests } = await open(browser, html);
    await page.screenshot({ path: `${ARTIFACTS}summary-pro.png`, fullPage: true });

    const { scrollWidth, overflowing } = await overflow(page, WIDTH);
    expect(overflowing).toEqual([]);
    expect(scrollWidth).toBeLessThanOrEqual(WIDTH);
    expect(requests).toEqual([]);
    // Nothing hostile became markup: no script or image elements, and the text reads as written.
    expect(await page.locator('script, img, svg, style').count()).toBe(0);
    const text = await page.locator('body').innerText();
    expect(text).toContain('<script>alert("x")</script> Reply faster');
    expect(text).toContain('Where to focus');
    for (const tip of model.weakest!.tips) expect(text).toContain(tip.text);

    // Twelve trend bars in the 12 rows, each wider for a higher score, none wider than its track.
    const bars = await page.evaluate<{ width: number; track: number }[]>(
      `[...document.querySelectorAll('td[bgcolor="#4f46e5"]')].map((c) => ({ width: c.getBoundingClientRect().width, track: c.closest('table').getBoundingClientRect().width }))`,
    );
    expect(bars).toHaveLength(10);
    for (const b of bars) expect(b.width).toBeLessThanOrEqual(b.track);
    const last = bars[bars.length - 1]!; // March 2030, 4.2 of 5
    expect(last.width / last.track).toBeCloseTo(0.84, 1);
    await page.close();
  });

  it('fits a phone too (375px), and the other summaries fit 600px', async () => {
    const cases: [string, string, number][] = [
      ['summary-pro-phone.png', renderProSummary(hostileSummary()).html, 375],
      ['summary-pro-typical.png', renderProSummary(proSummary()).html, WIDTH],
      ['summary-pro-withheld.png', renderProSummary(withheldSummary()).html, WIDTH],
      ['summary-agency.png', renderAgencySummary(agencySummary()).html, WIDTH],
    ];
    for (const [file, html, width] of cases) {
      const { page, requests } = await open(browser, html, width);
      await page.screenshot({ path: `${ARTIFACTS}${file}`, fullPage: true });
      const { scrollWidth, overflowing } = await overflow(page, width);
      expect(overflowing, file).toEqual([]);
      expect(scrollWidth, file).toBeLessThanOrEqual(width);
      expect(requests, file).toEqual([]);
      await page.close();
    }
  });
});
