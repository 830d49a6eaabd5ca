import { describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { createApp } from '../index';
import { testDeps } from '@rapport/testing';

const app = createApp(testDeps());

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const res = await app.request('/openapi.json');
    expect(res.status).toBe(200);
    const document = (await res.json()) as any;
    expect(document.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('documents every v1 route with its schemas, security and problems', async () => {
    const document = (await (await app.request("/openapi.json")).json()) as any;
    expect(Object.keys(document.paths).sort()).toEqual([
      '/v1/api-keys',
      '/v1/api-keys/{keyId}',
      '/v1/campaigns',
      '/v1/campaigns/{campaignId}',
      '/v1/campaigns/{campaignId}/scores',
      '/v1/campaigns/{campaignId}/surveys',
      '/v1/erasures',
      '/v1/erasures/{erasureId}',
      '/v1/pros',
      '/v1/pros/{proId}',
      '/v1/pros/{proId}/commitments',
      '/v1/pros/{proId}/scores',
      '/v1/pros/{proId}/summary',
      '/v1/responses',
      '/v1/responses.csv',
      '/v1/scores',
      '/v1/settings',
      '/v1/suppressions',
      '/v1/suppressions/{email}',
      '/v1/surveys/{surveyId}',
      '/v1/surveys/{surveyId}/cancel',
      '/v1/surveys/{surveyId}/invitations',
      '/v1/surveys/{surveyId}/skipped',
      '/v1/testimonials',
      '/v1/webhooks',
      '/v1/webhooks/{webhookId}',
      '/v1/webhooks/{webhookId}/deliveries',
      '/v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver',
      '/v1/webhooks/{webhookId}/test',
    ]);
    const createPro = document.paths['/v1/pros'].post;
    expect(createPro.security).toEqual([{ apiKey: [] }]);
    expect(createPro.requestBody.content['application/json'].schema.required).toEqual(['name', 'email']);
    expect(Object.keys(createPro.responses).sort()).toEqual(['201', '400', '401', '403', '409', '422', '429']);
    expect(createPro.parameters.map((p: { name: string }) => p.name)).toContain('Idempotency-Key');
    // A round's 202 stays small: counts per reason and the first skipped; the rest is paged.
    const created = document.paths['/v1/campaigns/{campaignId}/surveys'].post.responses['202'].content['application/json'].schema;
    expect(created.required).toEqual(expect.arrayContaining(['accepted', 'skippedTotal', 'skippedCounts', 'skipped']));
    expect(Object.keys(created.properties.skippedCounts.properties)).toEqual(['invalid', 'duplicate', 'unsubscribed', 'bounced', 'complained', 'erased', 'throttled']);
    expect(Object.keys(document.paths['/v1/surveys/{surveyId}/skipped'].get.responses).sort()).toEqual(['200', '400', '401', '404', '429']);
    const patchSettings = document.paths['/v1/settings'].patch;
    const schema = patchSettings.requestBody.content['application/json'].schema;
    expect(schema.properties.anonymityThreshold).toMatchObject({ minimum: 3, maximum: 10 });
  });

  it('documents 429 with Retry-After, and Cache-Control: no-store, on every operation', async () => {
    const document = (await (await app.request('/openapi.json')).json()) as any;
    const operations = Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item as object).map(([method, op]) => [`${method} ${path}`, op as any] as const));
    expect(operations.length).toBeGreaterThanOrEqual(27);
    for (const [name, op] of operations) {
      const limited = op.responses['429'];
      expect([name, limited.headers['Retry-After']]).toEqual([name, { description: 'Seconds until the window that refused the request ends.', required: true, schema: { type: 'integer', minimum: 1 } }]);
      expect(limited.description).toContain('AUTH_FAILURE_LIMIT_PER_ADDRESS');
      // hono-openapi's own 400 for routes whose validation error is not documented by `doc` is left out.
      for (const [status, response] of Object.entries(op.responses as Record<string, any>).filter(([, r]) => r.description !== 'Validation Error')) {
        expect([name, status, response.headers['Cache-Control'].schema]).toEqual([name, status, { type: 'string', const: 'no-store' }]);
      }
    }
  });

  it('serves the reference page and its assets locally', async () => {
    const page = await app.request('/docs');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/docs/assets/swagger-ui-bundle.js');
    for (const asset of ['swagger-ui-bundle.js', 'swagger-ui.css', 'init.js']) {
      const res = await app.request(`/docs/assets/${asset}`);
      expect(res.status).toBe(200);
      expect((await res.text()).length).toBeGreaterThan(10);
    }
    expect((await app.request('/docs/assets/../../package.json')).status).toBe(404);
  });
});
