import { describe, expect, it, vi } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createAgency, createCampaign, createPro, createRound, epochSeconds, getResponse, keys, signInvitationToken, signMailToken, type InvitationRef } from '@rapport/core';
import { faultyDb, freePort, meterCapacity, testAddress, testConfig, testDeps } from '@rapport/testing';
import { createApp } from '../api/app';
import { createDeps } from '../deps';
import { addressId } from '../client-address';
import { PAGE_WINDOW_SECONDS } from './guard';

// 10:03:15 is 195 s into a 10-minute window (windows start on multiples of 600 s of epoch time).
let clock = new Date('2031-03-03T10:03:15.000Z');
let address = testAddress();
const deps = testDeps({ now: () => clock, clientAddress: () => address });
const app = createApp(deps);
const meter = meterCapacity(deps.db);
let n = 0;

async function links(count: number): Promise<{ path: (i: number) => string; ref: (i: number) => InvitationRef }> {
  const tag = `${++n}-${Date.now()}`;
  const agency = await createAgency(deps.db, { name: `Guard ${tag}` }, clock);
  const pro = await createPro(deps.db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, clock);
  const campaign = await createCampaign(deps.db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, clock);
  const recipients = Array.from({ length: count }, (_, i) => ({ email: `r${i}-${tag}@news.example`, audience: 'reporter' }));
  const { round, accepted } = await createRound(deps.db, agency.agencyId, campaign.campaignId, { recipients }, clock);
  const ref = (i: number) => ({ roundId: round.roundId, invitationId: accepted[i]!.invitationId });
  return { ref, path: (i) => `/s/${signInvitationToken(deps.linkSecret, ref(i))}` };
}

const post = (path: string, form: Record<string, string>) =>
  app.request(path, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });

const windowCount = async (kind: 'ADDR' | 'LINK', id: string) => {
  const start = Math.floor(epochSeconds(clock) / PAGE_WINDOW_SECONDS) * PAGE_WINDOW_SECONDS;
  const { Item } = await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.rateWindow({ kind, id }, start) }));
  return Item?.n;
};

describe('rate limits of the public pages', () => {
  it('stops a forged-link scan of 2,000 GETs from one address after 300, each costing one write and no read', async () => {
    clock = new Date('2031-03-03T10:03:15.000Z');
    address = testAddress();
    const { path } = await links(1);
    const forged = (i: number) => `${path(0).slice(0, -6)}${String(i).padStart(6, '0')}`;
    const statuses = new Map<number, number>();
    const first = await app.request(forged(0));
    expect(first.status).toBe(404);
    meter.reset();
    expect((await app.request(forged(1))).status).toBe(404);
    expect(meter.read()).toMatchObject({ calls: 1, readUnits: 0 });
    let lastRefused: Response | undefined;
    for (let i = 2; i < 2000; i++) {
      const res = await app.request(forged(i));
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 429) lastRefused = res;
    }
    expect(Object.fromEntries(statuses)).toEqual({ 404: 298, 429: 1700 });
    expect(await windowCount('ADDR', addressId(address))).toBe(300);
    expect(lastRefused!.headers.get('Retry-After')).toBe('405');
    expect(lastRefused!.headers.get('Content-Type')).toBe('text/html; charset=UTF-8');
    expect(lastRefused!.headers.get('Cache-Control')).toBe('no-store');
    const text = await lastRefused!.text();
    expect(text).toContain('<h1>Please try again in a few minutes</h1>');
    expect(text).toContain('Please try again in 7 minutes.');
    // A genuine link from the same address is refused too; another address is not; the next window starts afresh.
    expect((await app.request(path(0))).status).toBe(429);
    address = testAddress();
    expect((await app.request(path(0))).status).toBe(200);
    clock = new Date('2031-03-03T10:10:00.000Z');
    address = 'unused';
  }, 60_000);

  it('lets a respondent open and submit a few times, stops 1,000 POSTs to one link after 30, and keeps the answer of the 30', async () => {
    clock = new Date('2031-03-03T11:09:59.000Z');
    address = testAddress();
    const { path, ref } = await links(2);
    // A respondent: opens, sends an incomplete form, sends it right, opens again, revises. Each
    // request is one write (the link's count) and a read of the address's count, which it leaves as it is.
    meter.reset();
    expect((await app.request(path(0))).status).toBe(200);
    expect(meter.read().commands).toEqual({ UpdateItem: 1, GetItem: 1, BatchGetItem: 1 });
    expect((await post(path(0), { recommend: '9' })).status).toBe(400);
    expect((await post(path(0), { responsiveness: '4' })).status).toBe(200);
    expect((await app.request(path(0))).status).toBe(200);
    expect((await post(path(0), { responsiveness: '5' })).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 1000; i++) statuses.push((await post(path(0), { responsiveness: String(1 + (i % 5)) })).status);
    // 5 requests above, 25 more let through; then the link's limit.
    expect(statuses.slice(0, 25)).toEqual(Array(25).fill(200));
    expect(statuses.slice(25)).toEqual(Array(975).fill(429));
    expect((await getResponse(deps.db, ref(0)))!.revision).toBe(27);
    expect(await windowCount('ADDR', addressId(address))).toBeUndefined();
    // The link stays refused from another address, while that address may open another link.
    address = testAddress();
    const refused = await app.request(path(0));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('Retry-After')).toBe('1');
    expect(await refused.text()).toContain('Please try again in a minute.');
    expect((await app.request(path(1))).status).toBe(200);
    clock = new Date('2031-03-03T11:10:00.000Z');
    expect((await post(path(0), { responsiveness: '3' })).status).toBe(200);
    expect((await getResponse(deps.db, ref(0)))!.revision).toBe(28);
  }, 60_000);

  it("reads a genuine link's invitation while its counts are written (one round trip less), and answers only once they are", async () => {
    clock = new Date('2031-03-03T12:03:15.000Z');
    address = testAddress();
    const { path } = await links(1);
    const faulty = faultyDb(deps.db);
    const faultyApp = createApp({ ...deps, db: faulty.db });
    meter.reset();
    // The link's count (the request's first write) held: the page's read goes on meanwhile.
    const held = faulty.pauseWrite(1);
    const answer = Promise.resolve(faultyApp.request(path(0)));
    await held.reached;
    await vi.waitFor(() => expect(meter.read().commands).toEqual({ GetItem: 1, BatchGetItem: 1 }));
    const early = await Promise.race([answer.then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 200))]);
    expect(early).toBe('waiting');
    held.resume();
    expect((await answer).status).toBe(200);
    expect(meter.read().commands).toEqual({ GetItem: 1, BatchGetItem: 1, UpdateItem: 1 });
  });

  it('applies to the unsubscribe page, whose link is counted with the survey link of the same invitation', async () => {
    clock = new Date('2031-03-03T12:00:00.000Z');
    address = testAddress();
    const { path } = await links(1);
    const unsubscribe = path(0).replace('/s/', '/u/');
    for (let i = 0; i < 15; i++) expect((await app.request(path(0))).status).toBe(200);
    for (let i = 0; i < 15; i++) expect((await app.request(unsubscribe)).status).toBe(200);
    const refused = await app.request(unsubscribe, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'scope=all' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('Retry-After')).toBe('600');
    expect((await app.request(path(0))).status).toBe(429);
  });

  it('applies to a preference link too: one-click POSTs to one /m link from ever new addresses stop after 30', async () => {
    clock = new Date('2031-03-03T12:30:00.000Z');
    const agency = await createAgency(deps.db, { name: `Guard m ${++n}` }, clock);
    const pro = await createPro(deps.db, agency.agencyId, { name: 'Jane Doe', email: `jane-m-${n}@acme.example` }, clock);
    const link = `/m/${signMailToken(deps.linkSecret, { stream: 'summaries', agencyId: agency.agencyId, proId: pro.proId }, clock)}`;
    const statuses = new Map<number, number>();
    for (let i = 0; i < 40; i++) {
      address = testAddress();
      const res = await post(link, { 'List-Unsubscribe': 'One-Click' });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 200: 30, 429: 10 });
  });

  it('turns each limit off at 0', async () => {
    const unlimited = createDeps(testConfig({ PAGE_RATE_LIMIT_PER_ADDRESS: '0', PAGE_RATE_LIMIT_PER_LINK: '0' }), { clientAddress: () => 'one-address' });
    const unlimitedApp = createApp(unlimited);
    clock = new Date('2031-03-03T13:00:00.000Z');
    const { path } = await links(1);
    for (let i = 0; i < 40; i++) expect((await unlimitedApp.request(path(0))).status).toBe(200);
    unlimited.db.client.destroy();
  });
});

