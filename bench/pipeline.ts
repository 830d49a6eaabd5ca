/**
 * Benchmark: the sending pipeline, real engines, real time (issue 16).
 * - A 10,000-recipient send at 1,000 emails a second: five rounds of 2,000 (the most one round
 *   takes) written by createRound and queued as the route queues them, through the local runner's
 *   queue (paced, `sendConcurrency` workers) and the send worker to the local SES server, until all
 *   10,000 are in its store; against SendRawEmail straight to the same server at the same
 *   concurrency, same run (the floor).
 * - At 50, 100 and 200 emails a second, ten seconds' worth each: achieved ÷ configured rate.
 * - The sender Lambda's handler on batches of ten at 10 emails a second for the account, records
 *   handed back to SQS (a loopback endpoint) delivered again when their delay is over: the time it
 *   spends waiting, as timers its invocations armed and that fired (a sleep is one), against none;
 *   and the DynamoDB calls that reserve the sending slots in the table, per email.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createSesMailer, ensureTable, keys, type Config, type SendJob } from '@rapport/core';
import { createDeps, inProcessSendQueue, sendConcurrency, type Deps } from '@rapport/functions';
import { seedBacklog, statusCounts } from '@rapport/testing/virtual-time';
import { encodeJob } from '../packages/functions/src/adapters/send-job-message';
import { logger } from '../packages/functions/src/logger';
import { handler as sender } from '../packages/functions/src/handlers/sender';
import { lambdaDb, resetLambdaDeps } from '../packages/functions/src/handlers/runtime';
import { lambdaContext, lambdaEnv, sqsEvent, startFakeSqs } from '../packages/functions/src/handlers/test-support';
import type { Figure } from './figures';

const scenario = 'pipeline';

/** Seconds from the first job queued until every job is done (its email in the SES store). */
async function drain(queue: ReturnType<typeof inProcessSendQueue>, jobs: SendJob[]) {
  const t0 = performance.now();
  await queue.enqueue(jobs);
  await queue.drain();
  return (performance.now() - t0) / 1000;
}

async function freshSender(config: Config, rate: number, table: string) {
  const queue = inProcessSendQueue(() => deps, { ratePerSecond: rate });
  const deps: Deps = createDeps({ ...config, table, sendRatePerSecond: rate }, { queue });
  await ensureTable(deps.db.client, table);
  return { deps, queue };
}

/** Emails in the SES server's store sent to addresses containing `tag`, since `sinceSeconds`. */
async function stored(config: Config, tag: string, sinceSeconds: number): Promise<number> {
  const { emails } = (await (await fetch(`${config.sesEndpoint}/store?since=${sinceSeconds}`)).json()) as { emails: { destination: { to: string[] } }[] };
  return new Set(emails.flatMap((e) => e.destination.to).filter((to) => to.includes(tag))).size;
}

