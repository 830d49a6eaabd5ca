import { Hono } from 'hono';
import * as v from 'valibot';
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listDeliveries,
  listWebhooks,
  redeliver,
  sendTestEvent,
  updateWebhook,
  MAX_WEBHOOKS,
  WEBHOOK_EVENT_TYPES,
  WebhookInputSchema,
  WebhookPatchSchema,
  type DeliveryView,
  type Webhook,
} from '@rapport/core';
import type { Deps } from '../../deps';
import type { ApiEnv } from '../env';
import { requireRole } from '../auth';
import { idempotent } from '../idempotency';
import { validate } from '../validate';
import { doc } from '../route-docs';
import { named, PageQuery, Timestamp, pageBody, pageOf } from '../schemas';
import { deliveryExample, pageExample, webhookExample, webhookInputExample, webhookPatchExample, webhookWithSecretExample } from '../examples';

const tags = ['Webhooks'];
const present = ({ agencyId: _agencyId, ...hook }: Webhook) => hook;

const WebhookFields = {
  webhookId: v.string(),
  url: v.string(),
  events: v.array(v.picklist(WEBHOOK_EVENT_TYPES)),
  description: v.string(),
  enabled: v.boolean(),
  disabledReason: v.pipe(v.nullable(v.string()), v.description('Why it is disabled: by an admin, a 410 answer, or failing through the whole retry schedule (about 3 days).')),
  disabledAt: v.nullable(Timestamp),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  previousSecretExpiresAt: v.pipe(v.nullable(Timestamp), v.description('Until then the secret before the last rotation signs too (a second `v1,` signature).')),
};
const WebhookOut = named('Webhook', v.object(WebhookFields));
const WithSecretOut = named('WebhookWithSecret', v.object({
  ...WebhookFields,
  secret: v.pipe(v.nullable(v.string()), v.description('The `whsec_` signing secret: shown only when created or rotated; store it now. `null` otherwise, and in an idempotent replay.')),
}));
const DeliveryOut = named('WebhookDelivery', v.object({
  deliveryId: v.string(),
  webhookId: v.string(),
  eventId: v.pipe(v.string(), v.description('The `webhook-id` header: the same on every attempt and redelivery.')),
  eventType: v.string(),
  status: v.picklist(['pending', 'delivering', 'succeeded', 'failed']),
  attempts: v.array(v.object({ at: Timestamp, statusCode: v.nullable(v.number()), error: v.nullable(v.string()) })),
  lastStatusCode: v.nullable(v.number()),
  nextAttemptAt: v.nullable(Timestamp),
  createdAt: Timestamp,
}));

