import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import type { Deps } from '../deps';
import { errorToResponse, problem } from './problem';

/** What every app answers the same way: errors as problem+json, security headers, /health. */
export function baseApp(deps: Pick<Deps, 'now'>) {
  const app = new Hono();
  app.onError(errorToResponse);
  app.notFound((c) => problem(c, 'not-found', `Nothing at ${c.req.method} ${c.req.path}`));
  // Nothing of Rapport is meant to be framed; pages add a strict CSP of their own.
  app.use(secureHeaders({ xFrameOptions: 'DENY' }));
  app.get('/health', (c) => c.json({ status: 'ok', time: deps.now().toISOString() }));
  return app;
}
