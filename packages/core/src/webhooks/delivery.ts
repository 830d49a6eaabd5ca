import { createHmac } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { withoutKeys } from '../db/items';
import { isConditionFailed } from '../db/conditions';
import { queryPrefix, type PageRequest } from '../db/page';
import { ConflictError, NotFoundError } from '../shared/errors';
import { iso } from '../shared/time';
import type { Mailer } from '../email/mailer';
import { getAgency } from '../agency/agency';
import { disableWebhook, getStoredWebhook, signingSecrets, type StoredWebhook } from './endpoints';
import { deliveryItem, dueRef, eventBody, eventIdOf, newEventId, type DeliveryAttempt, type WebhookDelivery } from './events';
import { postWebhook, type PostOutcome, type Resolve } from './ssrf';
import { MAX_QUEUE_DELAY_SECONDS } from '../sending/queue';

/**
 * The spec's example schedule (Standard Webhooks 1.0, "Deliverability and reliability"):
 * immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h: the last attempt 75 h 35 min
 * after the first, about 3 days. (Svix's shorter list, ending 10 h, 10 h, spans only 27.5 hours.)
 */
export const STANDARD_RETRY_SECONDS = [0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400];
/** An attempt under way holds its delivery this long (the 15 s timeout and the writes); then the sweep may retry it. */
const ATTEMPT_LEASE_MS = 60_000;
/** A `Retry-After` longer than this is read as this: a receiver cannot park a delivery for weeks. */
const MAX_RETRY_AFTER_SECONDS = 36_000;

export interface WebhookDeps {
  db: Db;
  now: () => Date;
  mailer: Mailer;
  mailFrom: string;
  webhooks: {
    allowLoopback: boolean;
    /** Seconds before each attempt, the first one included (`WEBHOOK_RETRY_SECONDS`). */
    retrySeconds: readonly number[];
    /** The DNS the worker resolves endpoints with; the system's by default. */
    resolve?: Resolve | undefined;
  };
  requeue?: ((job: WebhookJob & { notBefore?: string }, delaySeconds: number) => Promise<void>) | undefined;
  warn?: ((message: string, fields: Record<string, string>) => void) | undefined;
}

export interface WebhookJob {
  kind: 'webhook';
  webhookId: string;
  deliveryId: string;
}

export type WebhookOutcome = 'sent' | 'retry' | 'failed' | 'skipped' | 'not-due';

/** ±10 % so that endpoints coming back from an outage are not all retried in the same second. */
const jitter = (seconds: number) => seconds * (0.9 + Math.random() * 0.2);

/** `Retry-After` in seconds: delta-seconds or an HTTP date. */
function retryAfterSeconds(value: string | null, now: Date): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, (at - now.getTime()) / 1000);
}

/**
 * A Standard Webhooks `v1` signature: HMAC-SHA256 of `id.timestamp.body` with the secret's key
 * (base64 after `whsec_`), in base64. Written with node:crypto rather than the `standardwebhooks`
 * package, whose pure-JS SHA-256 and base64 added 13 KB to the sender's and the API's bundles; the
 * tests verify these signatures with that package.
 */
const sign = (secret: string, msgId: string, seconds: number, body: string) =>
  `v1,${createHmac('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64')).update(`${msgId}.${seconds}.${body}`).digest('base64')}`;

/** The three Standard Webhooks headers; one `v1,` signature per secret that signs now. */
export function signatureHeaders(hook: StoredWebhook, msgId: string, body: string, at: Date): Record<string, string> {
  const seconds = Math.floor(at.getTime() / 1000);
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(seconds),
    'webhook-signature': signingSecrets(hook, at).map((secret) => sign(secret, msgId, seconds, body)).join(' '),
  };
}

const readDelivery = async (db: Db, webhookId: string, deliveryId: string): Promise<WebhookDelivery | null> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.webhookDelivery(webhookId, deliveryId), ConsistentRead: true }));
  return Item ? withoutKeys<WebhookDelivery>(Item) : null;
};