const webhookId = v.pipe(v.string(), v.description('The webhook\'s id (`whk_…`), as `POST /v1/webhooks` answered it.'));
const IdParam = v.object({ webhookId });
const withoutSecret = (body: string) => JSON.stringify({ ...JSON.parse(body), secret: null });
const EVENTS_DOC = `Events: ${WEBHOOK_EVENT_TYPES.map((t) => `\`${t}\``).join(', ')}.`;

/** Webhook endpoints and their deliveries (DESIGN-NOTES "Webhooks"). */
export const webhookRoutes = ({ db, now, queue, config }: Deps) => {
  const options = { allowLoopback: config.webhooksAllowLoopback };
  const queueDelivery = (d: DeliveryView) => queue.enqueue([{ kind: 'webhook', webhookId: d.webhookId, deliveryId: d.deliveryId }]);
  return new Hono<ApiEnv>()
    .use(requireRole('admin'))
    .post(
      '/',
      doc({
        summary: 'Create a webhook',
        description: `Events are POSTed to \`url\` per Standard Webhooks 1.0, signed with the secret answered here once (\`webhook-id\`, \`webhook-timestamp\`, \`webhook-signature\`). The URL must be https, carry no user name or password, and not point at a private, loopback, link-local or metadata address; the host is resolved again at each delivery and refused then too. ${EVENTS_DOC} At most ${MAX_WEBHOOKS} webhooks per agency (409 past that).`,
        tags,
        role: 'admin',
        idempotent: true,
        ok: [201, WithSecretOut, 'The new webhook, with its secret'],
        example: webhookWithSecretExample,
        location: 'The new webhook: `/v1/webhooks/{webhookId}`.',
        problems: ['conflict'],
      }),
      idempotent(db, now, withoutSecret),
      validate('json', named('WebhookInput', WebhookInputSchema), webhookInputExample),
      async (c) => {
        const { webhook, secret } = await createWebhook(db, c.get('principal').agencyId, c.req.valid('json'), now(), options);
        c.header('Location', `/v1/webhooks/${webhook.webhookId}`);
        return c.json({ ...present(webhook), secret }, 201);
      },
    )
    .get(
      '/',
      doc({ summary: 'List webhooks', tags, role: 'admin', ok: [200, pageOf(WebhookOut), 'A page of webhooks, without secrets'], example: pageExample(webhookExample) }),
      validate('query', PageQuery),
      async (c) => c.json(pageBody(await listWebhooks(db, c.get('principal').agencyId, c.req.valid('query')), present)),
    )
    .get(
      '/:webhookId',
      doc({ summary: 'Get a webhook', tags, role: 'admin', ok: [200, WebhookOut, 'The webhook, without its secret'], example: webhookExample, problems: ['not-found'] }),
      validate('param', IdParam),
      async (c) => c.json(present(await getWebhook(db, c.get('principal').agencyId, c.req.valid('param').webhookId))),
    )
    .patch(
      '/:webhookId',
      doc({
        summary: 'Change a webhook',
        description:
          'Any of `url`, `events`, `description`, `enabled`. `enabled: true` re-enables a disabled one. `rotateSecret: true` makes a new secret, answered once; the old one keeps signing beside it for 24 hours, so receivers can switch without missing a delivery.',
        tags,
        role: 'admin',
        ok: [200, WithSecretOut, 'The webhook; `secret` only after a rotation'],
        example: { ...webhookWithSecretExample, previousSecretExpiresAt: '2026-11-25T09:00:00.000Z' },
        problems: ['not-found', 'conflict'],
      }),
      validate('param', IdParam),
      validate('json', named('WebhookPatch', WebhookPatchSchema), webhookPatchExample),
      async (c) => {
        const { webhook, secret } = await updateWebhook(db, c.get('principal').agencyId, c.req.valid('param').webhookId, c.req.valid('json'), now(), options);
        return c.json({ ...present(webhook), secret });
      },
    )
    .delete(
      '/:webhookId',
      doc({ summary: 'Delete a webhook', description: 'Deliveries not yet made are dropped.', tags, role: 'admin', ok: [204, null, 'Deleted'], problems: ['not-found'] }),
      validate('param', IdParam),
      async (c) => {
        await deleteWebhook(db, c.get('principal').agencyId, c.req.valid('param').webhookId, now());
        return c.body(null, 204);
      },
    )
    .get(
      '/:webhookId/deliveries',
      doc({
        summary: "List a webhook's deliveries",
        description: 'Newest first, each with its attempts (time, HTTP status, why it did not count) and the next attempt due. Kept 30 days.',
        tags,
        role: 'admin',
        ok: [200, pageOf(DeliveryOut), 'A page of deliveries'],
        example: pageExample(deliveryExample),
        problems: ['not-found'],
      }),
      validate('param', IdParam),
      validate('query', PageQuery),
      async (c) => c.json(pageBody(await listDeliveries(db, c.get('principal').agencyId, c.req.valid('param').webhookId, c.req.valid('query')), (d) => d)),
    )
    .post(
      '/:webhookId/deliveries/:deliveryId/redeliver',
      doc({
        summary: 'Redeliver',
        description: 'Sends a delivery again now, with the same `webhook-id`, and its retry schedule starts over. One pending or under way is answered as it is.',
        tags,
        role: 'admin',
        ok: [202, DeliveryOut, 'The delivery, queued'],
        example: deliveryExample,
        problems: ['not-found', 'conflict'],
      }),
      validate('param', v.object({ webhookId, deliveryId: v.pipe(v.string(), v.description('The delivery\'s id (`dlv_…`), from `GET /v1/webhooks/{webhookId}/deliveries`.')) })),
      async (c) => {
        const { webhookId, deliveryId } = c.req.valid('param');
        const delivery = await redeliver(db, c.get('principal').agencyId, webhookId, deliveryId, now());
        await queueDelivery(delivery);
        return c.json(delivery, 202);
      },
    )
    .post(
      '/:webhookId/test',
      doc({
        summary: 'Send a test event',
        description: 'A `webhook.test` event (`data.webhookId`), delivered and retried like any other, whatever the event types the webhook takes.',
        tags,
        role: 'admin',
        ok: [202, DeliveryOut, 'The delivery, queued'],
        example: { ...deliveryExample, eventType: 'webhook.test', attempts: [], lastStatusCode: null, nextAttemptAt: '2026-11-24T09:00:00.000Z' },
        problems: ['not-found', 'conflict'],
      }),
      validate('param', IdParam),
      async (c) => {
        const delivery = await sendTestEvent(db, c.get('principal').agencyId, c.req.valid('param').webhookId, now());
        await queueDelivery(delivery);
        return c.json(delivery, 202);
      },
    );
};
