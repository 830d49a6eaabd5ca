import { describe, expect, it, vi } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { fingerprint, keys, LEASE_MS } from '@rapport/core';
import { agencyFixture, faultyDb, sesEmails, testDeps, type AgencyFixture } from '@rapport/testing';
import { inProcessSendQueue, type Deps } from '../../deps';

// Faults are planted in the DynamoDB client (the engine cannot fail on demand); everything else
// is real: DynamoDB Local, the send worker and the SES server. The queue sends fast so that each
// test can wait for every email.
const faults = faultyDb(testDeps().db);
let clock: Date | undefined;
const queue = inProcessSendQueue(() => deps);
const deps: Deps = testDeps({ db: faults.db, queue, now: () => clock ?? new Date() });

async function campaign(f: AgencyFixture) {
  const { proId } = (await f.call('POST', '/v1/pros', { body: { name: 'Jane Doe', email: `jane-${f.agencyId}@acme.example` } })).body;
  return (await f.call('POST', '/v1/campaigns', { body: { proId, name: 'Spring Launch' } })).body.campaignId as string;
}

/**
 * 100 new addresses: after the request's own writes (the key's rate count, the Idempotency-Key's
 * record), the round's transaction and its WORK touch (writes 1 to 4), four batches of 25 written
 * at once, each two writes, the reservations then the invitations of those reserved (writes 5 to 12).
 */
const hundred = (f: AgencyFixture) =>
  Array.from({ length: 100 }, (_, i) => ({ email: `r${i}-${f.agencyId.slice(-8).toLowerCase()}@news.example`, audience: 'reporter' }));

async function roundsOf(f: AgencyFixture, campaignId: string) {
  return (await f.call('GET', `/v1/campaigns/${campaignId}/surveys?limit=100`)).body.data as { surveyId: string; status: string; counts: Record<string, number> }[];
}

async function invitationsOf(f: AgencyFixture, surveyId: string) {
  return (await f.call('GET', `/v1/surveys/${surveyId}/invitations?limit=100`)).body.data as { email: string; status: string }[];
}

/** How many emails the SES server holds for each address. */
async function emailsTo(addresses: string[]) {
  const all = await sesEmails();
  return addresses.map((address) => all.filter((e) => e.destination.to.includes(address)).length);
}

const zero = { pending: 0, sending: 0, sent: 0, responded: 0, bounced: 0, failed: 0, expired: 0, skipped: 0 };