async function tenThousand(config: Config, log: (line: string) => void): Promise<Figure[]> {
  const rate = 1_000;
  const count = 10_000;
  const concurrency = sendConcurrency(rate);
  const since = Math.floor(Date.now() / 1000);
  const { deps, queue } = await freshSender(config, rate, `rapport-bench-pipeline-${Date.now()}`);
  const t0 = performance.now();
  // Written and queued round by round, as POST /v1/campaigns/{id}/surveys does: the first round
  // is being sent while the next ones are written.
  let firstQueued: number | undefined;
  const { rounds } = await seedBacklog(deps.db, count, new Date(), (jobs) => {
    firstQueued ??= performance.now();
    return queue.enqueue(jobs);
  });
  const created = (performance.now() - t0) / 1000;
  await queue.drain();
  const total = (performance.now() - t0) / 1000;
  const sending = (performance.now() - firstQueued!) / 1000;
  await queue.stop();
  for (const round of rounds) {
    const counts = await statusCounts(deps.db, round.roundId);
    if (counts.sent !== round.size) throw new Error(`pipeline: round ${round.roundId} ended ${JSON.stringify(counts)}`);
  }
  const inStore = await stored(config, '@backlog.example', since);
  if (inStore < count) throw new Error(`pipeline: ${inStore} of ${count} emails in the SES store`);
  deps.db.client.destroy();
  log(`10,000 at ${rate}/s: rounds written after ${created.toFixed(1)} s, all sent ${sending.toFixed(1)} s after the first was queued (${concurrency} workers)`);

  // The floor: the same number of SendRawEmail calls, same server, same concurrency, one after the other's end.
  const ses = createSesMailer({ region: config.region, endpoint: config.sesEndpoint });
  let next = 0;
  const f0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        await ses.send({ from: { address: config.mailFrom }, to: { address: `floor${i}@pipeline-floor.example` }, subject: 'Floor', text: 'A survey link would be here.', html: '<p>A survey link would be here.</p>' });
      }
    }),
  );
  const floorSeconds = (performance.now() - f0) / 1000;
  ses.client.destroy();
  log(`floor: ${count} SendRawEmail in ${floorSeconds.toFixed(1)} s`);

  const emailsPerSecond = count / sending;
  const floorRate = count / floorSeconds;
  return [
    {
      scenario,
      name: `10,000 recipients at ${rate}/s: emails per second, first queued to last in the SES store`,
      value: emailsPerSecond,
      unit: 'emails/s',
      floor: { name: `SendRawEmail straight to the same SES server, ${concurrency} at once`, value: floorRate },
      ratio: emailsPerSecond / floorRate,
      note: `the configured rate caps it at ${rate}/s`,
    },
    {
      scenario,
      name: `10,000 recipients at ${rate}/s: seconds until all are in the SES store`,
      value: total,
      unit: 's',
      budget: { on: 'value', max: 60 },
      note: `five rounds of 2,000, each queued once written (as the API does): all written after ${created.toFixed(1)} s, all sent ${sending.toFixed(1)} s after the first was queued`,
    },
  ];
}

async function atRate(config: Config, rate: number, log: (line: string) => void): Promise<Figure> {
  const count = rate * 10;
  const { deps, queue } = await freshSender(config, rate, `rapport-bench-rate-${rate}-${Date.now()}`);
  const { jobs } = await seedBacklog(deps.db, count, new Date());
  const seconds = await drain(queue, jobs);
  await queue.stop();
  deps.db.client.destroy();
  // n emails at `rate` take (n − 1) / rate seconds: the first goes at once.
  const achieved = (count - 1) / seconds;
  log(`${count} at ${rate}/s: ${seconds.toFixed(2)} s, ${achieved.toFixed(1)}/s`);
  return {
    scenario,
    name: `${count.toLocaleString('en')} recipients at ${rate}/s: achieved ÷ configured rate`,
    value: achieved,
    unit: 'emails/s',
    floor: { name: 'configured rate', value: rate },
    ratio: achieved / rate,
    budget: { on: 'ratio', min: 0.9 },
  };
}

/**
 * The sender handler over `count` invitations at 10 a second for the account: batches of ten,
 * what it hands back to SQS delivered again in batches once its delay is over. Time its
 * invocations spent waiting (timers they armed and that fired), and the calls that reserved
 * sending slots in the table (each an UpdateItem of one small item: 1 WRU, a failed condition too).
 */
