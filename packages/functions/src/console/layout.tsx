import type { Child } from 'hono/jsx';
import { raw } from 'hono/html';
import type { Viewer } from '@rapport/core';
import { Isolated } from '../pages/layout';

/** The hidden field every signed-in form carries (see `requireViewer`). */
export const CsrfField = ({ token }: { token: string }) => <input type="hidden" name="_csrf" value={token} />;

const navFor = (viewer: Viewer): [string, string][] => [
  [viewer.kind === 'pro' ? 'My results' : 'Team', '/app'],
  // Leads read; sending is for pros and admins.
  ...(viewer.kind === 'pro' || viewer.role === 'admin' ? ([['Send a round', '/app/rounds/new']] as [string, string][]) : []),
  ...(viewer.kind === 'member' && viewer.role === 'admin' ? ([['Admin', '/app/admin']] as [string, string][]) : []),
  ['Account', '/app/account'],
];

/**
 * The shell of every console page: server-rendered, usable without script (a script file from this
 * origin may enhance a page; the CSP allows no inline one), readable on a phone, printable.
 * `viewer` is absent on the public pages (landing, sign-in).
 */
export const ConsoleLayout = ({ title, viewer, csrf, current, children }: { title: string; viewer?: Viewer; csrf?: string; current?: string; children: Child }) => (
  <>
    {raw('<!doctype html>')}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>{`${title} · Rapport`}</title>
        <link rel="stylesheet" href="/assets/console.css" />
      </head>
      <body class="console">
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href={viewer ? '/app' : '/'}>
            Rapport
          </a>
          {viewer && (
            <nav aria-label="Main">
              <ul>
                {navFor(viewer).map(([label, href]) => (
                  <li>
                    <a href={href} aria-current={current === href ? 'page' : undefined}>
                      {label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          )}
          {viewer && csrf && (
            <form class="signout" method="post" action="/logout">
              <span class="who">
                <Isolated>{viewer.name}</Isolated>
              </span>
              <CsrfField token={csrf} />
              <button type="submit" class="link">
                Sign out
              </button>
            </form>
          )}
        </header>
        <main id="main">{children}</main>
      </body>
    </html>
  </>
);
