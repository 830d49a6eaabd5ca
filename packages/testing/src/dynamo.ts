/**
 * Helpers on the table itself, for tests and benchmarks (no vitest here: `bench/` imports it too):
 * metering what a piece of code costs in DynamoDB calls and capacity, and seeding many pros at once.
 */
import { randomBytes } from 'node:crypto';
import { BatchGetItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { closeRound, createAgency, createCampaign, createPro, createRound, keys, mapConcurrent, tableDefinition, type Db } from '@rapport/core';

/**
 * Counts the calls made through `db`, and the capacity DynamoDB reports for them: each request asks
 * for `ReturnConsumedCapacity: TOTAL` and the units of the answers are added up. DynamoDB Local
 * reports them like the service (except that it counts a transactional write as 1 unit per item,
 * where the service charges 2, and reports no index writes).
 *
 * With `{ writes: true }` it also computes the write units AWS would charge (`writeUnits`), from
 * each written item as it was before and after the call (read back, unmetered): see `writeCost`.
 * That doubles the calls behind each write, so it is for measuring, not for seeding.
 */
export function meterCapacity(db: Db, { writes = false }: { writes?: boolean } = {}) {
  const zero = () => ({ units: 0, readUnits: 0, calls: 0, writeUnits: 0, tableWriteUnits: 0, indexWriteUnits: 0, imagingMs: 0, commands: {} as Record<string, number>, writeUnitsByItem: {} as Record<string, number> });
  let m = zero();
  let paused = false;
  /** The meter's own reads of item images: neither counted nor imaged. */
  const own = new WeakSet<object>();
  db.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (own.has(args.input as object)) return next(args);
      const input = args.input as { ReturnConsumedCapacity?: string };
      input.ReturnConsumedCapacity ??= 'TOTAL';
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }).ConsumedCapacity;
      const read = /^(Get|BatchGet|Query|Scan|TransactGet)/.test(context.commandName ?? '');
      for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
        m.units += c.CapacityUnits ?? 0;
        if (read) m.readUnits += c.CapacityUnits ?? 0;
      }
      m.calls++;
      const name = (context.commandName ?? 'unknown').replace(/Command$/, '');
      m.commands[name] = (m.commands[name] ?? 0) + 1;
      return result;
    },
    { step: 'initialize', name: 'meterCapacity' },
  );
  if (writes) {
    // At the build step the document client's input is marshalled (attribute values), as the images are.
    const images = async (keys: Item[]): Promise<Map<string, Item>> => {
      const t0 = performance.now();
      const found = new Map<string, Item>();
      const unique = [...new Map(keys.map((k) => [keyString(k), k])).values()];
      for (let i = 0; i < unique.length; i += 100) {
        let request: Record<string, { Keys: Item[]; ConsistentRead: boolean }> | undefined = { [db.table]: { Keys: unique.slice(i, i + 100), ConsistentRead: true } };
        while (request && Object.keys(request).length > 0) {
          const command = new BatchGetItemCommand({ RequestItems: request });
          own.add(command.input);
          const out = await db.client.send(command);
          for (const item of out.Responses?.[db.table] ?? []) found.set(keyString(item), item);
          request = out.UnprocessedKeys as typeof request;
        }
      }
      m.imagingMs += performance.now() - t0;
      return found;
    };
    db.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (own.has(args.input as object) || paused) return next(args);
        const writes = writtenKeys(context.commandName ?? '', args.input as WriteInput);
        if (!writes) return next(args);
        const before = await images(writes.items.map((w) => w.key));
        let failed = false;
        try {
          return await next(args);
        } catch (error) {
          failed = true;
          throw error;
        } finally {
          const after = failed ? before : await images(writes.items.map((w) => w.key));
          for (const w of writes.items) {
            const cost = writeCost(before.get(keyString(w.key)), after.get(keyString(w.key)), { transactional: writes.transactional, conditionOnly: w.conditionOnly, failed });
            m.tableWriteUnits += cost.table;
            m.indexWriteUnits += cost.index;
            m.writeUnits += cost.table + cost.index;
            // By the item's `type` (a condition check and an index write named as such).
            const type = (after.get(keyString(w.key)) ?? before.get(keyString(w.key)))?.type?.S ?? 'item';
            const add = (name: string, units: number) => units && (m.writeUnitsByItem[name] = (m.writeUnitsByItem[name] ?? 0) + units);
            add(w.conditionOnly ? `${type} (check)` : type, cost.table);
            add(`${type} (indexes)`, cost.index);
          }
        }
      },
      { step: 'build', name: 'meterWriteUnits' },
    );
  }
  return {
    /**
     * Since the last reset: calls (and by command), the units DynamoDB reported (the read units among
     * them), and, metering writes, the write units AWS would charge (table and index, and by item type) and the time
     * spent reading the items' images (to take off a sequential operation's duration).
     */
    read: () => ({ ...m, commands: { ...m.commands }, writeUnitsByItem: { ...m.writeUnitsByItem } }),
    reset: () => {
      m = zero();
    },
    /** Stops (or resumes) computing write units, e.g. while timing an operation run again. */
    pauseWrites: (pause: boolean) => {
      paused = pause;
    },
  };
}

type Item = Record<string, AttributeValue>;
interface WriteInput {
  TableName?: string;
  Item?: Item;
  Key?: Item;
  TransactItems?: { Put?: { Item: Item }; Update?: { Key: Item }; Delete?: { Key: Item }; ConditionCheck?: { Key: Item } }[];
  RequestItems?: Record<string, { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]>;
  Statements?: { Statement: string; Parameters?: AttributeValue[] }[];
}

