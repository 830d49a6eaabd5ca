import type { Deps } from '../deps';
import { baseApp } from './base-app';
import { lazyRoutes } from './lazy';

export { MAX_BODY_BYTES, MAX_ROUND_BODY_BYTES } from './limits';

/**
 * The one Hono app, served by the local runner and by Lambda alike. Each group of routes is
 * loaded on the first request to one of its paths (a chunk of its own in the Lambda bundle), so a
 * cold start imports only this router, the error mapping and the SDK clients; see
 * docs/DESIGN-NOTES.md, "Cold start". The groups' paths do not overlap.
 */
export function createApp(deps: Deps) {
  const app = baseApp(deps);
  lazyRoutes(app, ['/v1/*'], async () => (await import('./v1')).v1Routes(deps), '/v1');
  lazyRoutes(app, ['/s/*', '/u/*', '/assets/pages.css'], async () => (await import('../pages/routes')).pageRoutes(deps));
  lazyRoutes(app, ['/m/*'], async () => (await import('../pages/mail-preferences')).mailPreferenceRoutes(deps));
  lazyRoutes(app, ['/', '/assets/console.css', '/login/*', '/signup/*', '/logout', '/app/*'], async () => (await import('../console/app')).consoleRoutes(deps));
  lazyRoutes(app, ['/openapi.json', '/docs/*'], async () => (await import('./openapi')).docsRoutes());
  return app;
}
