import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  attemptDelivery,
  closeRound,
  createCampaign,
  createPro,
  createRound,
  createWebhook,
  deleteWebhook,
  DELIVERY_TIMEOUT_MS,
  ensureTable,
  getStoredWebhook,
  handleSesNotification,
  keys,
  listResponses,
  mailSent,
  postWebhook,
  sendTestEvent,
  signatureHeaders,
  submitResponse,
  suppress,
  sweepWebhooks,
  updateSettings,
  type SendJob,
  type WebhookDeps,
} from '@rapport/core';
import { agencyFixture, collectingQueue, testConfig, testAddress } from '@rapport/testing';
import { createDeps, deliveryDeps, type Deps } from '../../deps';
import { deliver } from '@rapport/core/sending/dispatch';
import type { InProcessQueue } from '../../adapters/in-process-queue';

/** A local receiver: answers each request with the next planned answer (200 once the plan is spent). */
interface Receiver {
  url: string;
  requests: { headers: Record<string, string>; body: string }[];
  connections: number;
  plan: (number | 'drop' | { status: number; headers: Record<string, string> })[];
  close(): Promise<void>;
}
async function receiver(): Promise<Receiver> {
  const r = { requests: [], connections: 0, plan: [] } as unknown as Receiver;
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      r.requests.push({ headers: req.headers as Record<string, string>, body });
      const next = r.plan.shift() ?? 200;
      if (next === 'drop') return void req.socket.destroy();
      if (typeof next === 'number') res.writeHead(next).end();
      else res.writeHead(next.status, next.headers).end();
    });
  });
  server.on('connection', () => r.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  r.close = () => new Promise((resolve) => server.close(() => resolve()));
  return r;
}

/** The official verifier: throws unless one signature is the secret's. */
const verify = (secret: string, req: { headers: Record<string, string>; body: string }) => new Webhook(secret).verify(req.body, req.headers);

let deps: Deps;
let strictDeps: Deps;
let sink: Receiver;
const queue = () => deps.queue as InProcessQueue;

beforeAll(async () => {
  // A table of its own: the sweep reads the whole due index.
  const config = { ...testConfig({ WEBHOOKS_ALLOW_LOOPBACK: 'true', WEBHOOK_RETRY_SECONDS: '0,0,0' }), table: `rapport-test-${randomUUID().slice(0, 8)}` };
  const address = testAddress();
  deps = createDeps(config, { clientAddress: () => address });
  await ensureTable(deps.db.client, config.table);
  strictDeps = createDeps({ ...config, webhooksAllowLoopback: false }, { db: deps.db, clientAddress: () => address });
  sink = await receiver();
});
afterAll(async () => {
  await queue().stop();
  await sink.close();
  deps.db.client.destroy();
});

const workerDeps = (over: Partial<WebhookDeps['webhooks']> = {}, at?: () => Date): WebhookDeps => ({
  db: deps.db,
  now: at ?? (() => new Date()),
  mailer: deps.mailer,
  mailFrom: 'surveys@rapport.example',
  webhooks: { allowLoopback: true, retrySeconds: [0, 0, 0], ...over },
});

