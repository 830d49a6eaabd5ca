import { describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { agencyFixture, testDeps } from '@rapport/testing';

const deps = testDeps();

/** The pro items actually in the table for an agency, read straight from DynamoDB. */
const storedPros = async (agencyId: string) =>
  (
    await deps.db.doc.send(
      new QueryCommand({
        TableName: deps.db.table,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
        ExpressionAttributeValues: { ':pk': `AG#${agencyId}`, ':p': 'PRO' },
      }),
    )
  ).Items ?? [];

describe('pros', () => {
  it('creates, reads and updates a pro', async () => {
    const { call } = await agencyFixture(deps);
    const created = await call('POST', '/v1/pros', { body: { name: '  Jane Doe ', email: 'jane@acme.example' } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      proId: expect.stringMatching(/^pro_[0-9A-Z]{26}$/),
      name: 'Jane Doe',
      email: 'jane@acme.example',
      createdAt: created.body.createdAt,
      updatedAt: created.body.createdAt,
    });
    const { proId } = created.body;
    expect((await call('GET', `/v1/pros/${proId}`)).body).toEqual(created.body);
    const updated = await call('PATCH', `/v1/pros/${proId}`, { body: { email: 'jane.doe@acme.example' } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: 'Jane Doe', email: 'jane.doe@acme.example' });
    expect((await call('GET', `/v1/pros/${proId}`)).body.email).toBe('jane.doe@acme.example');
  });

  it('keeps emails unique within an agency, case-insensitively, and frees an email that was changed', async () => {
    const { call, agencyId } = await agencyFixture(deps);
    const jane = (await call('POST', '/v1/pros', { body: { name: 'Jane', email: 'jane@acme.example' } })).body;
    const clash = await call('POST', '/v1/pros', { body: { name: 'Other Jane', email: 'JANE@acme.example' } });
    expect(clash.status).toBe(409);
    expect(clash.body.errors).toEqual([{ field: 'email', message: expect.any(String) }]);
    const sam = (await call('POST', '/v1/pros', { body: { name: 'Sam', email: 'sam@acme.example' } })).body;
    expect((await call('PATCH', `/v1/pros/${sam.proId}`, { body: { email: 'jane@acme.example' } })).status).toBe(409);
    expect((await call('PATCH', `/v1/pros/${jane.proId}`, { body: { email: 'jane2@acme.example' } })).status).toBe(200);
    expect((await call('PATCH', `/v1/pros/${sam.proId}`, { body: { email: 'jane@acme.example' } })).status).toBe(200);
    // Two pros, two email claims: nothing half-written by the refused requests.
    const items = await storedPros(agencyId);
    expect(items.filter((i) => i.type === 'pro')).toHaveLength(2);
    expect(items.filter((i) => i.type === 'proEmail').map((i) => i.SK).sort()).toEqual([
      'PROEMAIL#jane2@acme.example',
      'PROEMAIL#jane@acme.example',
    ]);
  });

  it('refuses invalid input with the field named and writes nothing', async () => {
    const { call, agencyId } = await agencyFixture(deps);
    const bad = await call('POST', '/v1/pros', { body: { name: '', email: 'not-an-email' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['email', 'name']);
    const missing = await call('POST', '/v1/pros', { body: { name: 'Jane' } });
    expect(missing.body.errors.map((e: { field: string }) => e.field)).toEqual(['email']);
    expect(await storedPros(agencyId)).toEqual([]);
  });

  it("answers 404 for another agency's pro, for reads and writes alike", async () => {
    const mine = await agencyFixture(deps);
    const theirs = await agencyFixture(deps);
    const { proId } = (await theirs.call('POST', '/v1/pros', { body: { name: 'Theirs', email: 't@x.example' } })).body;
    expect((await mine.call('GET', `/v1/pros/${proId}`)).status).toBe(404);
    const patch = await mine.call('PATCH', `/v1/pros/${proId}`, { body: { name: 'Hijacked' } });
    expect(patch.status).toBe(404);
    expect(patch.body.type).toBe('urn:rapport:problem:not-found');
    expect((await theirs.call('GET', `/v1/pros/${proId}`)).body.name).toBe('Theirs');
    expect((await mine.call('GET', '/v1/pros/not-an-id')).status).toBe(404);
  });

  it('pages through more than one page with cursors, each pro exactly once, in creation order', async () => {
    const { call } = await agencyFixture(deps);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push((await call('POST', '/v1/pros', { body: { name: `Pro ${i}`, email: `pro${i}@acme.example` } })).body.proId);
    }
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=3&cursor=${encodeURIComponent(cursor)}` : '?limit=3';
      const page = await call('GET', `/v1/pros${query}`);
      expect(page.status).toBe(200);
      pageSizes.push(page.body.data.length);
      seen.push(...page.body.data.map((p: { proId: string }) => p.proId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(pageSizes).toEqual([3, 3, 1]);
    expect(seen).toEqual(ids);
  });

  it('gives no cursor when the last page is exactly full', async () => {
    const { call } = await agencyFixture(deps);
    for (let i = 0; i < 2; i++) await call('POST', '/v1/pros', { body: { name: `P${i}`, email: `p${i}@a.example` } });
    const page = await call('GET', '/v1/pros?limit=2');
    expect(page.body.data).toHaveLength(2);
    expect(page.body.nextCursor).toBeNull();
  });

  it('refuses a bad limit, a forged cursor and a cursor from another agency', async () => {
    const mine = await agencyFixture(deps);
    const theirs = await agencyFixture(deps);
    for (let i = 0; i < 2; i++) await theirs.call('POST', '/v1/pros', { body: { name: `P${i}`, email: `p${i}@t.example` } });
    const theirCursor = (await theirs.call('GET', '/v1/pros?limit=1')).body.nextCursor;
    expect(theirCursor).toEqual(expect.any(String));
    for (const query of ['limit=0', 'limit=101', 'limit=abc']) {
      const res = await mine.call('GET', `/v1/pros?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.errors[0].field).toBe('limit');
    }
    for (const cursor of ['garbage', theirCursor, Buffer.from('{"PK":1}').toString('base64url')]) {
      const res = await mine.call('GET', `/v1/pros?cursor=${encodeURIComponent(cursor)}`);
      expect(res.status).toBe(400);
      expect(res.body.errors[0].field).toBe('cursor');
    }
  });
});

