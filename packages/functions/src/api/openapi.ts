import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Hono } from 'hono';
import { openAPIRouteHandler } from 'hono-openapi';
import { html } from 'hono/html';
import { PROBLEM_TYPES, problemTypeUri, type ProblemType } from './problem';
import { problemExamples } from './route-docs';

const description = `Rapport closes the feedback loop for PR professionals: surveys about a pro's responsiveness go to
the reporters, colleagues and clients they worked with, and the answers come back as scores and tips.

Authenticate with \`Authorization: Bearer <API key>\`. Errors are \`application/problem+json\` (RFC 9457)
with a stable \`type\`; validation errors list each bad field in \`errors\` (\`(body)\` for a body that
is not a JSON object). Lists are paged with \`limit\` (at most 100) and the opaque \`cursor\` from the
same list's \`nextCursor\`; a filter by an id the agency does not have is a 404. Creating POSTs accept an
\`Idempotency-Key\` header. Times are ISO 8601 in UTC. String lengths count Unicode code points.

Each API key may make a number of requests a minute (600 by default); after 20 failed API keys in
10 minutes from a client address, its failures are answered 429 instead of 401 until the 10 minutes end
(a correct key always passes). Both answer 429
with \`Retry-After\` in seconds. Every answer is \`Cache-Control: no-store\`.

Conventions: every name is camelCase; a share is a percentage from 0 to 100 and its name says so
(\`responseRatePercent\`, \`percentResponsive.percent\`; NPS is in points from −100 to 100). Creating
requests answer 201 (202 for a survey round, whose emails go out after the answer) and, where the new
resource can be read back, its path in \`Location\`. Every query parameter an operation takes is
described on it; any other is a 400 naming it, never silently ignored.

### Problem types

| \`type\` | Status | \`title\` |
| --- | --- | --- |
${(Object.keys(PROBLEM_TYPES) as ProblemType[]).map((t) => `| \`${problemTypeUri(t)}\` | ${PROBLEM_TYPES[t].status} | ${PROBLEM_TYPES[t].title} |`).join('\n')}`;

/** Serves the OpenAPI 3.1 document, generated from the routes' valibot schemas. */
export function mountOpenApi(app: Hono<any>) {
  app.get(
    '/openapi.json',
    openAPIRouteHandler(app, {
      documentation: {
        info: { title: 'Rapport API', version: '1.0.0', description },
        components: {
          securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: rpk_…' } },
          examples: problemExamples,
        },
      },
      // Every operation documents its own 400 (a problem), not the library's generic one.
      defaultValidationErrorResponse: false,
      exclude: ['/health', '/openapi.json', /^\/docs/],
      // Keep /v1/responses.csv: by default paths with a file extension are left out as static files.
      excludeStaticFile: false,
    }),
  );
}

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

/** Renders the API reference at /docs. */
export function mountDocs(app: Hono<any>) {
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
}
