import { afterAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createAgency, createWebhook, deliveryIdOf, emitWebhookEvent, ensureTable, eventIdFor, keys, type SendJob } from '@rapport/core';
import { collectingQueue, isolatedTestDeps } from '@rapport/testing';
import { webhookStreamReader } from './webhook-stream';

/** A table of its own, given the keys-only stream the local runner gives its table (as AWS has). */
const deps = await isolatedTestDeps();
const queue = collectingQueue();
const reader = webhookStreamReader({ db: deps.db, queue, config: deps.config, now: () => new Date() });
afterAll(() => {
  reader.close();
  deps.db.client.destroy();
});

describe('the local webhook stream (DynamoDB Local, keys-only stream)', () => {
  it('fans a new event out from the table stream at the next read, once; what came before the first read is left to the sweep', async () => {
    expect(await ensureTable(deps.db.client, deps.db.table, { stream: true })).toBe('migrated');
    expect(await ensureTable(deps.db.client, deps.db.table, { stream: true })).toBe('unchanged');
    const now = new Date();
    const agency = await createAgency(deps.db, { name: 'Local stream' }, now);
    const { webhook } = await createWebhook(deps.db, agency.agencyId, { url: 'https://hooks.example/rapport', events: ['round.closed'] }, now, { allowLoopback: false });
    const event = (tag: string) => ({ eventId: eventIdFor(now, tag, agency.agencyId), agencyId: agency.agencyId, type: 'round.closed' as const, timestamp: now.toISOString(), data: { surveyId: `srv_${tag}` } });
    const before = event('before');
    await emitWebhookEvent(deps.db, before);

    expect(await reader.read()).toBe(0);
    const after = event('after');
    await emitWebhookEvent(deps.db, after);
    expect(await reader.read()).toBe(1);
    expect(queue.jobs).toEqual([{ kind: 'webhook', webhookId: webhook.webhookId, deliveryId: deliveryIdOf(after.eventId) } satisfies SendJob]);
    const item = async (key: { PK: string; SK: string }) => (await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: key, ConsistentRead: true }))).Item;
    expect(await item(keys.webhookEvent(after.eventId))).toBeUndefined();
    expect(await item(keys.webhookDelivery(webhook.webhookId, deliveryIdOf(after.eventId)))).toMatchObject({ status: 'pending' });
    // The event's removal and the delivery's write are records too: nothing more is fanned out.
    expect(await reader.read()).toBe(0);
    expect(queue.jobs).toHaveLength(1);
    // Written before the first read: still in the outbox, for the scheduled job's sweep.
    expect(await item(keys.webhookEvent(before.eventId))).toMatchObject({ eventId: before.eventId });
  });
});