describe('Idempotency-Key on creating POSTs', () => {
  it('replays the first answer for the same key and body, creating one pro', async () => {
    const { call, agencyId } = await agencyFixture(deps);
    const request = { body: { name: 'Jane', email: 'jane@acme.example' }, headers: { 'Idempotency-Key': 'create-jane-1' } };
    const first = await call('POST', '/v1/pros', request);
    const second = await call('POST', '/v1/pros', request);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('Idempotent-Replayed')).toBe('true');
    expect((await storedPros(agencyId)).filter((i) => i.type === 'pro')).toHaveLength(1);
  });

  it('answers 422 when the key is reused with another body, creating nothing more', async () => {
    const { call, agencyId } = await agencyFixture(deps);
    const headers = { 'Idempotency-Key': 'k-42' };
    expect((await call('POST', '/v1/pros', { body: { name: 'Jane', email: 'jane@acme.example' }, headers })).status).toBe(201);
    const reused = await call('POST', '/v1/pros', { body: { name: 'Sam', email: 'sam@acme.example' }, headers });
    expect(reused.status).toBe(422);
    expect(reused.body.type).toBe('urn:rapport:problem:idempotency-key-reused');
    expect((await storedPros(agencyId)).filter((i) => i.type === 'pro')).toHaveLength(1);
  });

  it('runs concurrent requests with one key exactly once', async () => {
    const { call, agencyId } = await agencyFixture(deps);
    const request = { body: { name: 'Jane', email: 'jane@acme.example' }, headers: { 'Idempotency-Key': 'race' } };
    const answers = await Promise.all(Array.from({ length: 5 }, () => call('POST', '/v1/pros', request)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    expect((await storedPros(agencyId)).filter((i) => i.type === 'pro')).toHaveLength(1);
  });

  it('keeps keys apart between agencies', async () => {
    const a = await agencyFixture(deps);
    const b = await agencyFixture(deps);
    const headers = { 'Idempotency-Key': 'same-key' };
    const body = { name: 'Jane', email: 'jane@acme.example' };
    const fromA = await a.call('POST', '/v1/pros', { body, headers });
    const fromB = await b.call('POST', '/v1/pros', { body, headers });
    expect(fromB.status).toBe(201);
    expect(fromB.body.proId).not.toBe(fromA.body.proId);
  });

  it('counts a name in characters (code points), the unit of the documented maxLength of 200', async () => {
    const { call } = await agencyFixture(deps);
    const name = '😀'.repeat(150);
    const created = await call('POST', '/v1/pros', { body: { name, email: 'emoji@acme.example' } });
    expect(created.status).toBe(201);
    expect(created.body.name).toBe(name);
    const astral = await call('POST', '/v1/pros', { body: { name: '𝒜'.repeat(200), email: 'astral@acme.example' } });
    expect(astral.status).toBe(201);
    const over = await call('PATCH', `/v1/pros/${created.body.proId}`, { body: { name: '𝒜'.repeat(201) } });
    expect(over.status).toBe(400);
    expect(over.body.errors).toEqual([{ field: 'name', message: 'must be at most 200 characters' }]);
    expect((await call('GET', `/v1/pros/${created.body.proId}`)).body.name).toBe(name);
    const documented = (await (await (await agencyFixture(deps)).app.request('/openapi.json')).json()) as any;
    expect(documented.paths['/v1/pros'].post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ProInput' });
    expect(documented.components.schemas.ProInput.properties.name).toMatchObject({ type: 'string', minLength: 1, maxLength: 200 });
  });
});