/** Ends or reschedules a delivery after an attempt, conditional on still holding it (`attempts` as claimed). */
async function settle(db: Db, d: WebhookDelivery, attempts: DeliveryAttempt[], next: { status: 'succeeded' | 'failed' } | { status: 'pending'; at: Date }): Promise<void> {
  const due = next.status === 'pending' ? keys.webhookDue(dueRef(d.webhookId, d.deliveryId), iso(next.at)) : null;
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: keys.webhookDelivery(d.webhookId, d.deliveryId),
      UpdateExpression: due
        ? 'SET #status = :status, attempts = :attempts, nextAttemptAt = :next, GSI1PK = :pk, GSI1SK = :sk REMOVE leaseUntil'
        : 'SET #status = :status, attempts = :attempts, nextAttemptAt = :none REMOVE GSI1PK, GSI1SK, leaseUntil',
      ConditionExpression: '#status = :delivering AND size(attempts) = :claimed',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':status': next.status,
        ':attempts': attempts,
        ':delivering': 'delivering',
        ':claimed': attempts.length - 1,
        ...(due ? { ':next': iso((next as { at: Date }).at), ':pk': due.GSI1PK, ':sk': due.GSI1SK } : { ':none': null }),
      },
    }),
  ).catch((error) => {
    // Another worker took it after this one's lease ran out: its record stands.
    if (!isConditionFailed(error)) throw error;
  });
}

/** A delivery that will not be attempted (its endpoint deleted or disabled): failed, out of the due index. */
async function drop(db: Db, d: WebhookDelivery, reason: string, now: Date): Promise<void> {
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: keys.webhookDelivery(d.webhookId, d.deliveryId),
      UpdateExpression: 'SET #status = :failed, attempts = list_append(attempts, :attempt), nextAttemptAt = :none REMOVE GSI1PK, GSI1SK, leaseUntil',
      ConditionExpression: '#status = :status',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':failed': 'failed', ':status': d.status, ':none': null, ':attempt': [{ at: iso(now), statusCode: null, error: reason }] },
    }),
  ).catch((error) => {
    if (!isConditionFailed(error)) throw error;
  });
}

/**
 * One attempt of one delivery (a `webhook` job). The delivery is claimed first (a conditional
 * write on its attempt count), so a job found twice, or queued by the sweep as well, attempts
 * once; a worker that dies mid-attempt leaves a lease the sweep retries after a minute. Only a
 * 2xx counts. A 410 disables the endpoint. Anything else is retried on the schedule, with jitter,
 * no sooner than a 429's or 5xx's `Retry-After`; once the schedule is spent (about 3 days) the
 * delivery fails and the endpoint is disabled, and the agency's admins are emailed.
 */