describe('Round creation', () => {
  it.each([5, 8, 9, 12])(
    'a 5xx injected into write %i of the creation: the retry with the same key resumes one round and emails every recipient once',
    async (nth) => {
      const f = await agencyFixture(deps);
      const campaignId = await campaign(f);
      const recipients = hundred(f);
      const path = `/v1/campaigns/${campaignId}/surveys`;
      const request = { body: { recipients }, headers: { 'Idempotency-Key': `round-${nth}` } };

      faults.failWrite(nth);
      expect((await f.call('POST', path, request)).status).toBe(500);
      // The key stays bound to its request: another body with it is refused.
      expect((await f.call('POST', path, { ...request, body: { recipients: recipients.slice(1) } })).status).toBe(422);
      // The failed attempt left an open round, each invitation it wrote pending and counted.
      const [partial, ...others] = await roundsOf(f, campaignId);
      expect(others).toEqual([]);
      const written = await invitationsOf(f, partial!.surveyId);
      expect(written.length).toBeLessThan(100);
      expect(written.every((i) => i.status === 'pending')).toBe(true);
      expect(partial).toMatchObject({ status: 'open', counts: { ...zero, pending: written.length } });

      const retry = await f.call('POST', path, request);
      expect(retry.status).toBe(202);
      expect(retry.body).toMatchObject({
        surveyId: partial!.surveyId,
        status: 'open',
        counts: { ...zero, pending: 100 },
        accepted: 100,
        skippedTotal: 0,
        skippedCounts: { invalid: 0, duplicate: 0, unsubscribed: 0, bounced: 0, complained: 0, throttled: 0 },
        skipped: [],
      });
      const replay = await f.call('POST', path, request);
      expect(replay.headers.get('Idempotent-Replayed')).toBe('true');
      expect([replay.status, replay.body]).toEqual([202, retry.body]);

      await queue.drain();
      expect((await roundsOf(f, campaignId)).map((r) => [r.surveyId, r.counts])).toEqual([[partial!.surveyId, { ...zero, sent: 100 }]]);
      expect(await emailsTo(recipients.map((r) => r.email))).toEqual(recipients.map(() => 1));
    },
    90_000,
  );

  it('a Lambda timeout (a write of the creation never answers): the retry is in progress until the 60 s lock passes (moved clock), then resumes the round', async () => {
    const f = await agencyFixture(deps);
    const campaignId = await campaign(f);
    const recipients = hundred(f);
    const path = `/v1/campaigns/${campaignId}/surveys`;
    const request = { body: { recipients }, headers: { 'Idempotency-Key': 'timeout-1' } };
    const t0 = new Date();
    clock = t0;
    try {
      faults.failWrite(9, 'hang'); // the invitations of the first batch reserved, after the round's own writes and the reservations
      // Never answers: the request dies with its Lambda.
      void f.call('POST', path, request);
      // Every other batch is written; one hangs.
      await vi.waitFor(async () => expect((await roundsOf(f, campaignId))[0]?.counts.pending).toBe(75), { timeout: 30_000 });

      const early = await f.call('POST', path, request);
      expect([early.status, early.body.type, early.headers.get('Retry-After')]).toEqual([409, 'urn:rapport:problem:idempotency-in-progress', '1']);

      clock = new Date(t0.getTime() + 61_000);
      const retry = await f.call('POST', path, request);
      expect(retry.status).toBe(202);
      // The round as its first attempt began it.
      expect(retry.body).toMatchObject({ createdAt: t0.toISOString(), accepted: 100, skippedTotal: 0, counts: { ...zero, pending: 100 } });

      await queue.drain();
      expect((await roundsOf(f, campaignId)).map((r) => [r.surveyId, r.counts])).toEqual([[retry.body.surveyId, { ...zero, sent: 100 }]]);
      expect(await emailsTo(recipients.map((r) => r.email))).toEqual(recipients.map(() => 1));
    } finally {
      clock = undefined;
    }
  }, 90_000);

  it('a 5xx without a key leaves an open round the client can find, its written invitations pending', async () => {
    const f = await agencyFixture(deps);
    const campaignId = await campaign(f);
    faults.failWrite(10);
    expect((await f.call('POST', `/v1/campaigns/${campaignId}/surveys`, { body: { recipients: hundred(f) } })).status).toBe(500);
    const [round, ...others] = await roundsOf(f, campaignId);
    expect(others).toEqual([]);
    const written = await invitationsOf(f, round!.surveyId);
    expect(written.length).toBeGreaterThan(0);
    expect(written.length).toBeLessThan(100);
    expect(written.every((i) => i.status === 'pending')).toBe(true);
    expect(round).toMatchObject({ status: 'open', counts: { ...zero, pending: written.length } });
    // Each is leased for 15 minutes: its round's check queues it then (jobs/recovery.test.ts).
    const leaseEnd = new Date(Date.now() + LEASE_MS).toISOString();
    for (const i of written as unknown as { invitationId: string }[]) {
      const { Item } = await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.invitation(round!.surveyId, i.invitationId), ConsistentRead: true }));
      expect((Item!.checkAt as string) < leaseEnd).toBe(true);
    }
  });
});

describe('Big replies', () => {
  it('2,000 recipients with 1,999 long invalid addresses: a 202 that replays, a small stored record, and every skipped recipient paged', async () => {
    const f = await agencyFixture(deps);
    const campaignId = await campaign(f);
    const valid = `only-${f.agencyId.slice(-8).toLowerCase()}@news.example`;
    const invalid = (i: number) => `${'x'.repeat(280)}-${i}-has-no-at-sign.example`;
    const recipients = [{ email: valid, audience: 'client' }, ...Array.from({ length: 1999 }, (_, i) => ({ email: invalid(i + 1), audience: 'client' }))];
    const path = `/v1/campaigns/${campaignId}/surveys`;
    const request = { body: { recipients }, headers: { 'Idempotency-Key': 'big-1' } };

    const first = await f.call('POST', path, request);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({
      accepted: 1,
      skippedTotal: 1999,
      skippedCounts: { invalid: 1999, duplicate: 0, unsubscribed: 0, bounced: 0, complained: 0, throttled: 0 },
    });
    expect(first.body.skipped).toEqual(Array.from({ length: 100 }, (_, i) => ({ index: i + 1, email: invalid(i + 1), reason: 'invalid' })));
    const replay = await f.call('POST', path, request);
    expect(replay.headers.get('Idempotent-Replayed')).toBe('true');
    expect([replay.status, replay.body]).toEqual([202, first.body]);

    const { Item } = await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.idempotency(f.agencyId, fingerprint('big-1')) }));
    expect(Item?.state).toBe('done');
    // DynamoDB's limit is 400 KB; the stored answer holds 100 addresses of about 310 characters.
    expect(Buffer.byteLength(JSON.stringify(Item))).toBeLessThan(40 * 1024);

    const pages: { index: number; email: string; reason: string }[][] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: { index: number; email: string; reason: string }[]; nextCursor: string | null } } =
        await f.call('GET', `/v1/surveys/${first.body.surveyId}/skipped?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { key: f.readKey });
      pages.push(page.body.data);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(pages).toHaveLength(20);
    expect(pages.flat()).toEqual(Array.from({ length: 1999 }, (_, i) => ({ index: i + 1, email: invalid(i + 1), reason: 'invalid' })));

    await queue.drain();
    expect(await emailsTo([valid])).toEqual([1]);
  }, 60_000);
});
