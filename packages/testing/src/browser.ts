import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';

/** Debian's Chromium, headless, with the flags this machine's closed network needs. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

/** Serves a fetch handler on a free loopback port, for tests that need a real HTTP server. */
export async function serveOnFreePort(fetch: (request: Request) => Response | Promise<Response>) {
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** axe-core's browser build, injected into a page to audit it (it runs in the page, not in Node); read once, when first needed. */
let axeSource: string | undefined;
const axeScript = () => (axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8'));

/** The rules of WCAG 2.1 A and AA that axe-core checks. */
const WCAG21AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/**
 * axe-core's WCAG 2.1 AA violations of the page as it is now, one line each (rule, and the first
 * element's selector). The page's context needs `bypassCSP: true`: Rapport's pages allow no script.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axeScript() });
  return page.evaluate<string[]>(`axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(WCAG21AA)} }, resultTypes: ['violations'] })
    .then((r) => r.violations.map((v) => v.id + ' (' + v.impact + '): ' + v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ') + ' — ' + v.help))`);
}

/**
 * What spills out of its box: the document wider than the viewport, and every element whose content
 * is wider than its own box (scrollWidth > clientWidth: text cut off or running over a border).
 * Hidden elements (no box) do not count. Written as a string: it runs in the page, and this
 * project's TypeScript has no DOM library.
 */
export async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`(() => {
    const out = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > window.innerWidth) out.push('document: ' + doc.scrollWidth + 'px wide in a ' + window.innerWidth + 'px viewport');
    for (const el of document.querySelectorAll('body *')) {
      if (el.clientWidth === 0 || getComputedStyle(el).display === 'none') continue;
      if (el.scrollWidth > el.clientWidth + 1) {
        const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '');
        out.push(name + ': content ' + el.scrollWidth + 'px in ' + el.clientWidth + 'px — ' + (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60));
      }
    }
    return out;
  })()`);
}

/** The phone every page is checked at; `bypassCSP` lets axe's script run in pages that allow none. */
export const PHONE: BrowserContextOptions = { bypassCSP: true, viewport: { width: 390, height: 844 } };

/** Asserts the page as it is passes axe-core (WCAG 2.1 AA) and the overflow check; a failure names the page's URL. */
export async function expectAccessible(page: Page): Promise<void> {
  const url = page.url();
  expect({ url, violations: await axeViolations(page), overflow: await overflowing(page) }).toEqual({ url, violations: [], overflow: [] });
}
