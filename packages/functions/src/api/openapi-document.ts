import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hono } from 'hono';
import { generateSpecs } from 'hono-openapi';
import { loadConfig } from '@rapport/core';
import { createDeps } from '../deps';
import { PROBLEM_TYPES, problemTypeUri, type ProblemType } from './problem';
import { problemExamples } from './route-docs';
import { v1Routes } from './v1';

/**
 * The OpenAPI 3.1 document, generated from the routes' valibot schemas and descriptions. Made at
 * build time, not when a Lambda starts: `npm run build` writes it to openapi.json, which the app
 * serves as is (docs/DESIGN-NOTES.md, "Cold start"); the OpenAPI test checks the two are equal.
 */

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

/** The document the routes describe. Nothing is connected: building the routes only defines them. */
export async function openApiDocument(): Promise<Record<string, any>> {
  const config = loadConfig({ AWS_REGION: 'us-east-1', TABLE_NAME: 'rapport', PUBLIC_URL: 'http://localhost:3000', LINK_SECRET: 'generate-the-document-0123456789abcdef' });
  const routes = new Hono().route('/v1', v1Routes(createDeps(config)));
  return (await generateSpecs(routes, {
    documentation: {
      info: { title: 'Rapport API', version: '1.0.0', description },
      components: {
        securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: rpk_…' } },
        examples: problemExamples,
      },
    },
    // Every operation documents its own 400 (a problem), not the library's generic one.
    defaultValidationErrorResponse: false,
    // Keep /v1/responses.csv: by default paths with a file extension are left out as static files.
    excludeStaticFile: false,
  })) as Record<string, any>;
}

/** Where the app's document is: `npm run build` writes it, the app serves it. */
export const openApiFile = join(import.meta.dirname, 'openapi.json');

export async function writeOpenApiDocument(): Promise<void> {
  writeFileSync(openApiFile, `${JSON.stringify(await openApiDocument())}\n`);
}