const { partitionKey: PK, sortKey: SK } = tableDefinition;
const keyOf = (item: Item): Item => ({ [PK]: item[PK]!, [SK]: item[SK]! });
const keyString = (item: Item) => JSON.stringify([item[PK], item[SK]]);

/** The items a write command writes (or checks), or undefined for a command that writes none. */
function writtenKeys(command: string, input: WriteInput): { transactional: boolean; items: { key: Item; conditionOnly: boolean }[] } | undefined {
  const one = (key: Item) => ({ key: keyOf(key), conditionOnly: false });
  switch (command) {
    case 'PutItemCommand':
      return { transactional: false, items: [one(input.Item!)] };
    case 'UpdateItemCommand':
    case 'DeleteItemCommand':
      return { transactional: false, items: [one(input.Key!)] };
    case 'BatchWriteItemCommand':
      return { transactional: false, items: Object.values(input.RequestItems ?? {}).flat().map((r) => one(r.PutRequest?.Item ?? r.DeleteRequest!.Key)) };
    case 'BatchExecuteStatementCommand':
      // Each an INSERT (`insertAbsent`): the item is its attributes' names in order, one parameter each.
      return {
        transactional: false,
        items: (input.Statements ?? []).map(({ Statement, Parameters = [] }) => {
          if (!Statement.startsWith('INSERT')) throw new Error(`meterCapacity: no write units for ${Statement}`);
          const names = [...Statement.matchAll(/'((?:[^']|'')+)': \?/g)].map((m) => m[1]!.replaceAll("''", "'"));
          return one(Object.fromEntries(names.map((name, i) => [name, Parameters[i]!])));
        }),
      };
    case 'TransactWriteItemsCommand':
      return {
        transactional: true,
        items: (input.TransactItems ?? []).map((t) =>
          t.ConditionCheck ? { key: keyOf(t.ConditionCheck.Key), conditionOnly: true } : one(t.Put?.Item ?? t.Update?.Key ?? t.Delete!.Key),
        ),
      };
    default:
      return undefined;
  }
}

/** DynamoDB's size of an attribute value, in bytes (the service's published rules). */
function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return Math.ceil(v.N.replace(/^-|\.|e.*$/gi, '').replace(/^0+|0+$/g, '').length / 2) + 1;
  if (v.B !== undefined) return v.B.byteLength;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS) return v.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (v.NS) return v.NS.reduce((n, s) => n + valueSize({ N: s }), 0);
  if (v.BS) return v.BS.reduce((n, b) => n + b.byteLength, 0);
  if (v.L) return 3 + v.L.reduce((n, e) => n + 1 + valueSize(e), 0);
  if (v.M) return 3 + Object.entries(v.M).reduce((n, [k, e]) => n + 1 + Buffer.byteLength(k) + valueSize(e), 0);
  return 0;
}

/** An item's size in bytes: its attribute names and values. */
export function itemSize(item: Item): number {
  return Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + valueSize(v), 0);
}

const sorted = (item: Item) => JSON.stringify(Object.entries(item).sort(([x], [y]) => (x < y ? -1 : 1)));
const sameItem = (x: Item, y: Item) => sorted(x) === sorted(y);
const kb = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

/**
 * The write units AWS charges for one item of a write, from the item before and after it:
 * - the table: 1 unit per KB of the larger image (a delete: the deleted item; nothing there: 1),
 *   2 per KB in a transaction, a condition check included; a write whose condition failed, or a
 *   cancelled transaction, still costs its units;
 * - each global index (every attribute projected): an item entering or leaving the index is a put
 *   or a delete in it, one changing its index key both, one changing anything else an update,
 *   1 unit per KB of the index entry. Index writes are taken at the standard rate in a transaction
 *   too (AWS documents the doubling for the table's items).
 */
export function writeCost(before: Item | undefined, after: Item | undefined, { transactional = false, conditionOnly = false, failed = false } = {}) {
  const [b, a] = [before ? itemSize(before) : 0, after ? itemSize(after) : 0];
  const table = kb(Math.max(b, a)) * (transactional ? 2 : 1);
  if (failed || conditionOnly) return { table, index: 0 };
  let index = 0;
  for (const { partitionKey, sortKey } of Object.values(tableDefinition.globalIndexes)) {
    const keyIn = (item: Item | undefined) => (item?.[partitionKey] && item[sortKey] ? JSON.stringify([item[partitionKey], item[sortKey]]) : undefined);
    const [kb4, ka] = [keyIn(before), keyIn(after)];
    if (kb4 && ka && kb4 === ka) index += sameItem(before!, after!) ? 0 : kb(Math.max(b, a));
    else index += (kb4 ? kb(b) : 0) + (ka ? kb(a) : 0);
  }
  return { table, index };
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

/**
 * Every item of the whole table that holds one of `needles` anywhere, as `PK|SK`: compared
 * lower-cased, as written and as JSON escapes it. A Scan: for a table of the test's own
 * (`isolatedTestDeps`), where data-rights tests look for what an erasure left.
 */
export async function itemsHolding(db: Db, needles: string[]): Promise<string[]> {
  const forms = needles.flatMap((n) => [n, JSON.stringify(n).slice(1, -1)]).map((n) => n.toLowerCase());
  const hits: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(new ScanCommand({ TableName: db.table, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) {
      const text = JSON.stringify(item, (_, v) => (v instanceof Set ? [...v] : v)).toLowerCase();
      if (forms.some((n) => text.includes(n))) hits.push(`${item.PK}|${item.SK}`);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return hits;
}
