import { afterAll, describe, expect, it } from 'vitest';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
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

  it("takes a new iterator after the last record read when its own expired (stub: the engine's 15 minutes passed, as a laptop asleep or a paused debugger leaves them), so events go out from the stream again", async () => {
    await ensureTable(deps.db.client, deps.db.table, { stream: true });
    const streams = new DynamoDBStreamsClient({ region: deps.config.region, endpoint: deps.config.dynamoEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    // DynamoDB Local's iterator ends with its creation time (ms): dated 16 minutes back, the engine refuses it as expired.
    let asleep = false;
    const aged = (iterator: string) => {
      const [arn, version, inner] = iterator.split('|');
      const [shard, sequence, at] = Buffer.from(inner!, 'base64').toString().split('|');
      return [arn, version, Buffer.from([shard, sequence, String(Number(at) - 16 * 60_000).padStart(at!.length, '0')].join('|')).toString('base64')].join('|');
    };
    streams.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const output = result.output as { NextShardIterator?: string };
        if (asleep && context.commandName === 'GetRecordsCommand' && output.NextShardIterator) output.NextShardIterator = aged(output.NextShardIterator);
        return result;
      },
      { step: 'initialize' },
    );
    const ownQueue = collectingQueue();
    const sleeper = webhookStreamReader({ db: deps.db, queue: ownQueue, config: deps.config, now: () => new Date(), streams });
    const now = new Date();
    const agency = await createAgency(deps.db, { name: 'Asleep' }, now);
    const { webhook } = await createWebhook(deps.db, agency.agencyId, { url: 'https://hooks.example/rapport', events: ['round.closed'] }, now, { allowLoopback: false });
    const event = (tag: string) => ({ eventId: eventIdFor(now, tag, agency.agencyId), agencyId: agency.agencyId, type: 'round.closed' as const, timestamp: now.toISOString(), data: { surveyId: `srv_${tag}` } });
    expect(await sleeper.read()).toBe(0);
    const early = event('early');
    await emitWebhookEvent(deps.db, early);
    expect(await sleeper.read()).toBe(1);
    asleep = true;
    expect(await sleeper.read()).toBe(0);
    asleep = false;
    const during = event('during');
    await emitWebhookEvent(deps.db, during);
    // The expired iterator is dropped (not an error to log twice a second): the next read takes a new one.
    expect(await sleeper.read()).toBe(0);
    expect(await sleeper.read()).toBe(1);
    expect(ownQueue.jobs).toEqual([early, during].map((e) => ({ kind: 'webhook', webhookId: webhook.webhookId, deliveryId: deliveryIdOf(e.eventId) }) satisfies SendJob));
    sleeper.close();
  });

  it('reads on from the oldest record kept when the engine trimmed the records after its last one (stub: DynamoDB Local refuses the read once as trimmed), so events go out from the stream again', async () => {
    await ensureTable(deps.db.client, deps.db.table, { stream: true });
    const streams = new DynamoDBStreamsClient({ region: deps.config.region, endpoint: deps.config.dynamoEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    let trimmed = false;
    streams.middlewareStack.add(
      (next, context) => async (args) => {
        if (trimmed && context.commandName === 'GetRecordsCommand') {
          trimmed = false;
          throw Object.assign(new Error('The operation attempted to read past the oldest stream record in a shard.'), { name: 'TrimmedDataAccessException' });
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    const ownQueue = collectingQueue();
    const reader = webhookStreamReader({ db: deps.db, queue: ownQueue, config: deps.config, now: () => new Date(), streams });
    const now = new Date();
    const agency = await createAgency(deps.db, { name: 'Trimmed' }, now);
    const { webhook } = await createWebhook(deps.db, agency.agencyId, { url: 'https://hooks.example/rapport', events: ['round.closed'] }, now, { allowLoopback: false });
    const event = (tag: string) => ({ eventId: eventIdFor(now, tag, agency.agencyId), agencyId: agency.agencyId, type: 'round.closed' as const, timestamp: now.toISOString(), data: { surveyId: `srv_${tag}` } });
    expect(await reader.read()).toBe(0);
    trimmed = true;
    expect(await reader.read()).toBe(0);
    const after = event('after');
    await emitWebhookEvent(deps.db, after);
    // From the oldest record kept: the new event is among what it reads. Earlier events of the
    // table may be fanned out again with it, which queues their deliveries once more (each is attempted once).
    expect(await reader.read()).toBeGreaterThanOrEqual(1);
    expect(ownQueue.jobs).toContainEqual({ kind: 'webhook', webhookId: webhook.webhookId, deliveryId: deliveryIdOf(after.eventId) } satisfies SendJob);
    expect(ownQueue.jobs.filter((job) => job.kind === 'webhook' && job.webhookId === webhook.webhookId)).toHaveLength(1);
    reader.close();
  });
});
