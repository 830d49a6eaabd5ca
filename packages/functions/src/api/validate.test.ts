import { describe, expect, it } from 'vitest';
import { agencyFixture, testDeps } from '@rapport/testing';

const deps = testDeps();

describe('JSON bodies', () => {
  it('refuses a body that is not an object on every operation with a body, naming (body) (issue 12: `[]` was taken as PATCH /v1/settings)', async () => {
    const f = await agencyFixture(deps);
    const pro = (await f.call('POST', '/v1/pros', { body: { name: 'Jane', email: 'jane@acme.example' } })).body;
    const campaign = (await f.call('POST', '/v1/campaigns', { body: { proId: pro.proId, name: 'Launch' } })).body;
    const hook = (await f.call('POST', '/v1/webhooks', { body: { url: 'https://hooks.example.com/rapport', events: ['round.closed'] } })).body;
    const document = (await (await f.app.request('/openapi.json')).json()) as any;
    const withBody = Object.entries(document.paths).flatMap(([path, operations]: [string, any]) =>
      Object.entries(operations)
        .filter(([, operation]: [string, any]) => operation.requestBody)
        .map(([method]) => [method.toUpperCase(), path.replace('{proId}', pro.proId).replace('{campaignId}', campaign.campaignId).replace('{webhookId}', hook.webhookId)] as const),
    );
    expect(withBody.map(([method, path]) => `${method} ${path.split('/')[2]}`).sort()).toEqual([
      'PATCH pros',
      'PATCH settings',
      'PATCH webhooks',
      'POST api-keys',
      'POST campaigns',
      'POST campaigns',
      'POST erasures',
      'POST pros',
      'POST pros',
      'POST suppressions',
      'POST webhooks',
    ]);
    const before = (await f.call('GET', '/v1/settings')).body;
    for (const [method, path] of withBody) {
      for (const raw of ['[]', '[{"name":"X"}]', 'null', '"name"', '1', 'true']) {
        const res = await f.call(method, path, { raw, headers: { 'Content-Type': 'application/json' } });
        expect({ request: `${method} ${path} ${raw}`, status: res.status, type: res.body.type, errors: res.body.errors }).toEqual({
          request: `${method} ${path} ${raw}`,
          status: 400,
          type: 'urn:rapport:problem:validation',
          errors: [{ field: '(body)', message: 'must be a JSON object' }],
        });
      }
    }
    expect((await f.call('GET', '/v1/settings')).body).toEqual(before);
    expect((await f.call('GET', `/v1/pros/${pro.proId}`)).body).toEqual(pro);
  });

  it('refuses an array where a nested object belongs, naming its path, and changes nothing', async () => {
    const f = await agencyFixture(deps);
    const before = (await f.call('GET', '/v1/settings')).body;
    const res = await f.call('PATCH', '/v1/settings', { body: { throttle: [], summary: [{ frequency: 'monthly' }] } });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { field: 'throttle', message: 'must be a JSON object' },
      { field: 'summary', message: 'must be a JSON object' },
    ]);
    const round = await f.call('POST', '/v1/campaigns/cmp_x/surveys', { body: { recipients: [[]], attribution: 'named' } });
    expect(round.status).toBe(400);
    expect(round.body.errors).toEqual([{ field: 'recipients.0', message: 'must be a JSON object' }]);
    expect((await f.call('GET', '/v1/settings')).body).toEqual(before);
  });

  it('refuses a date that is not on the calendar (30 February, 31 April), naming the field, and creates nothing', async () => {
    const f = await agencyFixture(deps);
    const pro = (await f.call('POST', '/v1/pros', { body: { name: 'Pat', email: `pat-${f.agencyId.slice(-8).toLowerCase()}@a.example` } })).body;
    for (const [startsOn, endsOn] of [['2030-02-30', '2030-03-01'], ['2030-04-01', '2030-04-31'], ['2029-02-29', '2029-03-01']] as const) {
      const res = await f.call('POST', '/v1/campaigns', { body: { proId: pro.proId, name: 'Launch', startsOn, endsOn } });
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual([startsOn.endsWith('01') ? 'endsOn' : 'startsOn']);
    }
    expect((await f.call('GET', '/v1/campaigns')).body.data).toEqual([]);
    // A leap day is a date; an instant whose date is not refuses as its field (it was read as 2 or 3 March).
    expect((await f.call('POST', '/v1/campaigns', { body: { proId: pro.proId, name: 'Leap', startsOn: '2028-02-29' } })).status).toBe(201);
    for (const query of ['since=2030-02-31', 'until=2030-02-30T09:00:00Z', 'since=2030-06-31T00:00:00%2B02:00']) {
      const res = await f.call('GET', `/v1/responses.csv?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual([query.split('=')[0]]);
    }
  });

  it('still tells malformed JSON apart', async () => {
    const f = await agencyFixture(deps);
    const res = await f.call('PATCH', '/v1/settings', { raw: '{"name":', headers: { 'Content-Type': 'application/json' } });
    expect(res.status).toBe(400);
    expect(res.body.type).toBe('urn:rapport:problem:malformed-json');
  });

  it("words a route's own validation in the API's voice, not valibot's: each field named with what to send", async () => {
    const f = await agencyFixture(deps);
    const pro = (await f.call('POST', '/v1/pros', { body: { name: 'Jane', email: `jane-${f.agencyId.slice(-8).toLowerCase()}@acme.example` } })).body;
    const campaign = (await f.call('POST', '/v1/campaigns', { body: { proId: pro.proId, name: 'Launch' } })).body;
    const errorsOf = async (method: string, path: string, body: unknown) => (await f.call(method, path, { body })).body.errors;
    expect(await errorsOf('POST', '/v1/pros', { email: 5 })).toEqual([
      { field: 'name', message: 'is required' },
      { field: 'email', message: 'must be a string' },
    ]);
    expect(await errorsOf('PATCH', `/v1/pros/${pro.proId}`, { name: 5, foo: 1 })).toEqual([
      { field: 'name', message: 'must be a string' },
      { field: 'foo', message: 'is not a known field' },
    ]);
    expect(await errorsOf('POST', `/v1/campaigns/${campaign.campaignId}/surveys`, { recipients: [{ email: 'a@b.example', audience: 'client' }, {}], attribution: 3 })).toEqual([
      { field: 'recipients.1.email', message: 'is required' },
      { field: 'recipients.1.audience', message: 'is required' },
      { field: 'attribution', message: 'must be one of "anonymous", "named"' },
    ]);
    expect(await errorsOf('PATCH', '/v1/settings', { anonymityThreshold: '3', retention: { commentsMonths: 'x' } })).toEqual([
      { field: 'anonymityThreshold', message: 'must be a number' },
      { field: 'retention.commentsMonths', message: 'must be a number' },
    ]);
    expect(await errorsOf('POST', '/v1/api-keys', {})).toEqual([{ field: 'role', message: 'is required' }]);
  });
});

describe('Query parameters', () => {
  it('refuses one an operation does not take, naming it, on every operation of the document, and changes nothing', async () => {
    const f = await agencyFixture(deps);
    const pro = (await f.call('POST', '/v1/pros', { body: { name: 'Jane', email: `jane-q-${f.agencyId.slice(-8).toLowerCase()}@acme.example` } })).body;
    const campaign = (await f.call('POST', '/v1/campaigns', { body: { proId: pro.proId, name: 'Launch' } })).body;
    const hook = (await f.call('POST', '/v1/webhooks', { body: { url: 'https://hooks.example.com/rapport', events: ['round.closed'] } })).body;
    const ids: Record<string, string> = { proId: pro.proId, campaignId: campaign.campaignId, webhookId: hook.webhookId, email: 'a%40b.example' };
    const document = (await (await f.app.request('/openapi.json')).json()) as any;
    const operations = Object.entries(document.paths).flatMap(([path, item]: [string, any]) => Object.keys(item).map((method) => [method.toUpperCase(), path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] ?? `${name.replace(/Id$/, '').slice(0, 3)}_01J00000000000000000000000`)] as const));
    expect(operations.length).toBeGreaterThanOrEqual(43);
    const before = (await f.call('GET', '/v1/settings')).body;
    for (const [method, path] of operations) {
      const res = await f.call(method, `${path}?notAParameter=1`, method === 'POST' || method === 'PATCH' ? { body: {} } : {});
      expect({ request: `${method} ${path}`, status: res.status, errors: res.body?.errors }).toEqual({
        request: `${method} ${path}`,
        status: 400,
        errors: expect.arrayContaining([{ field: 'notAParameter', message: expect.stringMatching(/^is not a known parameter/) }]),
      });
    }
    expect((await f.call('GET', '/v1/settings')).body).toEqual(before);
    expect((await f.call('GET', `/v1/pros/${pro.proId}`)).body).toEqual(pro);
    expect((await f.call('GET', `/v1/webhooks/${hook.webhookId}`)).status).toBe(200);
  });
});
