import { Hono } from 'hono';
import type { Deps } from '../deps';

export function createApp(_deps: Deps) {
  const app = new Hono();
  app.get('/health', (c) => c.json({ status: 'ok' }));
  return app;
}
