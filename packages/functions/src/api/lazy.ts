import { Hono, type Context } from 'hono';
import { apiErrors } from './base-app';

/**
 * Serves `paths` of `app` with the routes `load` builds, loaded on the first request to one of
 * them and kept. The routes get the app's error and not-found answers (a group with an `onError`
 * of its own keeps it) and run inside the app's middleware, as if mounted with `app.route(base)`.
 */
export function lazyRoutes(app: Hono<any>, paths: string[], load: () => Promise<Hono<any>>, base = '/') {
  let routes: Promise<Hono<any>> | undefined;
  const mounted = () =>
    (routes ??= load().then(
      (group) => apiErrors(new Hono()).route(base, group),
      (error: unknown) => {
        routes = undefined; // a failed load is tried again on the next request
        throw error;
      },
    ));
  const serve = async (c: Context) => (await mounted()).fetch(c.req.raw, c.env);
  for (const path of paths) app.all(path, serve);
}
