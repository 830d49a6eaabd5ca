import { describe, expect, it } from 'vitest';
import { agencyFixture, testDeps, type AgencyFixture } from '@rapport/testing';

const deps = testDeps();

const newPro = async (f: AgencyFixture, email: string) =>
  (await f.call('POST', '/v1/pros', { body: { name: email.split('@')[0], email } })).body.proId as string;

describe('campaigns', () => {
  it('records a campaign for a pro and reads it back', async () => {
    const f = await agencyFixture(deps);
    const proId = await newPro(f, 'jane@acme.example');
    const created = await f.call('POST', '/v1/campaigns', {
      body: { proId, name: 'Spring Launch', startsOn: '2026-03-01', endsOn: '2026-04-15', tags: ['launch', 'launch', 'tech'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      campaignId: expect.stringMatching(/^cmp_/),
      proId,
      name: 'Spring Launch',
      startsOn: '2026-03-01',
      endsOn: '2026-04-15',
      tags: ['launch', 'tech'],
      createdAt: expect.any(String),
    });
    expect((await f.call('GET', `/v1/campaigns/${created.body.campaignId}`)).body).toEqual(created.body);
  });

  it('lists all campaigns or one pro\'s', async () => {
    const f = await agencyFixture(deps);
    const jane = await newPro(f, 'jane@acme.example');
    const sam = await newPro(f, 'sam@acme.example');
    const names = ['A', 'B', 'C'];
    for (const [i, name] of names.entries()) {
      await f.call('POST', '/v1/campaigns', { body: { proId: i === 1 ? sam : jane, name } });
    }
    const all = await f.call('GET', '/v1/campaigns');
    expect(all.body.data.map((c: { name: string }) => c.name)).toEqual(['A', 'B', 'C']);
    const janes = await f.call('GET', `/v1/campaigns?proId=${jane}&limit=1`);
    expect(janes.body.data.map((c: { name: string }) => c.name)).toEqual(['A']);
    const next = await f.call('GET', `/v1/campaigns?proId=${jane}&limit=1&cursor=${janes.body.nextCursor}`);
    expect(next.body).toEqual({ data: [expect.objectContaining({ name: 'C' })], nextCursor: null });
  });

  it("refuses an unknown pro and another agency's pro, naming proId and writing nothing", async () => {
    const mine = await agencyFixture(deps);
    const theirs = await agencyFixture(deps);
    const theirPro = await newPro(theirs, 'x@t.example');
    for (const proId of [theirPro, 'pro_01JAAAAAAAAAAAAAAAAAAAAAAA', 'nope']) {
      const res = await mine.call('POST', '/v1/campaigns', { body: { proId, name: 'Sneaky' } });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ field: 'proId', message: 'is not a pro of this agency' }]);
    }
    expect((await mine.call('GET', '/v1/campaigns')).body.data).toEqual([]);
  });

  it('refuses dates out of order or malformed', async () => {
    const f = await agencyFixture(deps);
    const proId = await newPro(f, 'jane@acme.example');
    const order = await f.call('POST', '/v1/campaigns', { body: { proId, name: 'X', startsOn: '2026-05-01', endsOn: '2026-04-01' } });
    expect(order.status).toBe(400);
    expect(order.body.errors[0].field).toBe('endsOn');
    const malformed = await f.call('POST', '/v1/campaigns', { body: { proId, name: 'X', startsOn: '2026-13-01' } });
    expect(malformed.body.errors[0].field).toBe('startsOn');
  });

  it("answers 404 for another agency's campaign", async () => {
    const mine = await agencyFixture(deps);
    const theirs = await agencyFixture(deps);
    const proId = await newPro(theirs, 'x@t.example');
    const { campaignId } = (await theirs.call('POST', '/v1/campaigns', { body: { proId, name: 'Theirs' } })).body;
    expect((await mine.call('GET', `/v1/campaigns/${campaignId}`)).status).toBe(404);
  });

  it('answers a filter by a pro the agency does not have as /v1/responses does: 404, or 400 on proId when malformed (issue 12: it was a 200 with an empty list)', async () => {
    const mine = await agencyFixture(deps);
    const theirs = await agencyFixture(deps);
    const theirPro = await newPro(theirs, 'x@t.example');
    for (const path of ['/v1/campaigns', '/v1/responses', '/v1/testimonials']) {
      for (const proId of [theirPro, 'pro_01J00000000000000000000000']) {
        const res = await mine.call('GET', `${path}?proId=${proId}`);
        expect({ path, proId, status: res.status, type: res.body.type }).toEqual({ path, proId, status: 404, type: 'urn:rapport:problem:not-found' });
      }
      const malformed = await mine.call('GET', `${path}?proId=nonsense`);
      expect({ path, status: malformed.status, errors: malformed.body.errors }).toEqual({ path, status: 400, errors: [{ field: 'proId', message: 'is not a pro id' }] });
    }
  });
});
