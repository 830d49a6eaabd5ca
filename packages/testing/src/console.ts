import { startSession, type Identity } from '@rapport/core';
import { csrfToken, sessionCookieName, type Deps } from '@rapport/functions';
import type { BrowserContext } from 'playwright-core';

/**
 * A real console session for an identity (what signing in by email creates), for tests of pages
 * behind sign-in: the `Cookie` header and the CSRF token its forms must carry.
 */
export async function consoleSession(deps: Deps, identity: Identity) {
  const { sessionId } = await startSession(deps.db, identity, deps.now());
  return { sessionId, cookie: `${sessionCookieName(deps.config.publicUrl)}=${sessionId}`, csrf: csrfToken(deps.linkSecret, sessionId) };
}

/** Puts a session's cookie into a browser context, for the app served at `baseUrl`. */
export async function addSessionCookie(context: BrowserContext, deps: Deps, baseUrl: string, sessionId: string) {
  await context.addCookies([{ name: sessionCookieName(deps.config.publicUrl), value: sessionId, url: baseUrl, httpOnly: true, sameSite: 'Lax' }]);
}