async function lambdaSleep(config: Config, log: (line: string) => void): Promise<Figure[]> {
  const count = 50;
  const sqs = await startFakeSqs();
  const saved = { ...process.env };
  const level = logger.getLevelName();
  logger.setLogLevel('ERROR');
  const rate = 10;
  Object.assign(process.env, lambdaEnv(config, sqs, { SEND_RATE_PER_SECOND: String(rate) }));
  resetLambdaDeps();
  let slotCalls = 0;
  lambdaDb().client.middlewareStack.add(
    (next) => (args) => {
      const pk = (args.input as { Key?: { PK?: string | { S?: string } } }).Key?.PK;
      if ((typeof pk === 'string' ? pk : pk?.S) === keys.sendingSlots().PK) slotCalls++;
      return next(args);
    },
    { step: 'initialize', name: 'countSlotCalls' },
  );
  const invocation = new AsyncLocalStorage<true>();
  const original = globalThis.setTimeout;
  let sleptMs = 0;
  globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const mine = invocation.getStore() === true;
    return original(() => {
      if (mine) sleptMs += ms ?? 0;
      fn(...args);
    }, ms);
  }) as typeof setTimeout;
  try {
    const deps = createDeps(config, { queue: { enqueue: async () => undefined } });
    const { jobs } = await seedBacklog(deps.db, count, new Date());
    deps.db.client.destroy();
    let waiting = jobs.map((job) => ({ body: encodeJob(job), dueAt: 0, slotAt: undefined as string | undefined }));
    let billedMs = 0;
    let invocations = 0;
    const t0 = performance.now();
    while (waiting.length > 0) {
      const now = Date.now();
      const due = waiting.filter((m) => m.dueAt <= now).slice(0, 10);
      if (due.length === 0) {
        await new Promise((resolve) => original(resolve, Math.min(...waiting.map((m) => m.dueAt)) - now));
        continue;
      }
      waiting = waiting.filter((m) => !due.includes(m));
      const event = sqsEvent(due.map((m) => m.body));
      event.Records.forEach((r, i) => due[i]!.slotAt && (r.messageAttributes = { slotAt: { stringValue: due[i]!.slotAt!, dataType: 'Number' } }));
      const before = sqs.messages.length;
      const i0 = performance.now();
      const { batchItemFailures } = await invocation.run(true, () => sender(event, lambdaContext()));
      billedMs += performance.now() - i0;
      invocations++;
      if (batchItemFailures.length) throw new Error(`pipeline: the sender failed ${batchItemFailures.length} records`);
      const sentAt = Date.now();
      for (const m of sqs.messages.slice(before)) waiting.push({ body: m.body, dueAt: sentAt + (m.delaySeconds ?? 0) * 1000, slotAt: m.attributes?.slotAt?.StringValue });
    }
    const seconds = (performance.now() - t0) / 1000;
    log(`sender Lambda: ${count} emails at ${rate}/s in ${seconds.toFixed(1)} s, ${invocations} invocations, ${billedMs.toFixed(0)} ms in them, ${sleptMs} ms waiting, ${slotCalls} slot reservations`);
    const batches = Math.ceil(count / 10);
    return [
      {
        scenario,
        name: 'sender Lambda: time spent waiting for sending slots, per 1,000 emails',
        value: sleptMs / count,
        unit: 's',
        budget: { on: 'value', max: 0 },
        note: `${count} emails at ${rate}/s for the account, batches of ten: ${invocations} invocations in ${seconds.toFixed(1)} s (${((count - 1) / seconds / rate).toFixed(2)}× the rate), ${(billedMs / count).toFixed(1)} s of handler time per 1,000 emails (the sleeping sender spent about 1,000 ÷ rate s waiting)`,
      },
      {
        scenario,
        name: 'sender Lambda: DynamoDB calls reserving sending slots, per email',
        value: slotCalls / count,
        unit: 'calls',
        note: `one UpdateItem (1 WRU) per batch for the records of it that need a slot, none for a record back with its promised slot: ${slotCalls} for ${count} emails in ${batches} fresh batches of ten; a batch of one costs 1 call per email`,
      },
    ];
  } finally {
    globalThis.setTimeout = original;
    logger.setLogLevel(level as Parameters<typeof logger.setLogLevel>[0]);
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    resetLambdaDeps();
    await sqs.close();
  }
}

export async function benchPipeline(config: Config, log: (line: string) => void): Promise<Figure[]> {
  const figures = await tenThousand(config, log);
  for (const rate of [50, 100, 200]) figures.push(await atRate(config, rate, log));
  figures.push(...(await lambdaSleep(config, log)));
  return figures;
}