describe('Webhooks', () => {
  it('signs every delivery for the official verifier, retries a 500 until a 200, and a 410 disables the endpoint', async () => {
    const fx = await agencyFixture(deps);
    const hook = await receiver();
    try {
      const created = await fx.call('POST', '/v1/webhooks', { body: { url: hook.url, events: ['response.created'], description: 'CRM' } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ url: hook.url, events: ['response.created'], enabled: true, disabledReason: null });
      expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
      const { webhookId, secret } = created.body;
      // Never shown again.
      expect((await fx.call('GET', `/v1/webhooks/${webhookId}`)).body.secret).toBeUndefined();
      expect(JSON.stringify((await fx.call('GET', '/v1/webhooks')).body)).not.toContain(secret);

      hook.plan = [500, 200];
      const test = await fx.call('POST', `/v1/webhooks/${webhookId}/test`);
      expect(test.status).toBe(202);
      await queue().drain();
      expect(hook.requests).toHaveLength(2);
      for (const req of hook.requests) expect(verify(secret, req)).toMatchObject({ type: 'webhook.test', data: { webhookId } });
      expect(hook.requests[0]!.headers['webhook-id']).toBe(test.body.eventId);
      expect(hook.requests[1]!.headers['webhook-id']).toBe(test.body.eventId);
      const log = await fx.call('GET', `/v1/webhooks/${webhookId}/deliveries`);
      expect(log.body.data).toHaveLength(1);
      expect(log.body.data[0]).toMatchObject({ deliveryId: test.body.deliveryId, status: 'succeeded', lastStatusCode: 200, nextAttemptAt: null, eventType: 'webhook.test' });
      expect(log.body.data[0].attempts.map((a: { statusCode: number; error: string | null }) => [a.statusCode, a.error])).toEqual([
        [500, 'the endpoint answered 500'],
        [200, null],
      ]);

      hook.plan = [410];
      const gone = await fx.call('POST', `/v1/webhooks/${webhookId}/test`);
      await queue().drain();
      expect(hook.requests).toHaveLength(3);
      const after = await fx.call('GET', `/v1/webhooks/${webhookId}`);
      expect(after.body).toMatchObject({ enabled: false, disabledReason: 'The endpoint answered 410 Gone' });
      const stored = await getStoredWebhook(deps.db, fx.agencyId, webhookId, true);
      expect(stored.enabled).toBe(false);
      const latest = (await fx.call('GET', `/v1/webhooks/${webhookId}/deliveries`)).body.data[0];
      expect(latest).toMatchObject({ deliveryId: gone.body.deliveryId, status: 'failed', lastStatusCode: 410, attempts: [{ statusCode: 410 }] });
      // Out of the due index: nothing is left to attempt.
      const item = (await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.webhookDelivery(webhookId, gone.body.deliveryId), ConsistentRead: true }))).Item!;
      expect(item.GSI1PK).toBeUndefined();
      expect((await fx.call('POST', `/v1/webhooks/${webhookId}/test`)).status).toBe(409);
      // Enabled again, a redelivery goes out with the same webhook-id.
      expect((await fx.call('PATCH', `/v1/webhooks/${webhookId}`, { body: { enabled: true } })).body).toMatchObject({ enabled: true, disabledReason: null, secret: null });
      const again = await fx.call('POST', `/v1/webhooks/${webhookId}/deliveries/${gone.body.deliveryId}/redeliver`);
      expect(again.status).toBe(202);
      await queue().drain();
      expect(hook.requests.at(-1)!.headers['webhook-id']).toBe(gone.body.eventId);
      expect((await fx.call('GET', `/v1/webhooks/${webhookId}/deliveries`)).body.data[0]).toMatchObject({ status: 'succeeded', attempts: [{ statusCode: 410 }, { statusCode: 200 }] });
    } finally {
      await hook.close();
    }
  });

  it('an endpoint failing through the whole schedule is disabled and its admins are emailed', async () => {
    const fx = await agencyFixture(deps);
    await updateSettings(deps.db, fx.agencyId, { summary: { adminEmails: [`admin-${fx.agencyId}@agency.example`] } } as never, new Date());
    const hook = await receiver();
    try {
      const { webhookId } = (await fx.call('POST', '/v1/webhooks', { body: { url: hook.url, events: ['summary.sent'] } })).body;
      hook.plan = [503, 429, 500];
      await fx.call('POST', `/v1/webhooks/${webhookId}/test`);
      await queue().drain();
      expect(hook.requests).toHaveLength(3);
      expect((await fx.call('GET', `/v1/webhooks/${webhookId}`)).body).toMatchObject({ enabled: false });
      expect((await fx.call('GET', `/v1/webhooks/${webhookId}`)).body.disabledReason).toMatch(/^Every attempt of a delivery failed/);
      const { sesEmails } = await import('@rapport/testing');
      const mails = await sesEmails({ to: `admin-${fx.agencyId}@agency.example` });
      expect(mails).toHaveLength(1);
      expect(mails[0]!.subject).toBe('A Rapport webhook was disabled');
    } finally {
      await hook.close();
    }
  });

  it('rotation: both secrets sign for 24 hours, then only the new one', async () => {
    const fx = await agencyFixture(deps);
    const hook = await receiver();
    try {
      const created = (await fx.call('POST', '/v1/webhooks', { body: { url: hook.url, events: ['round.closed'] } })).body;
      const rotated = await fx.call('PATCH', `/v1/webhooks/${created.webhookId}`, { body: { rotateSecret: true } });
      expect(rotated.status).toBe(200);
      expect(rotated.body.secret).toMatch(/^whsec_/);
      expect(rotated.body.secret).not.toBe(created.secret);
      await fx.call('POST', `/v1/webhooks/${created.webhookId}/test`);
      await queue().drain();
      const req = hook.requests[0]!;
      expect(req.headers['webhook-signature']!.split(' ')).toHaveLength(2);
      expect(verify(created.secret, req)).toMatchObject({ type: 'webhook.test' });
      expect(verify(rotated.body.secret, req)).toMatchObject({ type: 'webhook.test' });
      const stored = await getStoredWebhook(deps.db, fx.agencyId, created.webhookId, true);
      const later = new Date(Date.parse(rotated.body.previousSecretExpiresAt) + 1000);
      const headers = signatureHeaders(stored, 'msg_x', '{}', later);
      expect(headers['webhook-signature']).toBe(new Webhook(rotated.body.secret).sign('msg_x', new Date(Math.floor(later.getTime() / 1000) * 1000), '{}'));
    } finally {
      await hook.close();
    }
  });
});

