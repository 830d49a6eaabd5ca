import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { html } from 'hono/html';
import { Hono } from 'hono';
// Written by `npm run build` from the routes (openapi-document.ts); the OpenAPI test proves it current.
import document from './openapi.json';

// Swagger UI is served from the installed package, so /docs works offline and under a strict CSP.
const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const assets: Record<string, { file: string; type: string }> = {
  'swagger-ui.css': { file: 'swagger-ui.css', type: 'text/css; charset=utf-8' },
  'swagger-ui-bundle.js': { file: 'swagger-ui-bundle.js', type: 'text/javascript; charset=utf-8' },
};
const cache = new Map<string, string>();
const asset = (name: string) => {
  const hit = cache.get(name);
  if (hit) return hit;
  const text = readFileSync(join(swaggerDir, assets[name]!.file), 'utf8');
  cache.set(name, text);
  return text;
};

const initScript = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#docs', deepLinking: true });`;

/** The OpenAPI document at /openapi.json, as built, and the API reference at /docs. */
export function docsRoutes() {
  const app = new Hono();
  app.get('/openapi.json', (c) => c.json(document));
  app.get('/docs', (c) =>
    c.html(html`<!doctype html>
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>Rapport API reference</title>
          <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
        </head>
        <body>
          <main id="docs"></main>
          <script src="/docs/assets/swagger-ui-bundle.js"></script>
          <script src="/docs/assets/init.js"></script>
        </body>
      </html>`),
  );
  app.get('/docs/assets/init.js', (c) => c.body(initScript, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }));
  app.get('/docs/assets/:name', (c) => {
    const name = c.req.param('name');
    if (!assets[name]) return c.notFound();
    return c.body(asset(name), 200, { 'Content-Type': assets[name].type, 'Cache-Control': 'public, max-age=86400' });
  });
  return app;
}
