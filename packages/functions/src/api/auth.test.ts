import { describe, expect, it } from 'vitest';
import { agencyFixture, testConfig, testDeps } from '@rapport/testing';
import { createDeps } from '../deps';

const deps = testDeps();

describe('API key authentication', () => {
  it('answers 401 with a problem and a Bearer challenge when no key is sent', async () => {
    const { call } = await agencyFixture(deps);
    const res = await call('GET', '/v1/pros', { key: null });
    expect(res.status).toBe(401);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
    expect(res.headers.get('WWW-Authenticate')).toBe('Bearer realm="rapport"');
    expect(res.body).toMatchObject({ type: 'urn:rapport:problem:unauthorized', status: 401 });
  });

  it('answers 401 for a malformed key and for a well-formed unknown key', async () => {
    const { call } = await agencyFixture(deps);
    expect((await call('GET', '/v1/pros', { key: 'not-a-key' })).status).toBe(401);
    expect((await call('GET', '/v1/pros', { key: `rpk_${'A'.repeat(43)}` })).status).toBe(401);
    expect((await call('GET', '/v1/pros', { headers: { Authorization: 'Basic abc' }, key: null })).status).toBe(401);
  });

  it('stops accepting a key as soon as it is revoked', async () => {
    const { call, readKey, readKeyId } = await agencyFixture(deps);
    expect((await call('GET', '/v1/pros', { key: readKey })).status).toBe(200);
    const revoked = await call('DELETE', `/v1/api-keys/${readKeyId}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    const after = await call('GET', '/v1/pros', { key: readKey });
    expect(after.status).toBe(401);
  });

  it('lets a read key read but answers 403 to its writes, changing nothing', async () => {
    const { call, readKey } = await agencyFixture(deps);
    expect((await call('GET', '/v1/settings', { key: readKey })).status).toBe(200);
    const patch = await call('PATCH', '/v1/settings', { key: readKey, body: { anonymityThreshold: 7 } });
    expect(patch.status).toBe(403);
    expect(patch.body.type).toBe('urn:rapport:problem:forbidden');
    const create = await call('POST', '/v1/pros', { key: readKey, body: { name: 'Jane', email: 'jane@example.com' } });
    expect(create.status).toBe(403);
    expect((await call('POST', '/v1/api-keys', { key: readKey, body: { role: 'admin' } })).status).toBe(403);
    expect((await call('GET', '/v1/settings')).body.anonymityThreshold).toBe(5);
    expect((await call('GET', '/v1/pros')).body.data).toEqual([]);
  });

  it('answers 429 with Retry-After once a key has made its requests for the minute, and only for that key', async () => {
    let clock = new Date('2030-01-01T10:00:15.000Z');
    const limited = createDeps({ ...testConfig(), apiRateLimitPerMinute: 3 }, { now: () => clock });
    const { call, readKey } = await agencyFixture(limited);
    for (let i = 0; i < 3; i++) expect((await call('GET', '/v1/pros')).status).toBe(200);
    const refused = await call('GET', '/v1/pros');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('Retry-After')).toBe('45');
    expect(refused.headers.get('Content-Type')).toBe('application/problem+json');
    expect(refused.body).toMatchObject({ type: 'urn:rapport:problem:rate-limited', status: 429 });
    // Another key of the same agency has its own count; the next minute starts afresh.
    expect((await call('GET', '/v1/pros', { key: readKey })).status).toBe(200);
    clock = new Date('2030-01-01T10:01:00.000Z');
    expect((await call('GET', '/v1/pros')).status).toBe(200);
    limited.db.client.destroy();
  });
});
