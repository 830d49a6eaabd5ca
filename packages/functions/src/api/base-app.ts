import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import type { Deps } from '../deps';
import { errorToResponse, problem } from './problem';

/** Errors as problem+json, and a problem for a path nothing answers. */
export const apiErrors = <App extends Hono<any>>(app: App): App =>
  app.onError(errorToResponse).notFound((c) => problem(c, 'not-found', `Nothing at ${c.req.method} ${c.req.path}`)) as App;

/** What every app answers the same way: errors as problem+json, security headers, /health. */
export function baseApp(deps: Pick<Deps, 'now'>) {
  const app = apiErrors(new Hono());
  // Nothing of Rapport is meant to be framed; pages add a strict CSP of their own.
  app.use(secureHeaders({ xFrameOptions: 'DENY' }));
  app.get('/health', (c) => c.json({ status: 'ok', time: deps.now().toISOString() }));
  return app;
}
