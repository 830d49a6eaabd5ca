/**
 * Benchmark: answering a survey at concurrency 32, in the realistic hot case: 2,000 answers to one
 * anonymous round of 2,000 invitations already sent. Measured on the same DynamoDB Local, each
 * 2,000 times at concurrency 32: a bare PutItem of an item the size of a response (the floor), a
 * bare TransactWriteItems shaped like the submit's first answer to a sent invitation (a Put of that
 * size and a conditional Update of the invitation), `submitResponse`, the full page POST /s/{token}
 * through the app (rate limits, read, transaction, thank-you page), and the leanest exactly-once
 * answer conceivable (the submit's read, then one conditional update with no transaction), which
 * shows what the engine itself allows any design. Three repeats, as the issue measured it: in
 * each, the five take turns in three blocks (in a rotating order), so that a busy stretch of the
 * shared machine falls on the floor as on the submit. Each figure is the median of the repeats'
 * p99 (about 667 calls each), each ratio the median of the repeats' ratios: one garbage collection
 * of DynamoDB Local's JVM in one path's blocks, which moves a p99 by half, moves one repeat only.
 */
import { PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  createAgency,
  createCampaign,
  createPro,
  createRound,
  getResponse,
  keys,
  mapConcurrent,
  openInvitation,
  roundProgress,
  signInvitationToken,
  submitResponse,
  transitionMany,
  type InvitationRef,
} from '@rapport/core';
import { createApp, createDeps, type Deps } from '@rapport/functions';
import type { Figure } from './figures';
import { meterCapacity, percentile } from './capacity';

const SUBMITS = 2000;
const CONCURRENCY = 32;
const WARM_UP = 300;
const REPEATS = 3;
/** Blocks each path's calls are measured in, per repeat, the paths taking turns. */
const BLOCKS = 3;
const ANSWERS = { responsiveness: 4, recommend: 9, listening: 4, improve: 'Answers the phone, and calls back when she says she will.' };
const FORM = new URLSearchParams(Object.entries(ANSWERS).map(([k, v]): [string, string] => [k, String(v)])).toString();