describe('Webhook retries', () => {
  it("waits the schedule's delay with ±10 % jitter, and no less than a 429's or 5xx's Retry-After (seconds or an HTTP date, at most 10 h); another answer's Retry-After is not read", async () => {
    const fx = await agencyFixture(deps);
    const hook = await receiver();
    try {
      const { webhook } = await createWebhook(deps.db, fx.agencyId, { url: hook.url, events: ['round.closed'] }, new Date(), { allowLoopback: true });
      const t0 = new Date();
      /** Seconds from the failed attempt to the next one, after one answer. */
      const waitAfter = async (answer: Receiver['plan'][number]) => {
        const d = await sendTestEvent(deps.db, fx.agencyId, webhook.webhookId, t0);
        hook.plan = [answer];
        expect(await attemptDelivery(workerDeps({ retrySeconds: [0, 1000] }, () => t0), { kind: 'webhook', webhookId: webhook.webhookId, deliveryId: d.deliveryId })).toBe('retry');
        const { Item } = await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.webhookDelivery(webhook.webhookId, d.deliveryId), ConsistentRead: true }));
        return (Date.parse(Item!.nextAttemptAt as string) - t0.getTime()) / 1000;
      };
      const plain: number[] = [];
      for (let i = 0; i < 6; i++) plain.push(await waitAfter(500));
      for (const seconds of plain) expect(seconds).toSatisfy((s: number) => s >= 900 && s <= 1100);
      expect(new Set(plain).size).toBeGreaterThan(1);
      expect(await waitAfter({ status: 429, headers: { 'retry-after': '7200' } })).toBe(7200);
      const date = await waitAfter({ status: 503, headers: { 'retry-after': new Date(t0.getTime() + 5_400_000).toUTCString() } });
      expect(date).toSatisfy((s: number) => s > 5399 && s <= 5400);
      expect(await waitAfter({ status: 503, headers: { 'retry-after': '999999' } })).toBe(36_000);
      expect(await waitAfter({ status: 429, headers: { 'retry-after': '10' } })).toSatisfy((s: number) => s >= 900 && s <= 1100);
      expect(await waitAfter({ status: 404, headers: { 'retry-after': '7200' } })).toSatisfy((s: number) => s >= 900 && s <= 1100);
    } finally {
      await hook.close();
    }
  });

  it('gives an endpoint 15 s to answer (fake timers): one that never does is a failed attempt', async () => {
    expect(DELIVERY_TIMEOUT_MS).toBe(15_000);
    let received = 0;
    const silent = createServer(() => void received++);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let settled = false;
      const outcome = postWebhook(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/hook`, '{}', {}, { allowLoopback: true }).finally(() => (settled = true));
      for (let i = 0; i < 200 && received === 0; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(received).toBe(1);
      await vi.advanceTimersByTimeAsync(14_999);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(await outcome).toEqual({ error: 'no answer within 15 s' });
    } finally {
      vi.useRealTimers();
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('SSRF', () => {
  it.each([
    'https://169.254.169.254/latest/meta-data/',
    'https://10.0.0.1/',
    'https://[::1]/',
    'https://[::ffff:10.0.0.1]/',
    'https://[fd00:ec2::254]/',
    'https://100.64.0.1/',
    'https://0.0.0.0/',
    'http://127.0.0.1:8080/hook',
    'http://localhost:8080/hook',
    'https://user:pass@hooks.example.com/',
    'http://hooks.example.com/',
  ])('refuses %s at creation without the local allowance (400 naming url)', async (url) => {
    const fx = await agencyFixture(strictDeps);
    const answer = await fx.call('POST', '/v1/webhooks', { body: { url, events: ['round.closed'] } });
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((e: { field: string }) => e.field)).toEqual(['url']);
  });

  it('refuses the same addresses when a PATCH changes the URL, and keeps the URL it had', async () => {
    const fx = await agencyFixture(strictDeps);
    const created = await fx.call('POST', '/v1/webhooks', { body: { url: 'https://hooks.example.com/rapport', events: ['round.closed'] } });
    expect(created.status).toBe(201);
    for (const url of ['https://169.254.169.254/', 'https://10.0.0.1/', 'https://[::1]/', 'http://127.0.0.1:8080/hook']) {
      const patched = await fx.call('PATCH', `/v1/webhooks/${created.body.webhookId}`, { body: { url } });
      expect([url, patched.status, patched.body.errors?.map((e: { field: string }) => e.field)]).toEqual([url, 400, ['url']]);
    }
    expect((await fx.call('GET', `/v1/webhooks/${created.body.webhookId}`)).body.url).toBe('https://hooks.example.com/rapport');
  });

  it('refuses private addresses at creation even with the local allowance, which lets only loopback through', async () => {
    const fx = await agencyFixture(deps);
    expect((await fx.call('POST', '/v1/webhooks', { body: { url: 'https://169.254.169.254/', events: ['round.closed'] } })).status).toBe(400);
    expect((await fx.call('POST', '/v1/webhooks', { body: { url: 'http://127.0.0.1:9/hook', events: ['round.closed'] } })).status).toBe(201);
  });

  it('stub resolver: a host name that resolves to a private address at delivery is refused, and nothing is sent', async () => {
    const fx = await agencyFixture(deps);
    const port = Number(new URL(sink.url).port);
    const { webhook } = await createWebhook(deps.db, fx.agencyId, { url: `https://hooks.example.com:${port}/hook`, events: ['round.closed'] }, new Date(), { allowLoopback: false });
    const before = sink.connections;
    // One loopback address (allowed here) among the metadata service's: still refused.
    for (const addresses of [[{ address: '169.254.169.254', family: 4 }], [{ address: '127.0.0.1', family: 4 }, { address: '10.1.2.3', family: 4 }], [{ address: '::ffff:192.168.0.1', family: 6 }]]) {
      const d = await sendTestEvent(deps.db, fx.agencyId, webhook.webhookId, new Date());
      const outcome = await attemptDelivery({ ...workerDeps({ resolve: async () => addresses }) }, { kind: 'webhook', webhookId: webhook.webhookId, deliveryId: d.deliveryId });
      expect(outcome).toBe('retry');
      const item = (await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.webhookDelivery(webhook.webhookId, d.deliveryId), ConsistentRead: true }))).Item!;
      expect(item.attempts).toEqual([{ at: expect.any(String), statusCode: null, error: 'refused: the host resolves to a private, loopback, link-local or metadata address' }]);
    }
    expect(sink.connections).toBe(before);
  });

  it('attempts a retry due beyond the queue\'s 15 minutes at its time: the hourly sweep before it queues it ahead, and it comes back early in hops', async () => {
    const fx = await agencyFixture(deps);
    const hook = await receiver();
    try {
      hook.plan = [500, 200];
      const t0 = new Date();
      const { webhook } = await createWebhook(deps.db, fx.agencyId, { url: hook.url, events: ['round.closed'] }, t0, { allowLoopback: true });
      const d = await sendTestEvent(deps.db, fx.agencyId, webhook.webhookId, t0);
      const job = { kind: 'webhook', webhookId: webhook.webhookId, deliveryId: d.deliveryId } as const;
      expect(await attemptDelivery(workerDeps({ retrySeconds: [0, 1800] }, () => t0), job)).toBe('retry');
      const { nextAttemptAt } = (await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.webhookDelivery(webhook.webhookId, d.deliveryId), ConsistentRead: true }))).Item!;
      const due = new Date(nextAttemptAt as string);
      expect(due.getTime() - t0.getTime()).toBeGreaterThan(900_000);

      const queued: { jobs: SendJob[]; delaySeconds: number }[] = [];
      const recording = { enqueue: async (jobs: readonly SendJob[], { delaySeconds = 0 } = {}) => void queued.push({ jobs: jobs.filter((j) => j.kind === 'webhook' && j.deliveryId === d.deliveryId), delaySeconds }) };
      const sweepAt = async (at: Date, aheadMs: number) => {
        queued.length = 0;
        await sweepWebhooks(deps.db, recording, at, aheadMs);
        return queued.filter((q) => q.jobs.length > 0);
      };
      // Without look-ahead, or further off than the next run: nothing yet.
      expect(await sweepAt(new Date(due.getTime() - 20 * 60_000), 0)).toEqual([]);
      expect(await sweepAt(new Date(due.getTime() - 61 * 60_000), 3_600_000)).toEqual([]);
      const ahead = { ...job, notBefore: nextAttemptAt };
      expect(await sweepAt(new Date(due.getTime() - 20 * 60_000), 3_600_000)).toEqual([{ jobs: [ahead], delaySeconds: 900 }]);

      const requeued: { job: SendJob; delaySeconds: number }[] = [];
      const worker = (at: Date) => ({ ...deliveryDeps(deps), now: () => at, requeue: async (j: SendJob, delaySeconds: number) => void requeued.push({ job: j, delaySeconds }) });
      expect(await deliver(worker(new Date(due.getTime() - 5 * 60_000)), ahead)).toBe('not-due');
      expect(requeued).toEqual([{ job: ahead, delaySeconds: 300 }]);
      expect(hook.requests).toHaveLength(1);
      expect(await deliver(worker(due), ahead)).toBe('sent');
      expect(hook.requests).toHaveLength(2);
      expect(requeued).toHaveLength(1);
    } finally {
      await hook.close();
    }
  });

  it('attempts a 30-minute retry at its time though it failed just after the hourly sweep: the worker queues it ahead itself, not left for the next sweep', async () => {
    const fx = await agencyFixture(deps);
    const hook = await receiver();
    try {
      hook.plan = [500, 200];
      const t0 = new Date();
      const { webhook } = await createWebhook(deps.db, fx.agencyId, { url: hook.url, events: ['round.closed'] }, t0, { allowLoopback: true });
      const d = await sendTestEvent(deps.db, fx.agencyId, webhook.webhookId, t0);
      const job = { kind: 'webhook', webhookId: webhook.webhookId, deliveryId: d.deliveryId } as const;
      // The hourly sweep ran a moment before the first attempt: it queued that one, and saw no retry to queue ahead.
      const swept = collectingQueue();
      await sweepWebhooks(deps.db, swept, new Date(t0.getTime() - 1000), 3_600_000);
      expect(swept.jobs.filter((j) => j.kind === 'webhook' && j.deliveryId === d.deliveryId)).toEqual([{ ...job, notBefore: t0.toISOString() }]);

      const requeued: { job: SendJob; delaySeconds: number }[] = [];
      const worker = (at: Date) => ({ ...deliveryDeps(deps), webhooks: { allowLoopback: true, retrySeconds: [0, 1800] }, now: () => at, requeue: async (j: SendJob, delaySeconds: number) => void requeued.push({ job: j, delaySeconds }) });
      expect(await deliver(worker(t0), job)).toBe('retry');
      const { nextAttemptAt } = (await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.webhookDelivery(webhook.webhookId, d.deliveryId), ConsistentRead: true }))).Item!;
      const due = new Date(nextAttemptAt as string);
      expect(due.getTime() - t0.getTime()).toBeGreaterThan(900_000);
      expect(due.getTime() - t0.getTime()).toBeLessThan(3_600_000 - 1000);
      // Queued ahead by the worker, to run at its time (the next sweep, an hour after the last, would find it late).
      const ahead = { ...job, notBefore: nextAttemptAt };
      expect(requeued).toEqual([{ job: ahead, delaySeconds: 900 }]);
      expect(await deliver(worker(new Date(t0.getTime() + 900_000)), ahead)).toBe('not-due');
      // The rest, as far as the queue's 15 minutes reach (the jitter may put the retry past 30 minutes).
      expect(requeued[1]).toEqual({ job: ahead, delaySeconds: Math.min(900, Math.ceil((due.getTime() - t0.getTime() - 900_000) / 1000)) });
      expect(hook.requests).toHaveLength(1);
      expect(await deliver(worker(due), ahead)).toBe('sent');
      expect(hook.requests).toHaveLength(2);
      expect(requeued).toHaveLength(2);
    } finally {
      await hook.close();
    }
  });

  it('follows no redirect: a 302 is a failed attempt and its target sees nothing', async () => {
    const fx = await agencyFixture(deps);
    const first = await receiver();
    const target = await receiver();
    try {
      first.plan = [{ status: 302, headers: { location: target.url } }];
      const { webhook } = await createWebhook(deps.db, fx.agencyId, { url: first.url, events: ['round.closed'] }, new Date(), { allowLoopback: true });
      const d = await sendTestEvent(deps.db, fx.agencyId, webhook.webhookId, new Date());
      expect(await attemptDelivery(workerDeps(), { kind: 'webhook', webhookId: webhook.webhookId, deliveryId: d.deliveryId })).toBe('retry');
      expect(first.requests).toHaveLength(1);
      expect(target.connections).toBe(0);
    } finally {
      await first.close();
      await target.close();
    }
  });
});

