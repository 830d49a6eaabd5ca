/**
 * The sending slots shared by the sender Lambdas (`createSharedPacer`), on DynamoDB Local, with a
 * clock the test moves. A table of its own: the slots item is the account's one, and a moved clock
 * here would hold back the senders of the test files running alongside.
 */
import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { isolatedTestDeps } from '@rapport/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { keys } from '../db/keys';
import { createSharedPacer } from './paced';

const { db } = await isolatedTestDeps();
/** DynamoDB calls by command, failed ones too (a failed conditional write is billed as well). */
let calls: Record<string, number> = {};
db.client.middlewareStack.add(
  (next, context) => (args) => {
    const name = (context.commandName ?? '').replace(/Command$/, '');
    calls[name] = (calls[name] ?? 0) + 1;
    return next(args);
  },
  { step: 'initialize', name: 'countCalls' },
);
const forgetSlots = () => db.doc.send(new DeleteCommand({ TableName: db.table, Key: keys.sendingSlots() }));
const nextSlotAt = async () => (await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.sendingSlots(), ConsistentRead: true }))).Item?.nextSlotAt;

/** A clock the test moves by hand, shared by every "process". */
const clock = (start: number) => {
  const c = { t: start, now: () => c.t };
  return c;
};

beforeEach(forgetSlots);

describe('the shared sending slots', () => {
  it('hand out blocks that never overlap, 1/rate apart, to processes reserving at once, however many and however often replaced (fast-check, DynamoDB Local)', async () => {
    const rate = 20;
    const gapMs = 1000 / rate;
    const step = fc.record({ wait: fc.integer({ min: 0, max: 3000 }), counts: fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 4 }), replace: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 6 }), fc.constantFrom(0, 100), async (steps, burstMs) => {
        await forgetSlots();
        const c = clock(1_000_000);
        const make = () => createSharedPacer(db, { ratePerSecond: rate, burstMs, now: c.now, withinMs: 900_000 });
        let processes = [make(), make(), make(), make()];
        const slots: number[] = [];
        for (const { wait, counts, replace } of steps) {
          c.t += wait;
          // A replaced process starts with nothing known of the slots.
          if (replace) processes = processes.map(make);
          const blocks = await Promise.all(counts.map((count, i) => processes[i]!.reserve(count)));
          for (const [i, block] of blocks.entries()) {
            expect(block).toHaveLength(counts[i]!);
            // Never earlier than the burst allows.
            expect(block[0]!).toBeGreaterThanOrEqual(c.t - Math.max(1, (burstMs * rate) / 1000) * gapMs);
          }
          slots.push(...blocks.flat());
        }
        const sorted = [...slots].sort((a, b) => a - b);
        const gaps = sorted.slice(1).map((s, i) => s - sorted[i]!);
        expect(Math.min(...gaps)).toBeGreaterThanOrEqual(gapMs - 1e-6);
      }),
      { numRuns: 40 },
    );
  });

  it('starts a block at now after a quiet spell: time not used is lost, not saved up', async () => {
    const c = clock(1_000_000);
    const pacer = createSharedPacer(db, { ratePerSecond: 10, now: c.now, withinMs: 900_000 });
    expect(await pacer.reserve(3)).toEqual([1_000_000, 1_000_100, 1_000_200]);
    expect(await pacer.reserve(2)).toEqual([1_000_300, 1_000_400]);
    c.t = 1_005_000;
    expect(await pacer.reserve(2)).toEqual([1_005_000, 1_005_100]);
    expect(await nextSlotAt()).toBe(1_005_200);
  });

  it('lets a burst of slots be due at once after a quiet spell, a tenth of a second\'s worth', async () => {
    const c = clock(1_000_000);
    const pacer = createSharedPacer(db, { ratePerSecond: 100, burstMs: 100, now: c.now, withinMs: 900_000 });
    const block = await pacer.reserve(12);
    expect(block.filter((at) => at <= c.t)).toHaveLength(10);
    expect(block[0]).toBe(999_910);
  });

  it('reserves no block reaching beyond `withinMs` (SQS\'s longest delay), and writes nothing for it', async () => {
    const c = clock(1_000_000);
    const pacer = createSharedPacer(db, { ratePerSecond: 10, now: c.now, withinMs: 1_000 });
    expect(await pacer.reserve(10)).toEqual(Array.from({ length: 10 }, (_, i) => 1_000_000 + i * 100));
    // The next slot is at 1,001,000: a block of five would end 400 ms past the limit.
    expect(await pacer.reserve(5)).toEqual([]);
    expect(await createSharedPacer(db, { ratePerSecond: 10, now: c.now, withinMs: 1_000 }).reserve(5)).toEqual([]);
    expect(await nextSlotAt()).toBe(1_001_000);
    expect(await pacer.reserve(1)).toEqual([1_001_000]);
  });

  it('starts again from now when the item was written by a clock far ahead, rather than hold every sender back until then', async () => {
    const ahead = clock(1_000_000 + 86_400_000);
    await createSharedPacer(db, { ratePerSecond: 10, now: ahead.now, withinMs: 900_000 }).reserve(3);
    const c = clock(1_000_000);
    expect(await createSharedPacer(db, { ratePerSecond: 10, now: c.now, withinMs: 900_000 }).reserve(2)).toEqual([1_000_000, 1_000_100]);
  });

  it('costs one UpdateItem a block once its process has seen the item; a fresh process on a busy account, two (its first guess is the quiet one)', async () => {
    const c = clock(1_000_000);
    const pacer = createSharedPacer(db, { ratePerSecond: 10, now: c.now, withinMs: 900_000 });
    calls = {};
    for (let i = 0; i < 5; i++) await pacer.reserve(10);
    expect(calls).toEqual({ UpdateItem: 5 });
    calls = {};
    await createSharedPacer(db, { ratePerSecond: 10, now: c.now, withinMs: 900_000 }).reserve(10);
    expect(calls).toEqual({ UpdateItem: 2 });
    // Quiet again: the process guesses so from what it last saw, and sets the item in one call.
    c.t += 60_000;
    calls = {};
    expect(await pacer.reserve(1)).toEqual([1_060_000]);
    expect(calls).toEqual({ UpdateItem: 1 });
  });

  it('charges a second SES call of one job to the next slot, and loses the slot of a job that made none', async () => {
    const c = clock(1_000_000);
    const pacer = createSharedPacer(db, { ratePerSecond: 10, now: c.now, withinMs: 900_000 });
    expect(await pacer.reserve(1)).toEqual([1_000_000]);
    await pacer.charge();
    pacer.giveBack();
    expect(await pacer.reserve(1)).toEqual([1_000_200]);
  });
});