/** Each call's time in ms, `CONCURRENCY` at a time. */
async function timed<T>(items: readonly T[], call: (item: T, i: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  await mapConcurrent(items, CONCURRENCY, async (item, i) => {
    const t0 = performance.now();
    await call(item, i);
    times.push(performance.now() - t0);
  });
  return times;
}

const stats = (times: number[]) => ({ p50: percentile(times, 0.5), p99: percentile(times, 0.99) });

export async function benchSubmit(config: Deps['config'], log: (line: string) => void): Promise<Figure[]> {
  // Each respondent from an address of their own, as in life: one address's rate window is not the hot item here.
  const deps = createDeps(config, { queue: { enqueue: async () => undefined }, clientAddress: (c) => c.req.header('x-bench-address') ?? 'unknown' });
  const { db } = deps;
  const app = createApp(deps);
  const now = new Date();
  const tag = now.getTime().toString(36);
  const agency = await createAgency(db, { name: 'Bench submit' }, now);
  const pro = await createPro(db, agency.agencyId, { name: 'Jane', email: `jane-${tag}@bench-submit.example` }, now);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, now);

  /** An anonymous round of `size`, every invitation sent (as after the pipeline ran). */
  const sentRound = async (label: string, size: number): Promise<InvitationRef[]> => {
    const recipients = Array.from({ length: size }, (_, i) => ({ email: `r${i}-${label}-${tag}@bench-submit.example`, audience: 'reporter' }));
    const { round, accepted } = await createRound(db, agency.agencyId, campaign.campaignId, { recipients }, now);
    const ids = accepted.map((i) => i.invitationId);
    await transitionMany(db, round.roundId, ids, 'pending', 'sent', { set: { sentAt: now.toISOString() }, remove: ['checkAt'] });
    return ids.map((invitationId) => ({ roundId: round.roundId, invitationId }));
  };
  let respondents = 0;
  const page = async (ref: InvitationRef) => {
    const n = ++respondents;
    const r = await app.request(`/s/${signInvitationToken(deps.linkSecret, ref)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'x-bench-address': `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` },
      body: FORM,
    });
    if (r.status !== 200) throw new Error(`POST /s/… answered ${r.status}: ${(await r.text()).slice(0, 200)}`);
    await r.text();
  };
  const submit = (ref: InvitationRef) => submitResponse(db, ref, ANSWERS, new Date());

  const [warm, direct, paged, touched, lean] = [await sentRound('warm', WARM_UP), await sentRound('direct', SUBMITS), await sentRound('page', SUBMITS), await sentRound('tx', SUBMITS), await sentRound('lean', SUBMITS)];
  log(`5 anonymous rounds created and sent (${WARM_UP}, ${SUBMITS}, ${SUBMITS}, ${SUBMITS}, ${SUBMITS})`);

  // The floors' items: a response as stored, and an invitation of the same round.
  await submit(warm[0]!);
  const response = (await getResponse(db, warm[0]!))!;
  const responseItem = { ...keys.response(warm[0]!.roundId, warm[0]!.invitationId), type: 'response', ...response };
  const bytes = Buffer.byteLength(JSON.stringify(responseItem));
  const floorKey = (kind: string, run: string, i: number) => ({ PK: `BENCH#${tag}#${kind}#${run}#${i}`, SK: 'ITEM' });
  const put = (run: string) => (_: unknown, i: number) => db.doc.send(new PutCommand({ TableName: db.table, Item: { ...responseItem, ...floorKey('put', run, i) } }));
  const transact = (run: string) => (target: InvitationRef, i: number) =>
    db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: db.table, Item: { ...responseItem, ...floorKey('tx', run, i) }, ConditionExpression: 'attribute_not_exists(PK)' } },
          {
            Update: {
              TableName: db.table,
              Key: keys.invitation(target.roundId, target.invitationId),
              UpdateExpression: 'SET benchTouchedAt = :now',
              ConditionExpression: '#status = :sent',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':now': new Date().toISOString(), ':sent': 'sent' },
            },
          },
        ],
      }),
    );

  // The least any exactly-once answer can cost: the submit's own read, then one conditional write
  // (no transaction) that moves the invitation and carries the answer.
  const readThenWrite = async (target: InvitationRef) => {
    await openInvitation(db, target);
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.invitation(target.roundId, target.invitationId),
        UpdateExpression: 'SET #status = :responded, benchAnswer = :answer',
        ConditionExpression: '#status = :sent AND attribute_not_exists(erasedAt) AND attribute_not_exists(reminderSending) AND attribute_not_exists(answersClosedAt)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':responded': 'responded', ':sent': 'sent', ':answer': response },
      }),
    );
  };

  // Warm up every path (the JVM's JIT and Node's), then measure each in turn.
  const rest = warm.slice(1);
  await timed(rest, put('warm'));
  await timed(rest, transact('warm'));
  await timed(rest.slice(0, rest.length / 3), submit);
  await timed(rest.slice(rest.length / 3, (2 * rest.length) / 3), page);
  await timed(rest.slice((2 * rest.length) / 3), readThenWrite);
  log('warmed up');

  // The transaction floor updates a round's invitations of its own, as the submit updates its own.
  const paths = [
    { items: direct, call: (b: number) => put(`run${b}`) },
    { items: touched, call: (b: number) => transact(`run${b}`) },
    { items: direct, call: () => submit },
    { items: paged, call: () => page },
    { items: lean, call: () => readThenWrite },
  ].map((path) => ({ ...path, times: Array.from({ length: REPEATS }, () => [] as number[]) }));
  for (let b = 0; b < REPEATS * BLOCKS; b++) {
    for (let k = 0; k < paths.length; k++) {
      const path = paths[(b + k) % paths.length]!;
      const slice = (i: number) => Math.floor((i * path.items.length) / (REPEATS * BLOCKS));
      path.times[Math.floor(b / BLOCKS)]!.push(...(await timed(path.items.slice(slice(b), slice(b + 1)), path.call(b))));
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const repeats = paths.map((p) => p.times.map(stats));
  const [putItem, transaction, submitted, posted, leanest] = repeats.map((r) => ({ p50: median(r.map((s) => s.p50)), p99: median(r.map((s) => s.p99)) })) as [ReturnType<typeof stats>, ReturnType<typeof stats>, ReturnType<typeof stats>, ReturnType<typeof stats>, ReturnType<typeof stats>];
  /** The median of the repeats' ratios of path `k`'s p99 to path `base`'s. */
  const p99Ratio = (k: number, base: number) => Math.round(median(repeats[k]!.map((s, r) => s.p99 / repeats[base]![r]!.p99)) * 100) / 100;
  for (const [k, name] of ['putItem', 'transaction', 'submitted', 'posted', 'readThenWrite'].entries()) log(`${name}: p99 per repeat ${repeats[k]!.map((s) => s.p99.toFixed(1)).join(', ')} ms; p50 ${repeats[k]!.map((s) => s.p50.toFixed(1)).join(', ')} ms`);

  // What the counts cost now that nothing counts them on the round: one read of the round's invitations.
  const meter = meterCapacity(db);
  const progress = await roundProgress(db, direct[0]!.roundId);
  if (progress.counts.responded !== SUBMITS) throw new Error(`expected ${SUBMITS} answered, counted ${progress.counts.responded}`);
  const progressRead = meter.read();
  db.client.destroy();

  const ms = (n: number) => Math.round(n * 10) / 10;
  const floor = { name: `bare PutItem of a ${bytes}-byte item, p99`, value: ms(putItem.p99) };
  const note = `${SUBMITS} first answers to one anonymous round of ${SUBMITS} sent invitations, concurrency ${CONCURRENCY}, DynamoDB Local; medians of ${REPEATS} repeats`;
  return [
    {
      scenario: 'submit',
      name: 'submitResponse p99 at concurrency 32',
      value: ms(submitted.p99),
      unit: 'ms',
      floor,
      ratio: p99Ratio(2, 0),
      budget: { on: 'ratio', max: 3 },
      note: `${note}; p50 ${ms(submitted.p50)} ms against ${ms(putItem.p50)} ms`,
    },
    {
      scenario: 'submit',
      name: 'page POST /s/{token} p99 at concurrency 32',
      value: ms(posted.p99),
      unit: 'ms',
      floor,
      ratio: p99Ratio(3, 0),
      note: `${note}; the page adds its link's rate-limit write (beside a read of its address's count) before the submit; p50 ${ms(posted.p50)} ms`,
    },
    {
      scenario: 'submit',
      name: 'bare TransactWriteItems shaped like the submit (Put, Update) p99',
      value: ms(transaction.p99),
      unit: 'ms',
      floor,
      ratio: p99Ratio(1, 0),
      note: `the submit's write before an anonymous first answer was held on its invitation; submitResponse p99 is ${p99Ratio(2, 1)}× it; p50 ${ms(transaction.p50)} ms`,
    },
    {
      scenario: 'submit',
      name: 'read, then one conditional UpdateItem (no transaction) p99',
      value: ms(leanest.p99),
      unit: 'ms',
      floor,
      ratio: p99Ratio(4, 0),
      note: `the floor of any exactly-once answer that reads its state and writes once (the submit's own read, then the invitation's conditional update carrying the answer), which the submit now is; submitResponse p99 is ${p99Ratio(2, 4)}× it; p50 ${ms(leanest.p50)} ms`,
    },
    {
      scenario: 'submit',
      name: "reading a 2,000-invitation round's counts (roundProgress)",
      value: Math.round(progressRead.readUnits * 10) / 10,
      unit: 'RCU',
      note: `${progressRead.calls} Query call(s); what a round's page or GET costs in place of a write on every send and answer`,
    },
  ];
}
