/**
 * Streaming: the CSV export's Lambda handler, invoked in process with a Function URL event, on a
 * stand-in for the Lambda Node.js runtime's `awslambda` global (the runtime is not an engine that
 * runs here; `@rapport/testing`'s `lambda-stream.ts` follows its client), over DynamoDB Local.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaign, createPro } from '@rapport/core';
import { agencyFixture, installLambdaStreamingRuntime, invokeStreaming, testConfig, testDeps, type AgencyFixture } from '@rapport/testing';
import { seedResponses } from '../api/routes/responses.fixtures';
import { resetLambdaDeps } from './runtime';
import { lambdaContext } from './test-support';

const deps = testDeps();
const ROWS = 2_500;
const HOST = 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws';

let handler: unknown;
let f: AgencyFixture;
let proId: string;

/** A Lambda Function URL event (payload format 2.0), as the URL sends it to the function. */
function urlEvent(path: string, query: string, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: query,
    queryStringParameters: Object.fromEntries(new URLSearchParams(query)),
    headers: { host: HOST, 'user-agent': 'vitest', 'x-forwarded-proto': 'https', ...headers },
    requestContext: {
      accountId: 'anonymous',
      apiId: HOST.split('.')[0]!,
      domainName: HOST,
      domainPrefix: HOST.split('.')[0]!,
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'vitest' },
      requestId: 'req-export',
      routeKey: '$default',
      stage: '$default',
      time: '24/Nov/2030:10:00:00 +0000',
      timeEpoch: Date.now(),
    },
    isBase64Encoded: false,
  };
}

beforeAll(async () => {
  const config = testConfig();
  Object.assign(process.env, { TABLE_NAME: config.table, DYNAMODB_ENDPOINT: config.dynamoEndpoint, AWS_REGION: config.region, LINK_SECRET: config.linkSecret });
  resetLambdaDeps();
  // The runtime's global exists before the handler's module loads, as on Lambda.
  installLambdaStreamingRuntime();
  handler = (await import('./export')).handler;

  f = await agencyFixture(deps);
  const at = new Date('2030-05-01T00:00:00Z');
  proId = (await createPro(deps.db, f.agencyId, { name: 'Export Pro', email: `export-${f.agencyId.slice(3)}@acme.example` }, at)).proId;
  const campaign = await createCampaign(deps.db, f.agencyId, { proId, name: 'Launch, "Loud"' }, at);
  const group = { agencyId: f.agencyId, proId, campaignId: campaign.campaignId, campaignName: campaign.name, audience: 'client' as const, attribution: 'anonymous' as const, period: '2030-05' };
  const rows = Array.from({ length: ROWS }, (_, i) => ({ answers: { responsiveness: (i % 5) + 1, recommend: i % 11, improve: `comment ${i}, with "quotes"\nand a line`, quoteConsent: i % 2 === 0 } }));
  await seedResponses(deps.db, group, rows.slice(0, ROWS / 2), '2030-05-10T00:00:00.000Z');
  await seedResponses(deps.db, group, rows.slice(ROWS / 2), '2030-05-11T00:00:00.000Z');
}, 60_000);

afterAll(() => {
  resetLambdaDeps();
  delete (globalThis as Record<string, unknown>).awslambda;
});

describe('Streaming: GET /v1/responses.csv through the export Lambda handler (stand-in Lambda runtime)', () => {
  it('streams the CSV in several writes, byte for byte what the API route serves, with its status and headers', async () => {
    const query = `proId=${proId}`;
    const streamed = await invokeStreaming(handler, urlEvent('/v1/responses.csv', query, { authorization: `Bearer ${f.readKey}` }), lambdaContext('export'));
    const served = await f.app.request(`/v1/responses.csv?${query}`, { headers: { Authorization: `Bearer ${f.readKey}` } });
    const expected = Buffer.from(await served.arrayBuffer());

    expect(streamed.statusCode).toBe(200);
    expect(streamed.headers).toMatchObject({
      'content-type': 'text/csv; charset=utf-8; header=present',
      'content-disposition': 'attachment; filename="responses.csv"',
      'cache-control': 'no-store',
    });
    expect(streamed.cookies).toEqual([]);
    // The header row and 2,500 rows, each with a two-line comment.
    expect(expected.toString('utf8').split('\r\n').length).toBeGreaterThan(ROWS);
    expect(streamed.body.equals(expected)).toBe(true);
    // Pages of 1,000 rows leave as they are read: the body is not one buffered write.
    expect(streamed.bodyWrites).toBeGreaterThan(1);
  });

  it('answers a missing or unknown API key with 401 problem+json, and a bad filter with 400, before any CSV', async () => {
    for (const headers of [{}, { authorization: 'Bearer rpk_not-a-key' }] as Record<string, string>[]) {
      const res = await invokeStreaming(handler, urlEvent('/v1/responses.csv', '', headers), lambdaContext('export'));
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(JSON.parse(res.body.toString('utf8'))).toMatchObject({ type: 'urn:rapport:problem:unauthorized', status: 401 });
    }
    const bad = await invokeStreaming(handler, urlEvent('/v1/responses.csv', 'audience=editor', { authorization: `Bearer ${f.readKey}` }), lambdaContext('export'));
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body.toString('utf8'))).toMatchObject({ status: 400, errors: [{ field: 'audience' }] });
  });

  it('serves nothing else of the API', async () => {
    const res = await invokeStreaming(handler, urlEvent('/v1/pros', '', { authorization: `Bearer ${f.readKey}` }), lambdaContext('export'));
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe('application/problem+json');
  });
});