describe('Webhook events', () => {
  /** Runs the sweep and every delivery it queues (the scheduled job and the worker). */
  async function sweepAndDeliver(at = new Date()) {
    const collected = collectingQueue();
    await sweepWebhooks(deps.db, collected, at);
    for (const job of collected.jobs as Extract<SendJob, { kind: 'webhook' }>[]) await attemptDelivery(workerDeps({}, () => at), job);
  }
  /** Verified as at the moment each was signed: a round's close is days ahead of the real clock. */
  function verifyAsSent(secret: string, req: Receiver['requests'][number]) {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Number(req.headers['webhook-timestamp']) * 1000);
    try {
      return verify(secret, req) as { type: string; data: Record<string, any> };
    } finally {
      vi.useRealTimers();
    }
  }
  const received = (r: Receiver, secret: string) => r.requests.map((req) => verifyAsSent(secret, req));

  it('each event once for its action, to its agency only; response.created never for anonymous rounds; responses.released rows equal the API rows', async () => {
    const fx = await agencyFixture(deps);
    const other = await agencyFixture(deps);
    await updateSettings(deps.db, fx.agencyId, { anonymityThreshold: 3 } as never, new Date());
    const hook = await receiver();
    const otherHook = await receiver();
    try {
      const all = ['round.closed', 'responses.released', 'response.created', 'recipient.unsubscribed', 'recipient.bounced', 'recipient.complained', 'summary.sent'];
      const { secret } = (await fx.call('POST', '/v1/webhooks', { body: { url: hook.url, events: all } })).body;
      await other.call('POST', '/v1/webhooks', { body: { url: otherHook.url, events: all } });
      const now = new Date();
      const pro = await createPro(deps.db, fx.agencyId, { name: 'Jane Doe', email: `jane-${fx.agencyId}@acme.example` }, now);
      const campaign = await createCampaign(deps.db, fx.agencyId, { proId: pro.proId, name: 'Spring Launch' }, now);
      const recipients = (tag: string) => [0, 1, 2].map((i) => ({ email: `r${i}-${tag}-${fx.agencyId}@news.example`.toLowerCase(), audience: 'reporter', name: `Reporter ${i}` }));

      // Named: one response.created per first answer, none for a revision.
      const named = await createRound(deps.db, fx.agencyId, campaign.campaignId, { recipients: recipients('n'), attribution: 'named' }, now);
      const answer = { responsiveness: 4, recommend: 9, improve: 'Faster replies', quoteConsent: true };
      const namedResponse = await submitResponse(deps.db, named.accepted[0]!, answer, now);
      await submitResponse(deps.db, named.accepted[0]!, { ...answer, responsiveness: 5 }, now);
      // Anonymous: answers tell nothing until the close releases them.
      const anon = await createRound(deps.db, fx.agencyId, campaign.campaignId, { recipients: recipients('a'), attribution: 'anonymous' }, now);
      for (const inv of anon.accepted) await submitResponse(deps.db, inv, { responsiveness: 3, recommend: 7 }, now);
      await sweepAndDeliver();
      expect(received(hook, secret).map((e) => e.type)).toEqual(['response.created']);
      expect(received(hook, secret)[0]!.data.response).toMatchObject({ surveyId: named.round.roundId, invitationId: named.accepted[0]!.invitationId, attribution: 'named', answers: answer, revision: 1, respondent: { email: named.accepted[0]!.email } });
      expect(namedResponse.revision).toBe(1);

      const closeAt = new Date(Date.parse(anon.round.closesAt) + 60_000);
      expect(await closeRound(deps.db, anon.round.roundId, closeAt)).toBe(true);
      await sweepAndDeliver(closeAt);
      const events = received(hook, secret).slice(1);
      expect(events.map((e) => e.type).sort()).toEqual(['responses.released', 'round.closed']);
      const closed = events.find((e) => e.type === 'round.closed')!;
      expect(closed.data).toMatchObject({ surveyId: anon.round.roundId, campaignId: campaign.campaignId, proId: pro.proId, attribution: 'anonymous', status: 'closed', closedAt: closeAt.toISOString() });
      expect(closed.data.scores).toEqual([{ audience: 'reporter', pooled: false, batchId: expect.stringMatching(/^bat_/), answers: 3, k: 3, items: { responsiveness: { n: 3, mean: 3 }, recommend: { n: 3, mean: 7 } } }]);
      const released = events.find((e) => e.type === 'responses.released')!;
      const apiRows = (await listResponses(deps.db, fx.agencyId, {}, { limit: 100 })).items.filter((r) => r.batchId === released.data.batchId);
      expect(released.data.rows).toEqual(JSON.parse(JSON.stringify(apiRows)));
      expect(released.data).toMatchObject({ batchId: closed.data.scores[0].batchId, size: 3, k: 3, rowsUrl: null });
      for (const row of released.data.rows) expect(row).toMatchObject({ respondent: null, invitationId: null, surveyId: null, submittedAt: null });

      // Recipients: an unsubscribe (agency), a bounce and a complaint (SES), each once.
      const [a, b] = named.accepted;
      expect(await suppress(deps.db, a!.email, 'unsubscribed', { agencyId: fx.agencyId }, now, { via: a!.invitationId })).toBe(true);
      expect(await suppress(deps.db, a!.email, 'unsubscribed', { agencyId: fx.agencyId }, now, { via: a!.invitationId })).toBe(false);
      const tags = (i: typeof b) => ({ agency: [i!.agencyId], round: [i!.roundId], invitation: [i!.invitationId], kind: ['invitation'] });
      const bounce = JSON.stringify({ eventType: 'Bounce', mail: { messageId: `ses-${fx.agencyId}`, tags: tags(b) }, bounce: { bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: b!.email }] } });
      await handleSesNotification(deps.db, bounce, now);
      await handleSesNotification(deps.db, bounce, now);
      const complainer = anon.accepted[0]!;
      await handleSesNotification(deps.db, JSON.stringify({ eventType: 'Complaint', mail: { messageId: `ses-c-${fx.agencyId}`, tags: tags(complainer) }, complaint: { complainedRecipients: [{ emailAddress: complainer.email }] } }), now);
      // A pro summary settled as sent.
      const marker = keys.summarySent(fx.agencyId, pro.proId, '2030-01');
      await deps.db.doc.send(new PutCommand({ TableName: deps.db.table, Item: { ...marker, status: 'sending' } }));
      await mailSent(deps.db, marker, now, 'ses-summary');
      await sweepAndDeliver();
      const rest = received(hook, secret).slice(3);
      expect(rest.map((e) => [e.type, e.data])).toEqual(
        expect.arrayContaining([
          ['recipient.unsubscribed', { email: a!.email, reason: 'unsubscribed', scope: 'agency', at: now.toISOString() }],
          ['recipient.bounced', { email: b!.email, reason: 'bounced', scope: 'all-agencies', at: now.toISOString() }],
          ['recipient.complained', { email: complainer.email, reason: 'complained', scope: 'all-agencies', at: now.toISOString() }],
          ['summary.sent', { proId: pro.proId, period: '2030-01', sentAt: now.toISOString() }],
        ]),
      );
      expect(rest).toHaveLength(4);
      // Another sweep sends nothing more; the other agency heard nothing.
      await sweepAndDeliver(new Date(Date.now() + 1000));
      expect(hook.requests).toHaveLength(7);
      expect(otherHook.requests).toHaveLength(0);
    } finally {
      await hook.close();
      await otherHook.close();
    }
  });
  it('keeps a body under 20 KB: a released batch too large for one gives rows: null and rowsUrl, which lists exactly its rows', async () => {
    const fx = await agencyFixture(deps);
    await updateSettings(deps.db, fx.agencyId, { anonymityThreshold: 3 } as never, new Date());
    const hook = await receiver();
    try {
      const { secret } = (await fx.call('POST', '/v1/webhooks', { body: { url: hook.url, events: ['responses.released'] } })).body;
      const now = new Date();
      const pro = await createPro(deps.db, fx.agencyId, { name: 'Big Batch', email: `big-${fx.agencyId}@acme.example`.toLowerCase() }, now);
      const campaign = await createCampaign(deps.db, fx.agencyId, { proId: pro.proId, name: 'Large launch' }, now);
      const recipients = Array.from({ length: 12 }, (_, i) => ({ email: `big${i}-${fx.agencyId}@news.example`.toLowerCase(), audience: 'reporter' }));
      const round = await createRound(deps.db, fx.agencyId, campaign.campaignId, { recipients, attribution: 'anonymous' }, now);
      for (const [i, inv] of round.accepted.entries()) await submitResponse(deps.db, inv, { responsiveness: 4, recommend: 8, improve: `${i} ${'A long comment. '.repeat(120)}` }, now);
      const closeAt = new Date(Date.parse(round.round.closesAt) + 60_000);
      expect(await closeRound(deps.db, round.round.roundId, closeAt)).toBe(true);
      await sweepAndDeliver(closeAt);
      expect(hook.requests).toHaveLength(1);
      expect(Buffer.byteLength(hook.requests[0]!.body)).toBeLessThanOrEqual(20 * 1024);
      const [event] = received(hook, secret);
      expect(event).toMatchObject({ type: 'responses.released', data: { size: 12, rows: null, rowsUrl: expect.stringMatching(/^\/v1\/responses\?/) } });
      const page = await fx.call('GET', event!.data.rowsUrl);
      expect(page.status).toBe(200);
      const apiRows = (await listResponses(deps.db, fx.agencyId, {}, { limit: 100 })).items.filter((r) => r.batchId === event!.data.batchId);
      expect(apiRows).toHaveLength(12);
      expect(page.body).toMatchObject({ nextCursor: null });
      expect(page.body.data).toEqual(JSON.parse(JSON.stringify(apiRows)));
    } finally {
      await hook.close();
    }
  });
});

