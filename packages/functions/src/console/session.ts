import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { ForbiddenError, NotFoundError, resolveSession, SESSION_DAYS, type Viewer } from '@rapport/core';
import type { Deps } from '../deps';
import type { ConsoleEnv } from './env';

/**
 * The session cookie. Under https it is `__Host-` prefixed (so Secure, Path=/, no Domain: no
 * subdomain can set or read it); on http://localhost, where browsers refuse Secure, it is plain.
 */
const secure = (publicUrl: string) => publicUrl.startsWith('https://');
export const sessionCookieName = (publicUrl: string) => (secure(publicUrl) ? '__Host-rapport_session' : 'rapport_session');

export function setSessionCookie(c: Context, publicUrl: string, sessionId: string) {
  setCookie(c, sessionCookieName(publicUrl), sessionId, {
    path: '/',
    httpOnly: true,
    secure: secure(publicUrl),
    sameSite: 'Lax',
    maxAge: SESSION_DAYS * 86_400,
  });
}

export const clearSessionCookie = (c: Context, publicUrl: string) => deleteCookie(c, sessionCookieName(publicUrl), { path: '/', secure: secure(publicUrl) });

export const sessionIdOf = (c: Context, publicUrl: string) => getCookie(c, sessionCookieName(publicUrl)) ?? '';

/** The CSRF token of a session: derived from its id, so nothing more is stored, and useless without the cookie. */
export const csrfToken = (secret: string, sessionId: string) => createHmac('sha256', secret).update(`rapport-csrf-v1\u0000${sessionId}`).digest('base64url');

/**
 * A browser says where a form came from (`Sec-Fetch-Site`, `Origin`); a POST from another site is
 * refused whatever it carries. `Sec-Fetch-Site` decides when sent (every current browser does): the
 * pages' `Referrer-Policy: no-referrer` makes a browser send `Origin: null` even from this origin, so
 * `Origin` is looked at only without it, and `null` then proves nothing either way. Requests without
 * either (old browsers, tools) still need the session's CSRF token on signed-in forms.
 */
export function isCrossSite(c: Context, publicUrl: string): boolean {
  const site = c.req.header('Sec-Fetch-Site');
  if (site) return site !== 'same-origin' && site !== 'none';
  const origin = c.req.header('Origin');
  if (!origin || origin === 'null') return false;
  return origin !== new URL(publicUrl).origin && origin !== new URL(c.req.url).origin;
}

/**
 * Signed-in pages: resolves the session cookie to its viewer, or sends the browser to sign in
 * (and back here afterwards). Every POST must be same-site and carry the session's CSRF token.
 */
export const requireViewer = ({ db, now, config, linkSecret }: Pick<Deps, 'db' | 'now' | 'config' | 'linkSecret'>) =>
  createMiddleware<ConsoleEnv>(async (c, next) => {
    const sessionId = sessionIdOf(c, config.publicUrl);
    const viewer = sessionId ? await resolveSession(db, sessionId, now()) : null;
    if (!viewer) {
      if (sessionId) clearSessionCookie(c, config.publicUrl);
      const back = c.req.method === 'GET' ? `?next=${encodeURIComponent(c.req.path)}` : '';
      return c.redirect(`/login${back}`, 303);
    }
    const csrf = csrfToken(linkSecret, sessionId);
    if (c.req.method === 'POST') {
      const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
      const given = Buffer.from(typeof form._csrf === 'string' ? form._csrf : '');
      const expected = Buffer.from(csrf);
      if (isCrossSite(c, config.publicUrl) || given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new ForbiddenError('This form was not sent from a Rapport page; reload the page and send it again');
      }
    }
    c.set('viewer', viewer);
    c.set('csrf', csrf);
    await next();
  });

export const isAdmin = (viewer: Viewer) => viewer.kind === 'member' && viewer.role === 'admin';
export const isMember = (viewer: Viewer) => viewer.kind === 'member';

/** Admin pages: a lead or a pro gets a 403 page saying so. */
export const requireAdmin = createMiddleware<ConsoleEnv>(async (c, next) => {
  if (!isAdmin(c.get('viewer'))) throw new ForbiddenError('This page is for the agency’s admins');
  await next();
});

/**
 * Whether the viewer may see a pro's pages: members see every pro of their agency, a pro only
 * themselves. Anyone else's pro is "not found", never "forbidden": a pro learns nothing of others.
 */
export function assertCanSeePro(viewer: Viewer, proId: string) {
  if (viewer.kind === 'pro' && viewer.proId !== proId) throw new NotFoundError('pro');
}
