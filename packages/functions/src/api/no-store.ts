import { createMiddleware } from 'hono/factory';

/**
 * `Cache-Control: no-store` on every answer, errors included: the API's answers and the token
 * pages carry personal data, which no browser or shared cache may keep.
 */
export const noStore = createMiddleware(async (c, next) => {
  await next();
  c.header('Cache-Control', 'no-store');
});
