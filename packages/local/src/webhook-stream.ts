import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { fanOutEvents, insertedKeys, type Config, type Db, type JobQueue } from '@rapport/core';

/**
 * One read of the table's keys-only stream on DynamoDB Local, as Lambda reads it on AWS
 * (`infra/jobs.ts`): the new webhook events among the records are fanned out at once, not at the
 * next run of the scheduled job (which still sweeps up any this misses). Shards open at the first
 * read are read from their latest record (what came before is the sweep's); shards that open
 * later, from their first. Call it again and again (the local runner: every half second).
 */
export function webhookStreamReader({ db, queue, config, now }: { db: Db; queue: JobQueue; config: Pick<Config, 'region' | 'dynamoEndpoint'>; now: () => Date }) {
  const streams = new DynamoDBStreamsClient({
    region: config.region,
    ...(config.dynamoEndpoint ? { endpoint: config.dynamoEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  /** The next iterator of each shard still open; null once it closed. */
  const iterators = new Map<string, string | null>();
  let streamArn: string | undefined;
  let first = true;

  async function read(): Promise<number> {
    streamArn ??= (await db.client.send(new DescribeTableCommand({ TableName: db.table }))).Table?.LatestStreamArn;
    if (!streamArn) return 0;
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    for (const shard of StreamDescription?.Shards ?? []) {
      if (iterators.has(shard.ShardId!)) continue;
      const type = first ? 'LATEST' : 'TRIM_HORIZON';
      iterators.set(shard.ShardId!, (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: type }))).ShardIterator ?? null);
    }
    first = false;
    let fannedOut = 0;
    for (const [shardId, iterator] of iterators) {
      if (iterator === null) continue;
      const { Records = [], NextShardIterator } = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      iterators.set(shardId, NextShardIterator ?? null);
      if (Records.length > 0) fannedOut += await fanOutEvents(db, queue, insertedKeys(Records), now());
    }
    return fannedOut;
  }
  return { read, close: () => streams.destroy() };
}
