import { encodeTime, ulid } from 'ulidx';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys, WEBHOOK_DUE_PARTITIONS } from '../db/keys';
import { tableDefinition } from '../db/table-definition';
import { isConditionFailed } from '../db/conditions';
import { mapConcurrent } from '../db/batch';
import type { TransactItems } from '../db/transact';
import { fingerprint } from '../shared/hash';
import { iso } from '../shared/time';
import { enqueueAt, type JobQueue, type SendJob } from '../sending/queue';
import { agencyWebhooks, type WebhookEventType } from './endpoints';

/**
 * Webhook events (DESIGN-NOTES "Webhooks"). The domain writes an event as an outbox item in the
 * same write as the change it tells of (`webhookOutbox`), so a crash between the two cannot lose
 * it; the scheduled job's sweep fans each event out into one delivery per endpoint taking it and
 * queues them (`sweepWebhooks`). Event ids follow from what happened, so an event written twice (a
 * retried close, a replayed SNS notification) fans out once: each delivery is a conditional put.
 */

/** The body of an event larger than this carries a link back to the API instead of its rows. */
export const MAX_PAYLOAD_BYTES = 20 * 1024;
/** Deliveries and their log are kept this long (DynamoDB's TTL removes them). */
const KEEP_SECONDS = 30 * 86_400;
export const logExpiresAt = (now: Date) => Math.floor(now.getTime() / 1000) + KEEP_SECONDS;

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A message id (`webhook-id`) ordered by when it happened and fixed by what happened: the ULID
 * time of `at`, then 80 bits of the hash of `parts`. Redeliveries keep it, as the spec asks.
 */
export function eventIdFor(at: Date, ...parts: string[]): string {
  const bits = [...Buffer.from(fingerprint(...parts), 'hex')].map((b) => b.toString(2).padStart(8, '0')).join('');
  return `msg_${encodeTime(at.getTime(), 10)}${Array.from({ length: 16 }, (_, i) => CROCKFORD[parseInt(bits.slice(i * 5, i * 5 + 5), 2)]).join('')}`;
}

/** A one-off id (the test event). */
export const newEventId = () => `msg_${ulid()}`;

/** A delivery is named after its event: one per event and endpoint. */
export const deliveryIdOf = (eventId: string) => `dlv_${eventId.slice(4)}`;
export const eventIdOf = (deliveryId: string) => `msg_${deliveryId.slice(4)}`;

export interface WebhookEvent {
  eventId: string;
  agencyId: string;
  type: WebhookEventType | 'webhook.test';
  timestamp: string;
  data: Record<string, unknown>;
}

/** The JSON every delivery of an event sends, byte for byte (the signature covers these bytes). */
export const eventBody = (event: WebhookEvent): string => JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data });

/** Whether the body fits; a caller with rows swaps them for a link when it does not. */
export const fitsPayload = (event: WebhookEvent) => Buffer.byteLength(eventBody(event)) <= MAX_PAYLOAD_BYTES;

/**
 * The outbox write of an event, to go in the domain's own write: none when no enabled endpoint of
 * the agency takes its type (one small query; an endpoint created meanwhile misses this event).
 */
export async function webhookOutbox(db: Db, event: WebhookEvent): Promise<TransactItems> {
  if (!(await wanted(db, event.agencyId, event.type))) return [];
  return [{ Put: { TableName: db.table, Item: outboxItem(event) } }];
}

/** Whether an enabled endpoint of the agency takes `type`: checked before building a payload. */
export async function wanted(db: Db, agencyId: string, type: WebhookEvent['type']): Promise<boolean> {
  const { Items = [] } = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :hook)',
      ExpressionAttributeValues: { ':pk': keys.agency(agencyId).PK, ':hook': 'HOOK#' },
      ProjectionExpression: 'enabled, events',
    }),
  );
  return Items.some((hook) => hook.enabled === true && (hook.events as string[]).includes(type));
}

const outboxItem = (event: WebhookEvent) => ({
  ...keys.webhookEvent(event.eventId),
  ...keys.webhookDue(`EVT#${event.eventId}`, event.timestamp),
  type: 'webhookEvent',
  eventId: event.eventId,
  agencyId: event.agencyId,
  eventType: event.type,
  body: eventBody(event),
  expiresAt: logExpiresAt(new Date(event.timestamp)),
});

/** Writes an event on its own, where the domain's write is done already and its retry re-emits (see callers). */
export async function emitWebhookEvent(db: Db, event: WebhookEvent): Promise<void> {
  for (const item of await webhookOutbox(db, event)) await db.doc.send(new PutCommand(item.Put!));
}

/** A delivery's attempt, as the deliveries log shows it. */
export interface DeliveryAttempt {
  at: string;
  /** The endpoint's HTTP status; null when there was none (refused, timed out, unreachable). */
  statusCode: number | null;
  /** Why it did not count: a status other than 2xx, a timeout, a refused address. Null on success. */
  error: string | null;
}

export interface WebhookDelivery {
  deliveryId: string;
  webhookId: string;
  agencyId: string;
  eventId: string;
  eventType: WebhookEvent['type'];
  /** `pending`: an attempt is due at `nextAttemptAt`; `delivering`: one is under way. */
  status: 'pending' | 'delivering' | 'succeeded' | 'failed';
  attempts: DeliveryAttempt[];
  nextAttemptAt: string | null;
  createdAt: string;
  body: string;
  /** Attempts made before the last redelivery: the retry schedule counts from there. */
  retriesFrom?: number;
}

