import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { endSession, MAX_MEDIA_LIST_BYTES } from '@rapport/core';
import type { Deps } from '../deps';
import { noStore } from '../api/no-store';
import { MAX_BODY_BYTES } from '../api/limits';
import type { ConsoleEnv } from './env';
import { CONSOLE_CSS } from './console.css';
import { adminRoutes } from './admin/routes';
import { consoleError, consoleNotFound } from './errors';
import { roundRoutes, tooLargePage } from './rounds';
import { clearSessionCookie, requireViewer, sessionIdOf } from './session';
import { resultsRoutes } from './results';
import { landingRoutes } from './landing';
import { loginRoutes } from './login';
import { signUpRoutes } from './signup';
import { accountRoutes } from './account';
import { memberRoutes } from './members';

/**
 * No inline script or style (scripts and styles from this origin only), no framing, no referrer
 * beyond this origin, nothing cached: console pages carry personal data.
 */
const consoleHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  referrerPolicy: 'same-origin',
  xFrameOptions: 'DENY',
});

/**
 * Console forms are small but for the steps of sending a round, which carry a media list (1 MB at
 * most, sent as multipart: its text is not percent-encoded) and the mapping's few fields. A browser
 * sends the list back with every line break as CRLF: up to twice its size (a list of empty lines).
 * Checked before the session reads the form.
 */
const SEND_STEPS = /^\/app\/rounds\/new(\/|$)/;

/** The signed-in console under /app: each area adds its routes here. */
function signedIn(deps: Deps) {
  return new Hono<ConsoleEnv>()
    .onError(consoleError)
    .use(requireViewer(deps))
    .route('/account', accountRoutes(deps))
    .route('/admin/members', memberRoutes(deps))
    .route('/admin', adminRoutes(deps))
    .route('/rounds', roundRoutes(deps))
    .route('/', resultsRoutes(deps));
}

/** The console for PR pros and agency members, served by the API's app (see docs/DESIGN-NOTES.md, "Console"). */
export function consoleRoutes(deps: Deps) {
  const app = new Hono<ConsoleEnv>().onError(consoleError);
  app.get('/assets/console.css', (c) => c.body(CONSOLE_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'public, max-age=3600' }));
  app.use('/app/*', consoleHeaders, noStore);
  app.use('/app', consoleHeaders, noStore);
  const sendLimit = bodyLimit({ maxSize: 2 * MAX_MEDIA_LIST_BYTES + MAX_BODY_BYTES, onError: (c) => tooLargePage(c) });
  const formLimit = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => consoleError(new HTTPException(413), c) });
  app.use('/app/*', (c, next) => (SEND_STEPS.test(c.req.path) ? sendLimit : formLimit)(c, next));
  app.use('/logout', consoleHeaders, noStore, formLimit);
  app.use('/', consoleHeaders);
  app.use('/login', consoleHeaders, noStore, formLimit);
  app.use('/login/*', consoleHeaders, noStore, formLimit);
  app.use('/signup', consoleHeaders, noStore, formLimit);
  app.use('/signup/*', consoleHeaders, noStore, formLimit);
  app.route('/', landingRoutes(deps));
  app.route('/', loginRoutes(deps));
  app.route('/', signUpRoutes(deps));
  // Signing out: the POST carries the CSRF token like any signed-in form.
  app.post('/logout', requireViewer(deps), async (c) => {
    await endSession(deps.db, sessionIdOf(c, deps.config.publicUrl));
    clearSessionCookie(c, deps.config.publicUrl);
    return c.redirect('/login?signedOut=1', 303);
  });
  // A typed or bookmarked /logout: the account page has the buttons (signing out is a POST).
  app.get('/logout', (c) => c.redirect('/app/account', 303));
  app.route('/app', signedIn(deps));
  app.all('/app/*', consoleNotFound);
  return app;
}
