/**
 * Helpers on the table itself, for tests and benchmarks (no vitest here: `bench/` imports it too):
 * metering what a piece of code costs in DynamoDB calls and capacity, and seeding many pros at once.
 */
import { randomBytes } from 'node:crypto';
import { BatchWriteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { closeRound, createAgency, createCampaign, createPro, createRound, keys, mapConcurrent, type Db } from '@rapport/core';

/**
 * Counts the calls made through `db`, and the capacity DynamoDB reports for them: each request asks
 * for `ReturnConsumedCapacity: TOTAL` and the units of the answers are added up. DynamoDB Local
 * reports them like the service (except that it counts a transactional write as 1 unit per item,
 * where the service charges 2).
 */
export function meterCapacity(db: Db) {
  let units = 0;
  let readUnits = 0;
  let calls = 0;
  db.client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { ReturnConsumedCapacity?: string };
      input.ReturnConsumedCapacity ??= 'TOTAL';
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }).ConsumedCapacity;
      const read = /^(Get|BatchGet|Query|Scan)/.test(context.commandName ?? '');
      for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
        units += c.CapacityUnits ?? 0;
        if (read) readUnits += c.CapacityUnits ?? 0;
      }
      calls++;
      return result;
    },
    { step: 'initialize', name: 'meterCapacity' },
  );
  return {
    /** Units (read units of the reads among them) and calls since the last reset. */
    read: () => ({ units, readUnits, calls }),
    reset: () => {
      units = 0;
      readUnits = 0;
      calls = 0;
    },
  };
}

/**
 * `count` pros of an agency written straight to the table (BatchWriteItem, 25 a call), as
 * `createPro` stores them, less its email-uniqueness claims: for tests and benchmarks of jobs over
 * many pros, where creating them one transaction at a time would take most of the run.
 */
export async function putPros(db: Db, agencyId: string, count: number, at: Date, tag = agencyId): Promise<string[]> {
  const createdAt = at.toISOString();
  const pros = Array.from({ length: count }, (_, i) => {
    const proId = `pro_${tag.replace(/[^a-zA-Z0-9]/g, '').slice(-12)}${String(i).padStart(6, '0')}`;
    return { ...keys.pro(agencyId, proId), type: 'pro', proId, agencyId, name: `Pro ${i}`, email: `pro${i}-${tag}@bulk.example`, createdAt, updatedAt: createdAt };
  });
  await writeAll(db, pros);
  return pros.map((p) => p.proId);
}

/**
 * A table as the periodic jobs find it between two busy moments: `agencies` agencies of
 * `prosPerAgency` pros each (one created as the API does, the rest with `putPros`), and for each a
 * campaign with a round open at `at` (3 recipients queued, its close 14 days on) and a closed round.
 * Nothing is due in the 15 minutes after `at` (the queued sends' leases run until then): what the
 * rounds leave in the due indexes is there, not yet due. The first agency is written through the
 * real write path; the others are its items with every id replaced by a fresh one, written with
 * BatchWriteItem (1,000 agencies in seconds, not minutes). The table must hold nothing else: the
 * first agency's items are read back with a Scan. For tests and benchmarks of idle jobs.
 */
export async function seedAgencies(db: Db, { agencies, prosPerAgency, at }: { agencies: number; prosPerAgency: number; at: Date }): Promise<void> {
  const { agencyId } = await createAgency(db, { name: 'Seeded' }, at);
  const { proId } = await createPro(db, agencyId, { name: 'Pro', email: `pro-${agencyId}@seed.example`.toLowerCase() }, at);
  await putPros(db, agencyId, prosPerAgency - 1, at);
  const { campaignId } = await createCampaign(db, agencyId, { proId, name: 'Seeded' }, at);
  const recipients = (round: string) => ['reporter', 'colleague', 'client'].map((audience) => ({ email: `${audience}-${round}-${agencyId}@seed.example`.toLowerCase(), audience }));
  const closed = await createRound(db, agencyId, campaignId, { recipients: recipients('closed') }, at);
  await closeRound(db, closed.round.roundId, at);
  await createRound(db, agencyId, campaignId, { recipients: recipients('open') }, at);
  if (agencies === 1) return;

  const template: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(new ScanCommand({ TableName: db.table, ExclusiveStartKey: start }));
    template.push(...(page.Items ?? []).map((item) => JSON.stringify(item)));
    start = page.LastEvaluatedKey;
  } while (start);
  // Ids as `newId` makes them (in keys, attributes, and lower-cased in addresses).
  const ids = /\b(ag|pro|cmp|key|rnd|inv|cmt|mbr|whk|msg|dlv|era)_([0-9A-HJKMNP-TV-Z]{26})\b/gi;
  const clone = () => {
    const fresh = new Map<string, string>();
    return template.map((json) =>
      JSON.parse(
        json.replace(ids, (_, prefix: string, body: string) => {
          const id = `${prefix}_${body.toUpperCase()}`;
          if (!fresh.has(id)) fresh.set(id, `${prefix}_${Array.from(randomBytes(26), (b) => CROCKFORD[b % 32]).join('')}`);
          return body === body.toUpperCase() ? fresh.get(id)! : fresh.get(id)!.toLowerCase();
        }),
      ) as Record<string, unknown>,
    );
  };
  const items = Array.from({ length: agencies - 1 }, clone).flat();
  await writeAll(db, items);
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Puts items with BatchWriteItem, 25 a call, 8 calls at once, until none is left unprocessed. */
async function writeAll(db: Db, items: Record<string, unknown>[]): Promise<void> {
  const chunks = Array.from({ length: Math.ceil(items.length / 25) }, (_, i) => items.slice(i * 25, i * 25 + 25));
  await mapConcurrent(chunks, 8, async (chunk) => {
    let pending: Record<string, unknown>[] = chunk.map((Item) => ({ PutRequest: { Item } }));
    while (pending.length > 0) {
      const { UnprocessedItems } = await db.doc.send(new BatchWriteCommand({ RequestItems: { [db.table]: pending } }));
      pending = (UnprocessedItems?.[db.table] as Record<string, unknown>[] | undefined) ?? [];
    }
  });
}