describe('errors of the public pages', () => {
  it('are HTML pages, never problem+json, and not stored by any cache', async () => {
    address = testAddress();
    clock = new Date('2031-03-03T14:00:00.000Z');
    const { path } = await links(1);
    for (const [method, url] of [['GET', '/s/'], ['PUT', path(0)], ['DELETE', path(0).replace('/s/', '/u/')], ['GET', `${path(0)}/more`]] as const) {
      const res = await app.request(url, { method });
      expect([method, url, res.status]).toEqual([method, url, 404]);
      expect(res.headers.get('Content-Type')).toBe('text/html; charset=UTF-8');
      expect(res.headers.get('Cache-Control')).toBe('no-store');
      expect(await res.text()).toContain('<h1>This link is not valid</h1>');
    }
  });

  it('show an error page in plain words when the database cannot be reached', async () => {
    const port = await freePort();
    const down = createDeps({ ...testConfig(), dynamoEndpoint: `http://127.0.0.1:${port}` }, { clientAddress: () => testAddress() });
    const res = await createApp(down).request('/s/anything');
    expect(res.status).toBe(500);
    expect(res.headers.get('Content-Type')).toBe('text/html; charset=UTF-8');
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(await res.text()).toContain('Something went wrong on our side.');
    down.db.client.destroy();
  }, 30_000);
});

describe('Cache-Control: no-store', () => {
  it('is on the token pages, on every answer', async () => {
    address = testAddress();
    clock = new Date('2031-03-03T15:00:00.000Z');
    const { path } = await links(1);
    const answers = [await app.request(path(0)), await post(path(0), {}), await post(path(0), { responsiveness: '4' }), await app.request(path(0).replace('/s/', '/u/')), await app.request('/s/forged')];
    expect(answers.map((r) => [r.status, r.headers.get('Cache-Control')])).toEqual([
      [200, 'no-store'],
      [400, 'no-store'],
      [200, 'no-store'],
      [200, 'no-store'],
      [404, 'no-store'],
    ]);
    // The stylesheet is the same for everyone, and cached.
    expect((await app.request('/assets/pages.css')).headers.get('Cache-Control')).toBe('public, max-age=3600');
  });
});
