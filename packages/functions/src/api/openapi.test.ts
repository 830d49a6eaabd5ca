import { describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { createApp } from '../index';
import { testDeps } from '@rapport/testing';
import { PROBLEM_TYPES, problemTypeUri } from './problem';
import { openApiDocument } from './openapi-document';

const app = createApp(testDeps());
const documentOf = async () => (await (await app.request('/openapi.json')).json()) as any;
const operationsOf = (document: any) =>
  Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item as object).map(([method, op]) => [`${method} ${path}`, op as any] as const));
/** What a `$ref` to `components.schemas` names. */
const resolve = (document: any, schema: any) => (schema?.$ref ? document.components.schemas[schema.$ref.split('/').pop()] : schema);

describe('OpenAPI document', () => {
  it('is served as the routes generate it: run npm run build when this fails', async () => {
    // The app serves the document npm run build wrote (no schema is converted when a Lambda starts).
    expect(await documentOf()).toEqual(await openApiDocument());
  });

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
    const document = await documentOf();
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
      '/v1/surveys/{surveyId}/close',
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
    expect(createPro.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ProInput' });
    expect(document.components.schemas.ProInput.required).toEqual(['name', 'email']);
    expect(Object.keys(createPro.responses).sort()).toEqual(['201', '400', '401', '403', '409', '422', '429']);
    expect(createPro.parameters.map((p: { name: string }) => p.name)).toContain('Idempotency-Key');
    // A round's 202 stays small: counts per reason and the first skipped; the rest is paged.
    const created = resolve(document, document.paths['/v1/campaigns/{campaignId}/surveys'].post.responses['202'].content['application/json'].schema);
    expect(created.required).toEqual(expect.arrayContaining(['accepted', 'skippedTotal', 'skippedCounts', 'skipped']));
    expect(Object.keys(document.components.schemas.SkippedCounts.properties)).toEqual(['invalid', 'duplicate', 'unsubscribed', 'bounced', 'complained', 'erased', 'throttled']);
    expect(Object.keys(document.paths['/v1/surveys/{surveyId}/skipped'].get.responses).sort()).toEqual(['200', '400', '401', '404', '429']);
    const patchSettings = document.paths['/v1/settings'].patch;
    const schema = resolve(document, patchSettings.requestBody.content['application/json'].schema);
    expect(schema.properties.anonymityThreshold).toMatchObject({ minimum: 3, maximum: 10 });
  });

  it('documents 429 with Retry-After, and Cache-Control: no-store, on every operation', async () => {
    const document = await documentOf();
    const operations = operationsOf(document);
    expect(operations.length).toBeGreaterThanOrEqual(27);
    for (const [name, op] of operations) {
      const limited = op.responses['429'];
      expect([name, limited.headers['Retry-After']]).toEqual([name, { description: 'Seconds until the window that refused the request ends.', required: true, schema: { type: 'integer', minimum: 1 } }]);
      expect(limited.description).toContain('AUTH_FAILURE_LIMIT_PER_ADDRESS');
      for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
        expect([name, status, response.headers['Cache-Control'].schema]).toEqual([name, status, { type: 'string', const: 'no-store' }]);
      }
    }
  });

  it('names its schemas as components, referenced from the operations', async () => {
    const document = await documentOf();
    expect(Object.keys(document.components.schemas)).toEqual(
      expect.arrayContaining(['Pro', 'ProInput', 'ProPatch', 'ProPage', 'Campaign', 'CampaignInput', 'Survey', 'SurveyInput', 'SurveyCreated', 'Invitation', 'ProScores', 'CampaignScores', 'AgencyScores', 'PeriodScores', 'ScoreGroup', 'ItemScore', 'Problem', 'FieldIssue', 'AgencySettings', 'SettingsPatch', 'Webhook', 'ResponsePage', 'TestimonialPage']),
    );
    for (const [name, op] of operationsOf(document)) {
      const bodies = [op.requestBody?.content?.['application/json'], ...Object.values(op.responses as Record<string, any>).flatMap((r) => Object.values(r.content ?? {}))].filter(Boolean) as any[];
      for (const media of bodies.filter((m) => m.schema.type !== 'string')) expect([name, Object.keys(media.schema)]).toEqual([name, ['$ref']]);
    }
    // The scores shapes are named once instead of inlined per item and audience (46,735 characters before).
    expect(JSON.stringify(document.components.schemas.ProScores).length).toBeLessThan(1000);
  });

  it('has an example on every operation and error, and a description on every parameter', async () => {
    const document = await documentOf();
    for (const [name, op] of operationsOf(document)) {
      if (op.requestBody) expect([name, 'request', op.requestBody.content['application/json'].example]).toEqual([name, 'request', expect.anything()]);
      for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
        for (const [type, media] of Object.entries(response.content ?? {}) as [string, any][]) {
          const examples = type === 'application/problem+json' ? Object.values(media.examples ?? {}) : [media.example].filter((e) => e !== undefined);
          expect([name, status, examples.length > 0]).toEqual([name, status, true]);
        }
      }
      for (const p of op.parameters ?? []) expect([name, p.in, p.name, typeof p.description]).toEqual([name, p.in, p.name, 'string']);
    }
  });

  it('lists the problem types, and gives each an example of its own', async () => {
    const document = await documentOf();
    for (const [type, { status, title }] of Object.entries(PROBLEM_TYPES)) {
      expect(document.info.description).toContain(`| \`${problemTypeUri(type as never)}\` | ${status} | ${title} |`);
      expect(document.components.examples[type].value).toMatchObject({ type: problemTypeUri(type as never), status, title });
    }
    for (const [name, op] of operationsOf(document)) {
      for (const [status, response] of Object.entries(op.responses as Record<string, any>).filter(([s]) => Number(s) >= 400)) {
        for (const example of Object.values(response.content['application/problem+json'].examples) as any[]) {
          expect([name, status, document.components.examples[example.$ref.split('/').pop()].value.status]).toEqual([name, status, Number(status)]);
        }
      }
    }
  });

  it('documents Retry-After wherever it is set, and Location on every creation that sets it', async () => {
    const document = await documentOf();
    const locations: string[] = [];
    for (const [name, op] of operationsOf(document)) {
      expect(op.responses['429'].headers['Retry-After'].required).toBe(true);
      const inProgress = (Object.values(op.responses['409']?.content?.['application/problem+json']?.examples ?? {}) as any[]).some((e) => e.$ref.endsWith('/idempotency-in-progress'));
      expect([name, Boolean(op.responses['409']?.headers['Retry-After'])]).toEqual([name, inProgress]);
      for (const status of ['201', '202']) if (op.responses[status]?.headers.Location) locations.push(`${name} ${status}`);
    }
    expect(locations.sort()).toEqual(['post /v1/campaigns 201', 'post /v1/campaigns/{campaignId}/surveys 202', 'post /v1/erasures 201', 'post /v1/pros 201', 'post /v1/webhooks 201']);
  });

  it('names every property in camelCase', async () => {
    const document = await documentOf();
    const names = new Set<string>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (!node || typeof node !== 'object') return;
      for (const [key, value] of Object.entries(node)) {
        if (key === 'properties') Object.keys(value as object).forEach((n) => names.add(n));
        walk(value);
      }
    };
    walk(document.components.schemas);
    walk(document.paths);
    expect(names.size).toBeGreaterThan(50);
    expect([...names].filter((n) => !/^[a-z][a-zA-Z0-9]*$/.test(n))).toEqual([]);
  });

  it('gives examples that its own schemas accept', async () => {
    const document = await documentOf();
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    ajv.addSchema({ $id: 'rapport', components: document.components });
    const check = (where: string, schema: any, value: unknown) => {
      const valid = ajv.validate({ $ref: `rapport#/components/schemas/${schema.$ref.split('/').pop()}` }, value);
      expect([where, valid ? 'valid' : ajv.errorsText()]).toEqual([where, 'valid']);
    };
    let checked = 0;
    for (const [name, op] of operationsOf(document)) {
      const request = op.requestBody?.content['application/json'];
      if (request) check(`${name} request`, request.schema, request.example), checked++;
      for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
        const media = response.content?.['application/json'];
        if (media) check(`${name} ${status}`, media.schema, media.example), checked++;
      }
    }
    for (const [type, example] of Object.entries(document.components.examples) as [string, any][]) check(`problem ${type}`, { $ref: 'Problem' }, example.value);
    expect(checked).toBeGreaterThan(35);
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
