import { randomBytes } from 'node:crypto';
import * as v from 'valibot';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { withoutKeys } from '../db/items';
import { failedConditions, isConditionFailed } from '../db/conditions';
import { queryPrefix, type PageRequest } from '../db/page';
import { ConflictError, NotFoundError } from '../shared/errors';
import { isId, newId } from '../shared/ids';
import { iso } from '../shared/time';
import { parseInput } from '../shared/validate';
import { maxChars } from '../shared/schemas';
import { checkWebhookUrl } from './address';
import { logExpiresAt } from './events';

/** The events an endpoint can take (`webhook.test` comes only from `POST …/test`, to any endpoint). */
export const WEBHOOK_EVENT_TYPES = [
  'round.closed',
  'responses.released',
  'response.created',
  'recipient.unsubscribed',
  'recipient.bounced',
  'recipient.complained',
  'summary.sent',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Endpoints an agency may hold: each event is sent once per endpoint, so this bounds the fan-out. */
export const MAX_WEBHOOKS = 20;
/** How long a rotated secret still signs, beside the new one (Standard Webhooks allows several signatures). */
export const SECRET_OVERLAP_MS = 24 * 3_600_000;

const Events = v.pipe(
  v.array(v.picklist(WEBHOOK_EVENT_TYPES, `must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}`)),
  v.minLength(1, 'must name at least one event type'),
  v.check((list) => new Set(list).size === list.length, 'must not repeat an event type'),
);
const Url = v.pipe(v.string('must be a string'), maxChars(2000));
const Description = v.pipe(v.string(), maxChars(200), v.trim());

export const WebhookInputSchema = v.strictObject({
  url: Url,
  events: Events,
  description: v.optional(Description, ''),
});

export const WebhookPatchSchema = v.pipe(
  v.strictObject({
    url: v.optional(Url),
    events: v.optional(Events),
    description: v.optional(Description),
    enabled: v.optional(v.boolean()),
    rotateSecret: v.optional(v.literal(true, 'must be true (or left out)')),
  }),
  v.check((patch) => Object.keys(patch).length > 0, 'must change at least one of url, events, description, enabled, rotateSecret'),
);

export interface Webhook {
  webhookId: string;
  agencyId: string;
  url: string;
  events: WebhookEventType[];
  description: string;
  enabled: boolean;
  /** Why it is disabled: by an admin, a 410 from the endpoint, or failing for the whole retry schedule. */
  disabledReason: string | null;
  disabledAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** Until when the secret before the last rotation still signs; null when there is none. */
  previousSecretExpiresAt: string | null;
}

/** The secrets, stored because signing needs them (unlike API keys, which are stored hashed); never answered after creation or rotation. */
interface Secrets {
  secret: string;
  previousSecret: string | null;
}
export type StoredWebhook = Webhook & Secrets;

const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

export const toWebhook = (item: object): Webhook => {
  const { secret: _s, previousSecret: _p, ...hook } = withoutKeys<StoredWebhook>(item as Record<string, unknown>);
  return hook;
};

/** The secrets that sign now: the current one, and the previous one during its 24 hours. */
export function signingSecrets(hook: StoredWebhook, now: Date): string[] {
  const previousValid = hook.previousSecret && hook.previousSecretExpiresAt && iso(now) < hook.previousSecretExpiresAt;
  return previousValid ? [hook.secret, hook.previousSecret!] : [hook.secret];
}

async function webhookCount(db: Db, agencyId: string): Promise<number> {
  const { Count = 0 } = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :hook)',
      ExpressionAttributeValues: { ':pk': keys.agency(agencyId).PK, ':hook': 'HOOK#' },
      Select: 'COUNT',
    }),
  );
  return Count;
}

export interface WebhookOptions {
  /** `WEBHOOKS_ALLOW_LOOPBACK`: the local runner's and tests' plain-http loopback receivers. */
  allowLoopback: boolean;
}

/** Creates an endpoint, enabled. The secret is answered here once (and on rotation), never by a read. */
export async function createWebhook(db: Db, agencyId: string, input: unknown, now: Date, options: WebhookOptions): Promise<{ webhook: Webhook; secret: string }> {
  const parsed = parseInput(WebhookInputSchema, input);
  const url = checkWebhookUrl(parsed.url, options);
  if ((await webhookCount(db, agencyId)) >= MAX_WEBHOOKS) {
    throw new ConflictError(`The agency has ${MAX_WEBHOOKS} webhooks, the most it may hold; delete one first`);
  }
  const secret = newSecret();
  const webhook: Webhook = {
    webhookId: newId('whk'),
    agencyId,
    url,
    events: parsed.events,
    description: parsed.description,
    enabled: true,
    disabledReason: null,
    disabledAt: null,
    createdAt: iso(now),
    updatedAt: iso(now),
    previousSecretExpiresAt: null,
  };
  await db.doc.send(
    new PutCommand({
      TableName: db.table,
      Item: { ...keys.webhook(agencyId, webhook.webhookId), type: 'webhook', ...webhook, secret, previousSecret: null },
      ConditionExpression: 'attribute_not_exists(PK)',
    }),
  );
  return { webhook, secret };
}