/** A new delivery's item: due now, in the due index. */
export function deliveryItem(webhookId: string, agencyId: string, eventId: string, eventType: WebhookEvent['type'], body: string, now: Date) {
  const deliveryId = deliveryIdOf(eventId);
  const delivery: WebhookDelivery = { deliveryId, webhookId, agencyId, eventId, eventType, status: 'pending', attempts: [], nextAttemptAt: iso(now), createdAt: iso(now), body };
  return { ...keys.webhookDelivery(webhookId, deliveryId), ...keys.webhookDue(dueRef(webhookId, deliveryId), iso(now)), type: 'webhookDelivery', ...delivery, expiresAt: logExpiresAt(now) };
}

export const dueRef = (webhookId: string, deliveryId: string) => `DLV#${webhookId}#${deliveryId}`;

/**
 * Fans one outbox event out: a delivery per enabled endpoint taking its type (conditional on
 * being absent, so a second fan-out adds none), then the event goes. Returns the jobs to queue.
 */
async function fanOut(db: Db, item: Record<string, unknown>, now: Date) {
  const eventId = item.eventId as string;
  const type = item.eventType as WebhookEvent['type'];
  const hooks = (await agencyWebhooks(db, item.agencyId as string)).filter((h) => h.enabled && (h.events as string[]).includes(type));
  const jobs: { kind: 'webhook'; webhookId: string; deliveryId: string }[] = [];
  for (const hook of hooks) {
    try {
      await db.doc.send(
        new PutCommand({ TableName: db.table, Item: deliveryItem(hook.webhookId, hook.agencyId, eventId, type, item.body as string, now), ConditionExpression: 'attribute_not_exists(PK)' }),
      );
      jobs.push({ kind: 'webhook', webhookId: hook.webhookId, deliveryId: deliveryIdOf(eventId) });
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }
  // The body as read may predate an erasure's rewrite of the event (`redactWebhookBodies`), whose
  // look at the deliveries came before these were written. It rewrites events before deliveries,
  // so read after them, the event shows any such rewrite: the deliveries get its body.
  const { Item: current } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.webhookEvent(eventId), ConsistentRead: true }));
  if (current && current.body !== item.body) {
    for (const job of jobs) {
      await db.doc
        .send(
          new UpdateCommand({
            TableName: db.table,
            Key: keys.webhookDelivery(job.webhookId, job.deliveryId),
            UpdateExpression: 'SET body = :body',
            ConditionExpression: 'attribute_exists(PK)',
            ExpressionAttributeValues: { ':body': current.body },
          }),
        )
        .catch((error) => {
          if (!isConditionFailed(error)) throw error;
        });
    }
  }
  await db.doc.send(new DeleteCommand({ TableName: db.table, Key: keys.webhookEvent(eventId) }));
  return jobs;
}

/**
 * Fans out the events among the items written (their keys, as the table's stream tells of them on
 * AWS: the jobs function's stream handler): each read again first, so one the sweep fanned out
 * already (and deleted) is left alone, and the body is the event's current one (an erasure may
 * have rewritten it since). Keys of other items are ignored. Returns how many were fanned out.
 */
export async function fanOutEvents(db: Db, queue: JobQueue, written: readonly { PK?: string | undefined; SK?: string | undefined }[], now: Date): Promise<number> {
  const events = new Set(written.filter((k) => k.PK?.startsWith(tableDefinition.webhookEventPrefix) && k.SK === keys.webhookEvent('').SK).map((k) => k.PK!));
  let fannedOut = 0;
  await mapConcurrent([...events], 4, async (PK) => {
    const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: { PK, SK: keys.webhookEvent('').SK }, ConsistentRead: true }));
    if (!Item) return;
    const jobs = await fanOut(db, Item, now);
    if (jobs.length > 0) await queue.enqueue(jobs);
    fannedOut++;
  });
  return fannedOut;
}

/**
 * The scheduled job's part: fans out the events written since (on AWS the table's stream has
 * done so already, `fanOutEvents`: this catches any it missed), and queues the deliveries whose
 * next attempt is due or comes before the next run (`aheadMs`, the time between runs: queued to
 * run at their time, `enqueueAt`), or whose attempt was cut off (its lease ran out). A delivery
 * queued twice is attempted once (`attemptDelivery` claims it).
 */
export async function sweepWebhooks(db: Db, queue: JobQueue, now: Date, aheadMs = 0): Promise<{ eventsFannedOut: number; deliveriesQueued: number }> {
  let eventsFannedOut = 0;
  let deliveriesQueued = 0;
  await mapConcurrent(WEBHOOK_DUE_PARTITIONS, 4, async (partition) => {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await db.doc.send(
        new QueryCommand({
          TableName: db.table,
          IndexName: 'GSI1',
          KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK <= :until',
          ExpressionAttributeValues: { ':pk': partition, ':until': `${iso(new Date(now.getTime() + aheadMs))}~` },
          ExclusiveStartKey: start,
        }),
      );
      const jobs: SendJob[] = [];
      for (const item of page.Items ?? []) {
        if (item.type === 'webhookEvent') {
          jobs.push(...(await fanOut(db, item, now)));
          eventsFannedOut++;
        } else if (item.type === 'webhookDelivery') {
          const job = { kind: 'webhook' as const, webhookId: item.webhookId as string, deliveryId: item.deliveryId as string };
          // The due index's sort key starts with the time it is due at.
          const at = (item.GSI1SK as string).slice(0, iso(now).length);
          if (at <= iso(now)) jobs.push(job);
          else {
            await enqueueAt(queue, [job], at, now);
            deliveriesQueued++;
          }
        }
      }
      if (jobs.length > 0) await queue.enqueue(jobs);
      deliveriesQueued += jobs.length;
      start = page.LastEvaluatedKey;
    } while (start);
  });
  return { eventsFannedOut, deliveriesQueued };
}
