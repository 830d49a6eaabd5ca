import { describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '@rapport/core';
import { agencyFixture, testAddress, testConfig, testDeps } from '@rapport/testing';
import { createDeps } from '../deps';
import { addressId } from '../client-address';

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

  it('answers failed keys from an address 429 after 20 in 10 minutes, until the window ends, while a correct key from it still passes', async () => {
    let clock = new Date('2030-01-01T10:03:15.000Z');
    let address = testAddress();
    const throttled = testDeps({ now: () => clock, clientAddress: () => address });
    const { call, readKey } = await agencyFixture(throttled);
    const attacker = address;
    const failures = [];
    for (let i = 0; i < 20; i++) failures.push((await call('GET', '/v1/pros', { key: `rpk_${String(i).padStart(43, 'A')}` })).status);
    expect(failures).toEqual(Array(20).fill(401));
    const refused = await call('GET', '/v1/pros', { key: null });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('Retry-After')).toBe('405');
    expect(refused.headers.get('Content-Type')).toBe('application/problem+json');
    expect(refused.body).toEqual({
      type: 'urn:rapport:problem:rate-limited',
      title: 'Too many requests',
      status: 429,
      detail: 'Too many failed API keys from this address; try again in 405 s',
    });
    expect((await call('GET', '/v1/pros', { key: 'rpk_wrong' })).status).toBe(429);
    // Anyone sharing the address with the guesser (an office, a NAT) keeps working with a correct key.
    expect((await call('GET', '/v1/pros')).status).toBe(200);
    expect((await call('GET', '/v1/pros', { key: readKey })).status).toBe(200);
    const window = Math.floor(clock.getTime() / 600_000) * 600;
    const { Item } = await throttled.db.doc.send(new GetCommand({ TableName: throttled.db.table, Key: keys.rateWindow({ kind: 'AUTHFAIL', id: addressId(attacker) }, window) }));
    expect(Item).toMatchObject({ n: 20, expiresAt: window + 600 + 3600, type: 'rateWindow' });
    // Another address's failures are its own; the guesser's are again 401 once its window has ended.
    address = testAddress();
    expect((await call('GET', '/v1/pros', { key: 'rpk_wrong' })).status).toBe(401);
    address = attacker;
    clock = new Date('2030-01-01T10:10:00.000Z');
    expect((await call('GET', '/v1/pros', { key: 'rpk_wrong' })).status).toBe(401);
    throttled.db.client.destroy();
  });

  it('counts no failure for a correct key, and none at all when the limit is 0', async () => {
    const clock = new Date('2030-01-01T11:00:00.000Z');
    const address = testAddress();
    const counted = testDeps({ now: () => clock, clientAddress: () => address });
    const { call } = await agencyFixture(counted);
    for (let i = 0; i < 30; i++) expect((await call('GET', '/v1/settings')).status).toBe(200);
    const off = createDeps(testConfig({ AUTH_FAILURE_LIMIT_PER_ADDRESS: '0' }), { now: () => clock, clientAddress: () => address });
    const offCalls = (await agencyFixture(off)).call;
    for (let i = 0; i < 25; i++) expect((await offCalls('GET', '/v1/pros', { key: 'wrong' })).status).toBe(401);
    const window = Math.floor(clock.getTime() / 600_000) * 600;
    const { Item } = await counted.db.doc.send(new GetCommand({ TableName: counted.db.table, Key: keys.rateWindow({ kind: 'AUTHFAIL', id: addressId(address) }, window) }));
    expect(Item).toBeUndefined();
    counted.db.client.destroy();
    off.db.client.destroy();
  });

  it('marks every answer of the API Cache-Control: no-store, errors included', async () => {
    const { call } = await agencyFixture(deps);
    const answers = [await call('GET', '/v1/settings'), await call('GET', '/v1/pros', { key: null }), await call('GET', '/v1/pros/pro_00000000000000000000000000'), await call('GET', '/v1/nothing'), await call('GET', '/v1/responses.csv')];
    expect(answers.map((a) => [a.status, a.headers.get('Cache-Control')])).toEqual([
      [200, 'no-store'],
      [401, 'no-store'],
      [404, 'no-store'],
      [404, 'no-store'],
      [200, 'no-store'],
    ]);
  });
});