export async function getStoredWebhook(db: Db, agencyId: string, webhookId: string, consistent = false): Promise<StoredWebhook> {
  if (!isId('whk', webhookId)) throw new NotFoundError('webhook');
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.webhook(agencyId, webhookId), ConsistentRead: consistent }));
  if (!Item) throw new NotFoundError('webhook');
  return withoutKeys<StoredWebhook>(Item);
}

export const getWebhook = async (db: Db, agencyId: string, webhookId: string): Promise<Webhook> => toWebhook(await getStoredWebhook(db, agencyId, webhookId));

export const listWebhooks = (db: Db, agencyId: string, page: PageRequest) => queryPrefix(db, { partition: keys.agency(agencyId).PK, prefix: 'HOOK#' }, page, toWebhook);

/** Every endpoint of an agency, secrets included (at most `MAX_WEBHOOKS`): the fan-out's read. */
export async function agencyWebhooks(db: Db, agencyId: string): Promise<StoredWebhook[]> {
  const { Items = [] } = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :hook)',
      ExpressionAttributeValues: { ':pk': keys.agency(agencyId).PK, ':hook': 'HOOK#' },
    }),
  );
  return Items.map((item) => withoutKeys<StoredWebhook>(item));
}

/**
 * Changes an endpoint. Enabling clears the reason it was disabled; `rotateSecret` makes a new
 * secret (answered once) and keeps the old one signing for 24 hours, so receivers can switch
 * without dropping a delivery. Conditional on the record read (`updatedAt`): a concurrent change is a conflict.
 */
export async function updateWebhook(db: Db, agencyId: string, webhookId: string, input: unknown, now: Date, options: WebhookOptions): Promise<{ webhook: Webhook; secret: string | null }> {
  const patch = parseInput(WebhookPatchSchema, input);
  const stored = await getStoredWebhook(db, agencyId, webhookId, true);
  const next: StoredWebhook = { ...stored, updatedAt: iso(now) };
  if (patch.url !== undefined) next.url = checkWebhookUrl(patch.url, options);
  if (patch.events !== undefined) next.events = patch.events;
  if (patch.description !== undefined) next.description = patch.description;
  if (patch.enabled === true) Object.assign(next, { enabled: true, disabledReason: null, disabledAt: null });
  if (patch.enabled === false && stored.enabled) Object.assign(next, { enabled: false, disabledReason: 'Disabled by an admin', disabledAt: iso(now) });
  let secret: string | null = null;
  if (patch.rotateSecret) {
    secret = newSecret();
    Object.assign(next, { secret, previousSecret: stored.secret, previousSecretExpiresAt: iso(new Date(now.getTime() + SECRET_OVERLAP_MS)) });
  }
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: { ...keys.webhook(agencyId, webhookId), type: 'webhook', ...next },
        ConditionExpression: 'updatedAt = :read',
        ExpressionAttributeValues: { ':read': stored.updatedAt },
      }),
    );
  } catch (error) {
    if (isConditionFailed(error)) throw new ConflictError('The webhook changed or was deleted meanwhile; read it and try again');
    throw error;
  }
  return { webhook: toWebhook(next), secret };
}

/**
 * Deletes an endpoint; its deliveries not yet made are dropped (the worker finds it gone), its log
 * expires. A tombstone kept as long as that log lets an erasure still find the log's bodies.
 */
export async function deleteWebhook(db: Db, agencyId: string, webhookId: string, now: Date): Promise<void> {
  if (!isId('whk', webhookId)) throw new NotFoundError('webhook');
  try {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Delete: { TableName: db.table, Key: keys.webhook(agencyId, webhookId), ConditionExpression: 'attribute_exists(PK)' } },
          { Put: { TableName: db.table, Item: { ...keys.webhookGone(agencyId, webhookId), type: 'webhookGone', webhookId, expiresAt: logExpiresAt(now) } } },
        ],
      }),
    );
  } catch (error) {
    if (failedConditions(error)?.length) throw new NotFoundError('webhook');
    throw error;
  }
}

/**
 * Disables an endpoint the delivery worker gave up on (a 410, or failing for the whole schedule).
 * True only for the call that disabled it, so its admins are emailed once.
 */
export async function disableWebhook(db: Db, agencyId: string, webhookId: string, reason: string, now: Date): Promise<boolean> {
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.webhook(agencyId, webhookId),
        UpdateExpression: 'SET enabled = :no, disabledReason = :reason, disabledAt = :now, updatedAt = :now',
        ConditionExpression: 'enabled = :yes',
        ExpressionAttributeValues: { ':no': false, ':yes': true, ':reason': reason, ':now': iso(now) },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
}