describe('Webhook delivery rules (property)', () => {
  it('for any sequence of answers, a 2xx ends the delivery once, and the endpoint ends as the rules say', async () => {
    const fx = await agencyFixture(deps);
    const hook = await receiver();
    try {
      const answer = fc.oneof(fc.constantFrom(200, 204, 400, 404, 410, 429, 500, 503), fc.constant('drop' as const));
      await fc.assert(
        fc.asyncProperty(fc.array(answer, { minLength: 1, maxLength: 5 }), async (plan) => {
          const { webhook } = await createWebhook(deps.db, fx.agencyId, { url: hook.url, events: ['round.closed'] }, new Date(), { allowLoopback: true });
          const d = await sendTestEvent(deps.db, fx.agencyId, webhook.webhookId, new Date());
          hook.plan = [...plan];
          hook.requests = [];
          for (let i = 0; i < 10; i++) await attemptDelivery(workerDeps(), { kind: 'webhook', webhookId: webhook.webhookId, deliveryId: d.deliveryId });
          const item = (await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: keys.webhookDelivery(webhook.webhookId, d.deliveryId), ConsistentRead: true }))).Item!;
          const stored = await getStoredWebhook(deps.db, fx.agencyId, webhook.webhookId, true);
          // What the rules say: answers in order until a 2xx, a 410, or the 3 attempts are spent.
          const seen = [...plan, 200, 200, 200].slice(0, 3);
          const end = seen.findIndex((s) => typeof s === 'number' && ((s >= 200 && s < 300) || s === 410));
          const made = end === -1 ? 3 : end + 1;
          const last = seen[made - 1];
          const succeeded = typeof last === 'number' && last >= 200 && last < 300;
          expect(item.attempts).toHaveLength(made);
          expect(hook.requests).toHaveLength(made);
          expect(item.attempts.filter((a: { statusCode: number | null }) => a.statusCode !== null && a.statusCode >= 200 && a.statusCode < 300)).toHaveLength(succeeded ? 1 : 0);
          expect(item.status).toBe(succeeded ? 'succeeded' : 'failed');
          expect(stored.enabled).toBe(succeeded);
          await deleteWebhook(deps.db, fx.agencyId, webhook.webhookId, new Date());
        }),
        { numRuns: 15 },
      );
    } finally {
      await hook.close();
    }
  });
});