export async function attemptDelivery(deps: WebhookDeps, job: WebhookJob): Promise<WebhookOutcome> {
  const { db } = deps;
  const now = deps.now();
  const d = await readDelivery(db, job.webhookId, job.deliveryId);
  if (!d) return 'not-due';
  const leaseUntil = (d as WebhookDelivery & { leaseUntil?: string }).leaseUntil;
  const due = (d.status === 'pending' && d.nextAttemptAt !== null && d.nextAttemptAt <= iso(now)) || (d.status === 'delivering' && leaseUntil !== undefined && leaseUntil < iso(now));
  if (!due) return 'not-due';
  let hook: StoredWebhook;
  try {
    hook = await getStoredWebhook(db, d.agencyId, d.webhookId, true);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    await drop(db, d, 'the webhook was deleted', now);
    return 'skipped';
  }
  if (!hook.enabled) {
    await drop(db, d, `the webhook is disabled: ${hook.disabledReason ?? 'disabled'}`, now);
    return 'skipped';
  }
  const lease = iso(new Date(now.getTime() + ATTEMPT_LEASE_MS));
  const claimDue = keys.webhookDue(dueRef(d.webhookId, d.deliveryId), lease);
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.webhookDelivery(d.webhookId, d.deliveryId),
        UpdateExpression: 'SET #status = :delivering, leaseUntil = :lease, GSI1PK = :pk, GSI1SK = :sk',
        ConditionExpression: '#status = :read AND size(attempts) = :n',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':delivering': 'delivering', ':lease': lease, ':pk': claimDue.GSI1PK, ':sk': claimDue.GSI1SK, ':read': d.status, ':n': d.attempts.length },
      }),
    );
  } catch (error) {
    if (isConditionFailed(error)) return 'not-due';
    throw error;
  }

  const outcome: PostOutcome = await postWebhook(hook.url, d.body, signatureHeaders(hook, eventIdOf(d.deliveryId), d.body, now), {
    resolve: deps.webhooks.resolve,
    allowLoopback: deps.webhooks.allowLoopback,
  });
  const at = deps.now();
  const ok = 'statusCode' in outcome && outcome.statusCode >= 200 && outcome.statusCode < 300;
  const attempt: DeliveryAttempt = {
    at: iso(now),
    statusCode: 'statusCode' in outcome ? outcome.statusCode : null,
    error: ok ? null : 'error' in outcome ? outcome.error : `the endpoint answered ${outcome.statusCode}`,
  };
  const attempts = [...d.attempts, attempt];
  if (ok) {
    await settle(db, d, attempts, { status: 'succeeded' });
    return 'sent';
  }
  if ('statusCode' in outcome && outcome.statusCode === 410) {
    await settle(db, d, attempts, { status: 'failed' });
    await disable(deps, hook, 'The endpoint answered 410 Gone', at);
    return 'failed';
  }
  const schedule = deps.webhooks.retrySeconds;
  const made = attempts.length - (d.retriesFrom ?? 0);
  if (made >= schedule.length) {
    await settle(db, d, attempts, { status: 'failed' });
    await disable(deps, hook, `Every attempt of a delivery failed over the whole retry schedule (last: ${attempt.error})`, at);
    return 'failed';
  }
  const backoff = 'statusCode' in outcome && (outcome.statusCode === 429 || outcome.statusCode >= 500) ? retryAfterSeconds(outcome.retryAfter, at) : null;
  const delaySeconds = Math.max(jitter(schedule[made]!), Math.min(backoff ?? 0, MAX_RETRY_AFTER_SECONDS));
  const next = new Date(at.getTime() + delaySeconds * 1000);
  await settle(db, d, attempts, { status: 'pending', at: next });
  // Queued delayed; further off than the queue's reach, to run at its time (`notBefore`: it comes
  // back early in hops): the hourly sweep before it may have run before this attempt, and would
  // find it only once due, up to an hour late. The sweep stays the backstop for a lost job.
  const { notBefore: _stale, ...again } = job as WebhookJob & { notBefore?: string };
  await deps.requeue?.(delaySeconds <= MAX_QUEUE_DELAY_SECONDS ? again : { ...again, notBefore: iso(next) }, Math.min(MAX_QUEUE_DELAY_SECONDS, Math.ceil(delaySeconds)));
  return 'retry';
}

