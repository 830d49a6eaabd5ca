import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { fanOutEvents, insertedKeys, type Config, type Db, type JobQueue } from '@rapport/core';

/**
 * One read of the table's keys-only stream on DynamoDB Local, as Lambda reads it on AWS
 * (`infra/jobs.ts`): the new webhook events among the records are fanned out at once, not at the
 * next run of the scheduled job (which still sweeps up any this misses). Shards open at the first
 * read are read from their latest record (what came before is the sweep's); shards that open
 * later, from their first; an expired iterator is replaced by one after the last record read, and
 * one past records the engine trimmed by one from the oldest record kept.
 * Call it again and again (the local runner: every half second).
 */
export function webhookStreamReader({
  db,
  queue,
  config,
  now,
  // A test gives its own, to age its iterators.
  streams = new DynamoDBStreamsClient({
    region: config.region,
    ...(config.dynamoEndpoint ? { endpoint: config.dynamoEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  }),
}: { db: Db; queue: JobQueue; config: Pick<Config, 'region' | 'dynamoEndpoint'>; now: () => Date; streams?: DynamoDBStreamsClient }) {
  /**
   * Each shard's next iterator (null once it closed; undefined to take a new one) and the last
   * record read from it: an iterator lasts 15 minutes, which a laptop asleep or a paused debugger
   * outlasts, and a new one starts after that record.
   */
  const shards = new Map<string, { iterator?: string | null; last?: string }>();
  let streamArn: string | undefined;
  let first = true;

  async function read(): Promise<number> {
    streamArn ??= (await db.client.send(new DescribeTableCommand({ TableName: db.table }))).Table?.LatestStreamArn;
    if (!streamArn) return 0;
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    for (const { ShardId } of StreamDescription?.Shards ?? []) {
      const shard = shards.get(ShardId!) ?? {};
      if (shard.iterator !== undefined) continue;
      const from = shard.last ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, SequenceNumber: shard.last } : { ShardIteratorType: first ? ('LATEST' as const) : ('TRIM_HORIZON' as const) };
      shards.set(ShardId!, { ...shard, iterator: (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: ShardId!, ...from }))).ShardIterator ?? null });
    }
    first = false;
    let fannedOut = 0;
    for (const [shardId, shard] of shards) {
      if (!shard.iterator) continue;
      let page;
      try {
        page = await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator }));
      } catch (error) {
        const name = (error as Error).name;
        if (name === 'ExpiredIteratorException') shards.set(shardId, { last: shard.last });
        // The records after the last one read are gone (the engine trimmed them): read on from the
        // oldest kept; what was trimmed is the scheduled job's sweep's.
        else if (name === 'TrimmedDataAccessException') shards.set(shardId, {});
        else throw error;
        continue;
      }
      const { Records = [], NextShardIterator } = page;
      shards.set(shardId, { iterator: NextShardIterator ?? null, last: Records.at(-1)?.dynamodb?.SequenceNumber ?? shard.last });
      if (Records.length > 0) fannedOut += await fanOutEvents(db, queue, insertedKeys(Records), now());
    }
    return fannedOut;
  }
  return { read, close: () => streams.destroy() };
}
