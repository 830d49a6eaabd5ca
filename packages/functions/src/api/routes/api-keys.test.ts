import { describe, expect, it } from 'vitest';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createApiKey, fingerprint, keys, MAX_ACTIVE_KEYS } from '@rapport/core';

interface ApiKeyOut {
  keyId: string;
  name: string;
  revokedAt: string | null;
}
import { createHash } from 'node:crypto';
import { agencyFixture, testDeps } from '@rapport/testing';

const deps = testDeps();

describe('API keys', () => {
  it('shows a new key once, stores only its hash, and lists keys without secrets', async () => {
    const { call, agencyId } = await agencyFixture(deps);
    const created = await call('POST', '/v1/api-keys', { body: { role: 'read', name: 'dashboard' } });
    expect(created.status).toBe(201);
    const { secret, keyId } = created.body;
    expect(secret).toMatch(/^rpk_[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({ role: 'read', name: 'dashboard', hint: secret.slice(-4), revokedAt: null });

    const lookup = await deps.db.doc.send(
      new GetCommand({ TableName: deps.db.table, Key: { PK: `KEY#${createHash('sha256').update(secret).digest('hex')}`, SK: 'KEY' } }),
    );
    expect(lookup.Item).toMatchObject({ agencyId, keyId, role: 'read' });
    const record = await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: { PK: `AG#${agencyId}`, SK: `KEY#${keyId}` } }));
    expect(JSON.stringify(record.Item)).not.toContain(secret);

    const list = await call('GET', '/v1/api-keys');
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(3);
    expect(JSON.stringify(list.body)).not.toMatch(/rpk_|secret/i);
    expect((await call('GET', '/v1/pros', { key: secret })).status).toBe(200);
  });

  it('keeps no secret in the idempotency record: a replay answers the key without it, and says so', async () => {
    const { call, agencyId } = await agencyFixture(deps);
    const request = { body: { role: 'read', name: 'zapier' }, headers: { 'Idempotency-Key': 'create-zapier-key' } };
    const first = await call('POST', '/v1/api-keys', request);
    expect(first.status).toBe(201);
    const { secret, keyId } = first.body;
    expect(secret).toMatch(/^rpk_/);

    // The idempotency record keeps the answer, without the secret; nor does the agency's partition hold it.
    const record = await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.idempotency(agencyId, fingerprint('create-zapier-key')) }));
    expect(record.Item?.response.body).toContain(keyId);
    expect(JSON.stringify(record.Item)).not.toContain(secret);
    const partition = await deps.db.doc.send(
      new QueryCommand({ TableName: deps.db.table, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': `AG#${agencyId}` } }),
    );
    expect(partition.Items!.length).toBeGreaterThan(0);
    expect(JSON.stringify(partition.Items)).not.toContain(secret);

    const replay = await call('POST', '/v1/api-keys', request);
    expect(replay.status).toBe(201);
    expect(replay.headers.get('Idempotent-Replayed')).toBe('true');
    expect(replay.body).toEqual({ ...first.body, secret: null, secretWithheld: expect.stringContaining('shown only in the first answer') });
    expect((await call('GET', '/v1/api-keys')).body.data.filter((k: { keyId: string }) => k.keyId === keyId)).toHaveLength(1);
  });

  it(`refuses a key past ${MAX_ACTIVE_KEYS} active ones with 409, creating nothing, and takes one again once a key is revoked`, async () => {
    const { call, agencyId } = await agencyFixture(deps);
    // The fixture made two; fill up to the cap.
    for (let i = 2; i < MAX_ACTIVE_KEYS; i++) await createApiKey(deps.db, agencyId, { role: 'read', name: `k${i}` }, deps.now());
    const refused = await call('POST', '/v1/api-keys', { body: { role: 'read', name: 'one too many' } });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ type: 'urn:rapport:problem:conflict', detail: `The agency has ${MAX_ACTIVE_KEYS} active API keys, the most it may hold; revoke one first` });
    const listed = async () => ((await call('GET', '/v1/api-keys?limit=100')).body.data as ApiKeyOut[]);
    expect((await listed()).length).toBe(MAX_ACTIVE_KEYS);
    const spare = (await listed()).find((k) => k.name === 'k2')!;
    expect((await call('DELETE', `/v1/api-keys/${spare.keyId}`)).status).toBe(200);
    expect((await call('POST', '/v1/api-keys', { body: { role: 'read', name: 'in its place' } })).status).toBe(201);
    expect((await listed()).filter((k) => k.revokedAt === null)).toHaveLength(MAX_ACTIVE_KEYS);
  });

  it('refuses an unknown role, naming the field', async () => {
    const { call } = await agencyFixture(deps);
    const res = await call('POST', '/v1/api-keys', { body: { role: 'owner' } });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'role', message: 'must be admin or read' }]);
  });

  it("revokes idempotently, and answers 404 for another agency's key", async () => {
    const mine = await agencyFixture(deps);
    const theirs = await agencyFixture(deps);
    expect((await mine.call('DELETE', `/v1/api-keys/${theirs.readKeyId}`)).status).toBe(404);
    expect((await theirs.call('GET', '/v1/pros', { key: theirs.readKey })).status).toBe(200);
    const first = await mine.call('DELETE', `/v1/api-keys/${mine.readKeyId}`);
    const second = await mine.call('DELETE', `/v1/api-keys/${mine.readKeyId}`);
    expect(second.status).toBe(200);
    expect(second.body.revokedAt).toBe(first.body.revokedAt);
  });
});