/** Disables the endpoint and, the first time, tells the agency's admins (the addresses its summary goes to). */
async function disable(deps: WebhookDeps, hook: StoredWebhook, reason: string, now: Date): Promise<void> {
  if (!(await disableWebhook(deps.db, hook.agencyId, hook.webhookId, reason, now))) return;
  deps.warn?.('webhook disabled', { agencyId: hook.agencyId, webhookId: hook.webhookId, reason });
  const agency = await getAgency(deps.db, hook.agencyId);
  const subject = 'A Rapport webhook was disabled';
  const text = `The webhook ${hook.webhookId} (${hook.url}) of ${agency.name} was disabled: ${reason}.\n\nNo more events are sent to it. Once the endpoint works again, enable it with PATCH /v1/webhooks/${hook.webhookId} {"enabled": true}, and redeliver what it missed from GET /v1/webhooks/${hook.webhookId}/deliveries.`;
  const html = `<p>${escapeHtml(text).replace(/\n\n/g, '</p><p>')}</p>`;
  for (const address of agency.summary.adminEmails) {
    try {
      await deps.mailer.send({ from: { name: 'Rapport', address: deps.mailFrom }, to: { address }, subject, text, html });
    } catch (error) {
      // The endpoint is disabled whatever happens to the email; the log line says so.
      deps.warn?.('webhook-disabled email not sent', { agencyId: hook.agencyId, webhookId: hook.webhookId, failure: (error as Error).name });
    }
  }
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A delivery as the deliveries log shows it (the body is the event's, not repeated). */
export type DeliveryView = Omit<WebhookDelivery, 'body' | 'agencyId' | 'retriesFrom'> & { lastStatusCode: number | null };

const toView = (item: Record<string, unknown>): DeliveryView => {
  const { body: _body, agencyId: _agency, leaseUntil: _lease, retriesFrom: _from, ...d } = withoutKeys<WebhookDelivery & { leaseUntil?: string }>(item);
  return { ...d, lastStatusCode: d.attempts.at(-1)?.statusCode ?? null };
};

/** An endpoint's deliveries, newest first. */
export async function listDeliveries(db: Db, agencyId: string, webhookId: string, page: PageRequest) {
  await getStoredWebhook(db, agencyId, webhookId);
  return queryPrefix(db, { partition: keys.webhookDelivery(webhookId, '').PK, prefix: 'DLV#', newestFirst: true }, page, toView);
}

/**
 * Queues a delivery again (a failed one, or one that succeeded and the receiver lost): pending and
 * due now, same `webhook-id`, its attempts kept in the log. A delivery under way is a conflict.
 */
export async function redeliver(db: Db, agencyId: string, webhookId: string, deliveryId: string, now: Date): Promise<DeliveryView> {
  const hook = await getStoredWebhook(db, agencyId, webhookId);
  if (!/^dlv_[0-9A-HJKMNP-TV-Z]{26}$/.test(deliveryId)) throw new NotFoundError('delivery');
  const d = await readDelivery(db, webhookId, deliveryId);
  if (!d) throw new NotFoundError('delivery');
  if (d.status === 'pending' || d.status === 'delivering') return toView({ ...d });
  if (!hook.enabled) throw new ConflictError('The webhook is disabled; enable it first', 'enabled');
  const due = keys.webhookDue(dueRef(webhookId, deliveryId), iso(now));
  const { Attributes } = await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: keys.webhookDelivery(webhookId, deliveryId),
      // The schedule starts over from here.
      UpdateExpression: 'SET #status = :pending, nextAttemptAt = :now, retriesFrom = :from, GSI1PK = :pk, GSI1SK = :sk',
      ConditionExpression: '#status = :read',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':pending': 'pending', ':now': iso(now), ':from': d.attempts.length, ':pk': due.GSI1PK, ':sk': due.GSI1SK, ':read': d.status },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return toView(Attributes!);
}

/** A `webhook.test` event to one endpoint, whatever its event types: a delivery due now, returned to be queued. */
export async function sendTestEvent(db: Db, agencyId: string, webhookId: string, now: Date): Promise<DeliveryView> {
  const hook = await getStoredWebhook(db, agencyId, webhookId);
  if (!hook.enabled) throw new ConflictError('The webhook is disabled; enable it first', 'enabled');
  const event = { eventId: newEventId(), agencyId, type: 'webhook.test' as const, timestamp: iso(now), data: { webhookId } };
  const item = deliveryItem(webhookId, agencyId, event.eventId, event.type, eventBody(event), now);
  await db.doc.send(new PutCommand({ TableName: db.table, Item: item, ConditionExpression: 'attribute_not_exists(PK)' }));
  return toView(item);
}
