/**
 * The sending pipeline's promise, as a property (issue 11): toward each person, each email — the
 * first one, and each reminder by its number — goes out exactly once. Never twice, whatever the
 * queue, the workers, SES and DynamoDB do; and, once the faults stop and the sweeps and jobs run to
 * the end before the round closes, never lost. The round's counts always equal the statuses of its
 * invitations (and, answered ones, the statuses they were answered from).
 *
 * An adversary plays a generated sequence of moves against one small round (2–4 recipients, named
 * or anonymous) on DynamoDB Local and the local SES server: it delivers queued jobs through the
 * real SES server or through stubs (SES's answer lost; the connection reset before SES took it;
 * refused; DynamoDB failing the write right after SES answered), delivers a job twice or twice at
 * once, loses jobs, runs the recovery sweep and the reminder sweep, lets the clock run (past
 * leases, to reminder days), answers through the link a person received, closes the round once its
 * time is up, and runs two moves at once. Then the faults stop: the jobs and sweeps run until
 * nothing is left in flight, before the round's close (every email then exactly once, every
 * reminder due sent), and after it (the round closed, nothing more sent).
 *
 * Played twice, once per adapter of SES's record. As locally: the SES server's store. As on AWS:
 * `recordedSends`, fed by SES's `Send` events through `recordSendEvent`, which keeps no record of
 * an email whose message id the worker wrote on the invitation; SNS then joins the adversary: each
 * email SES took yields a `Send` event, delivered at least once (twice, sometimes), in any order,
 * right after SES's answer (before the worker writes it down) or later, but always within a lease
 * (before a recovery sweep could ask for it: the design's "within seconds"); the handler's read of
 * the invitation is eventually consistent (stub: it may show any state the invitation held
 * before; DynamoDB Local is never behind).
 *
 * The model assumes what the lease is for: a worker's job ends before its lease (15 minutes) does
 * (a Lambda's timeout is shorter), so moves that run together run at the same clock.
 *
 * A longer hunt (each run takes about a second):
 *   EXACTLY_ONCE_RUNS=100 npx vitest run packages/core/src/sending/exactly-once.property.test.ts
 * fast-check prints the seed and path of a failure; replay it with EXACTLY_ONCE_SEED and EXACTLY_ONCE_PATH.
 * EXACTLY_ONCE_EXAMPLE='<counterexample JSON>' runs that scenario alone; EXACTLY_ONCE_TRACE=1 prints what
 * each run did (a failure shows its own trace).
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { answerLostMailer, dbFailsAfterSesMailer, faultyDb, isolatedTestDeps, refusedMailer, resetBeforeSesMailer, sesEmails } from '@rapport/testing';
import { keys } from '../db/keys';
import { createAgency } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { REMINDER_PREFIX } from '../email/invitation';
import type { Mailer } from '../email/mailer';
import { proScores } from '../scores/report';
import { addDays, iso } from '../shared/time';
import type { Audience } from '../survey/instrument';
import { createRound, getRound, INVITATION_STATUSES, type Invitation, type Round } from '../survey/round';
import { submitResponse } from '../survey/response';
import { checkRounds, closeRound, recoverSends, runScheduledJobs } from '../jobs';
import { nextReminderAt, type DeliveryDeps } from './deliver';
import { deliver } from './dispatch';
import type { JobQueue, SendJob } from './queue';
import { recordedSends, recordSendEvent } from './records';

const RUNS = Number(process.env.EXACTLY_ONCE_RUNS ?? 6);

// The sweeps read whole indexes: a table of its own, and each run at a clock of its own.
const { db, linkSecret, mailer, records: sesStore } = await isolatedTestDeps();

/** Where SES's record comes from: the local SES server's store, or `Send` events as on AWS. */
type RecordsFrom = 'the SES store' | 'Send events';
afterAll(() => db.client.destroy());

const MINUTE = 60_000;
const DAY = 24 * 60;

/** How a delivery reaches SES: for real, or through a stub of a fault the local SES server cannot produce. */
type Via = 'ses' | 'stub: answer lost' | 'stub: reset before SES' | 'stub: refused' | 'stub: DynamoDB transaction fails after SES' | 'stub: DynamoDB write fails after SES';
type Op =
  | { op: 'deliver'; pick: number; via: Via; copies: 1 | 2; together: boolean; inline: boolean }
  /** SNS delivers the Send events not delivered yet, in an order of its own, some twice; the handler's read stale or not. */
  | { op: 'sns'; twice: boolean; stale: boolean }
  | { op: 'drop'; pick: number }
  | { op: 'recover'; stale: boolean }
  | { op: 'remind' }
  | { op: 'answer'; who: number }
  /** The clock moves past the round's close (if not there yet) and the close job runs. */
  | { op: 'close' };
/** The clock moves `wait` minutes, then the ops run (two: at the same time). */
interface Move {
  wait: number;
  ops: Op[];
}
interface Scenario {
  audiences: Audience[];
  attribution: 'anonymous' | 'named';
  moves: Move[];
  seed: number;
}

const viaArb: fc.Arbitrary<Via> = fc.oneof(
  { weight: 5, arbitrary: fc.constant('ses' as const) },
  {
    weight: 5,
    arbitrary: fc.constantFrom<Via>(
      'stub: answer lost',
      'stub: reset before SES',
      'stub: refused',
      'stub: DynamoDB transaction fails after SES',
      'stub: DynamoDB write fails after SES',
    ),
  },
);
const opArb = (from: RecordsFrom): fc.Arbitrary<Op> => fc.oneof(
  { weight: 24, arbitrary: fc.record({ op: fc.constant('deliver' as const), pick: fc.nat(7), via: viaArb, copies: fc.constantFrom<1 | 2>(1, 1, 2), together: fc.boolean(), inline: fc.boolean() }) },
  { weight: from === 'Send events' ? 6 : 0, arbitrary: fc.record({ op: fc.constant('sns' as const), twice: fc.boolean(), stale: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('drop' as const), pick: fc.nat(7) }) },
  { weight: 8, arbitrary: fc.record({ op: fc.constant('recover' as const), stale: fc.boolean() }) },
  { weight: 6, arbitrary: fc.constant({ op: 'remind' as const }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('answer' as const), who: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'close' as const }) },
);
const moveArb = (from: RecordsFrom): fc.Arbitrary<Move> =>
  fc.record({
    wait: fc.constantFrom(0, 0, 1, 16, 16, DAY, 3 * DAY),
    ops: fc.oneof({ weight: 3, arbitrary: fc.tuple(opArb(from)) }, { weight: 1, arbitrary: fc.tuple(opArb(from), opArb(from)) }),
  });
const scenarioArb = (from: RecordsFrom): fc.Arbitrary<Scenario> =>
  fc.record({
    audiences: fc.array(fc.constantFrom<Audience>('reporter', 'colleague', 'client'), { minLength: 2, maxLength: 4 }),
    attribution: fc.constantFrom('anonymous' as const, 'named' as const),
    moves: fc.array(moveArb(from), { minLength: 4, maxLength: 25 }),
    seed: fc.nat(),
  });

let runs = 0;

/** One run of the game; returns what broke the promise (nothing: kept), with the trace of what happened. */
async function play(scenario: Scenario, from: RecordsFrom): Promise<{ violations: string[]; trace: string[] }> {
  const fromEvents = from === 'Send events';
  const records = fromEvents ? recordedSends(db) : sesStore;
  // Each run 60 days after the last, on addresses of its own (the SES store is shared by the test run).
  const run = ++runs;
  const t0 = addDays('2041-01-01T09:00:00.000Z', run * 60);
  const tag = `${run}-${Math.random().toString(36).slice(2, 8)}`;
  const agency = await createAgency(db, { name: `Exactly once ${tag}` }, t0);
  const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, t0);
  const campaign = await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Spring Launch' }, t0);
  const emails = scenario.audiences.map((_, k) => `r${k}-once-${tag}@news.example`);
  const { round, accepted } = await createRound(
    db,
    agency.agencyId,
    campaign.campaignId,
    { attribution: scenario.attribution, recipients: scenario.audiences.map((audience, k) => ({ email: emails[k], name: `Person ${k}`, audience })) },
    t0,
  );
  const refs = accepted.map((i) => ({ roundId: round.roundId, invitationId: i.invitationId }));
  const trace: string[] = [];
  const closesAt = new Date(round.closesAt);
  let now = t0;

  // The queue: what round creation, the sweeps and the workers' retries hand it; this round's jobs only.
  const queue: SendJob[] = refs.map((ref) => ({ kind: 'invitation', ...ref }));
  const ours = (job: SendJob) => 'roundId' in job && job.roundId === round.roundId;
  // A job queued ahead (a close) is held back until its time, as SQS's delay would; quiescing releases it then.
  const held: SendJob[] = [];
  const push = (job: SendJob) => (job.notBefore !== undefined && Date.parse(job.notBefore) > now.getTime() ? held : queue).push(job);
  const jobQueue: JobQueue = { enqueue: async (jobs) => jobs.filter(ours).forEach(push) };
  const faulty = faultyDb(db);

  // SNS: the Send events of the emails SES took, not delivered yet.
  let random = scenario.seed;
  const next = () => ((random = (random * 1103515245 + 12345) % 2147483648), random / 2147483648);
  const events: { messageId: string; tags: Record<string, string[]> }[] = [];
  // Every state each invitation held when looked at (before each move, and when SES took an
  // email, before the worker wrote it down): what a stale replica may still show.
  const history = new Map<string, Record<string, unknown>[]>();
  const remember = async () => {
    if (!fromEvents) return;
    for (const i of await invitationsOf(round.roundId)) history.set(i.invitationId, [...(history.get(i.invitationId) ?? []), { ...i }]);
  };
  let staleReads = false;
  // Stub: the handler's eventually consistent read of the invitation, any state it held before when stale.
  const snsDb = {
    ...db,
    doc: Object.assign(Object.create(db.doc) as typeof db.doc, {
      send: ((command: { constructor: { name: string }; input: { Key?: { SK?: string }; ConsistentRead?: boolean } }, ...rest: unknown[]) => {
        const sk = command.input.Key?.SK;
        if (staleReads && command.constructor.name === 'GetCommand' && !command.input.ConsistentRead && sk?.startsWith('INV#')) {
          const states = history.get(sk.slice('INV#'.length)) ?? [];
          const pick = Math.floor(next() * (states.length + 1));
          if (pick < states.length) return Promise.resolve({ Item: states[pick] });
        }
        return (db.doc.send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
      }) as typeof db.doc.send,
    }),
  };
  const deliverEvents = async (twice: boolean, stale: boolean) => {
    const batch = events.splice(0, events.length);
    if (!fromEvents) return;
    for (let k = batch.length - 1; k > 0; k--) {
      const j = Math.floor(next() * (k + 1));
      [batch[k], batch[j]] = [batch[j]!, batch[k]!];
    }
    staleReads = stale;
    try {
      for (const event of batch) {
        for (let c = 0; c < (twice && next() < 0.5 ? 2 : 1); c++) {
          await settled(`Send event ${event.tags.kind?.[0]}${event.tags.reminder ? ` ${event.tags.reminder[0]}` : ''} r${refs.findIndex((r) => r.invitationId === event.tags.invitation?.[0])}${stale ? ' (stale read)' : ''}`, () =>
            recordSendEvent(snsDb, { messageId: event.messageId, at: iso(now), tags: event.tags }),
          );
        }
      }
    } finally {
      staleReads = false;
    }
  };
  let inline = false;
  // SES takes the email and SNS has its Send event: delivered right away (before the worker writes the answer down) or later.
  const taking: Mailer = {
    async send(message) {
      const sent = await mailer.send(message);
      events.push({ messageId: sent.messageId, tags: Object.fromEntries(Object.entries(message.tags ?? {}).map(([k, v]) => [k, [v]])) });
      await remember();
      if (inline) await deliverEvents(false, next() < 0.5);
      return sent;
    },
  };
  const mailers: Record<Via, Mailer> = {
    ses: taking,
    'stub: answer lost': answerLostMailer(taking),
    'stub: reset before SES': resetBeforeSesMailer,
    'stub: refused': refusedMailer,
    'stub: DynamoDB transaction fails after SES': dbFailsAfterSesMailer(taking, faulty, 'transact'),
    'stub: DynamoDB write fails after SES': dbFailsAfterSesMailer(taking, faulty, 'write'),
  };
  const deliveryDeps = (via: Via): DeliveryDeps => ({
    db: faulty.db,
    mailer: mailers[via],
    linkSecret,
    publicUrl: 'http://localhost:3000',
    mailFrom: 'surveys@rapport.example',
    now: () => now,
    requeue: async (job) => void push(job),
    sleep: async () => undefined,
  });
  const describeJob = (job: SendJob) => `${job.kind}${'invitationId' in job ? ` r${refs.findIndex((r) => r.invitationId === job.invitationId)}` : ''}${job.kind === 'reminder' ? ` due ${job.dueAt}` : ''}`;
  const settled = async <T>(what: string, work: () => Promise<T>): Promise<T | undefined> => {
    try {
      const result = await work();
      trace.push(`${what}: ${JSON.stringify(result)}`);
      return result;
    } catch (error) {
      trace.push(`${what}: threw ${(error as Error).message}`);
      return undefined;
    }
  };

  async function playOp(op: Op): Promise<void> {
    switch (op.op) {
      case 'deliver': {
        if (queue.length === 0) return;
        const [job] = queue.splice(op.pick % queue.length, 1) as [SendJob];
        inline = op.inline;
        const once = () => deliver(deliveryDeps(op.via), job);
        const label = `deliver ${describeJob(job)} via ${op.via}`;
        const outcomes = op.together
          ? await Promise.allSettled(Array.from({ length: op.copies }, once))
          : await (async () => {
              const all: PromiseSettledResult<string>[] = [];
              for (let c = 0; c < op.copies; c++) all.push(await once().then((value) => ({ status: 'fulfilled' as const, value }), (reason) => ({ status: 'rejected' as const, reason })));
              return all;
            })();
        trace.push(`${label}${op.copies > 1 ? (op.together ? ' twice at once' : ' twice') : ''}: ${outcomes.map((o) => (o.status === 'fulfilled' ? o.value : `threw ${(o.reason as Error).message}`)).join(', ')}`);
        // A worker that failed leaves its message in the queue: it comes back.
        if (outcomes.every((o) => o.status === 'rejected')) queue.push(job);
        inline = false;
        return;
      }
      case 'drop': {
        if (queue.length === 0) return;
        const [job] = queue.splice(op.pick % queue.length, 1) as [SendJob];
        trace.push(`lost ${describeJob(job)}`);
        return;
      }
      case 'sns':
        await deliverEvents(op.twice, op.stale);
        return;
      case 'recover':
        // Within a lease, every Send event came: the sweep asks only about older sends.
        await deliverEvents(false, op.stale);
        await settled('recoverSends', () => recoverSends({ db: faulty.db, queue: jobQueue, records }, now));
        return;
      case 'remind':
        // A run of the scheduled job: its round checks recover sends too, so the same rule holds.
        await deliverEvents(false, false);
        await settled('checkRounds', () => checkRounds({ db: faulty.db, queue: jobQueue, records }, now));
        return;
      case 'answer': {
        const who = op.who % refs.length;
        // The person answers through a link only once an email brought one.
        if ((await sesEmails({ to: emails[who]! })).length === 0) return;
        await settled(`r${who} answers`, async () => (await submitResponse(faulty.db, refs[who]!, { responsiveness: 1 + (who % 5) }, now)).revision);
        return;
      }
      case 'close':
        await settled('closeRound', () => closeRound(faulty.db, round.roundId, now));
        return;
    }
  }

  const at = () => `@ +${Math.round((now.getTime() - t0.getTime()) / MINUTE)} min`;
  for (const move of scenario.moves) {
    // Before the close, the clock stays 2 days short of it, so that what is in flight can still settle in time.
    const moved = now.getTime() + move.wait * MINUTE;
    now = new Date(now < closesAt ? Math.min(moved, addDays(closesAt, -2).getTime()) : moved);
    if (move.ops.some((o) => o.op === 'close') && now < closesAt) now = new Date(closesAt.getTime() + MINUTE);
    trace.push(at());
    await remember();
    await Promise.all(move.ops.map(playOp));
    faulty.disarm();
  }

  const violations: string[] = [];
  // The faults stop. Everything queued runs, and the scheduled job, until nothing is in flight;
  // a lease still running is waited out.
  async function quiesce(): Promise<void> {
    held.splice(0).forEach(push);
    for (let pass = 0; pass < 40; pass++) {
      while (queue.length > 0) {
        const job = queue.shift()!;
        await settled(`deliver ${describeJob(job)} (quiescing) ${at()}`, () => deliver(deliveryDeps('ses'), job));
        await remember();
      }
      await deliverEvents(true, true);
      await settled(`runScheduledJobs ${at()}`, () => runScheduledJobs({ db, queue: jobQueue, records }, now));
      if (queue.length > 0) continue;
      // Leased: claimed or queued (a first email), in flight (a reminder), or a reminder due and
      // queued whose job was lost (its look moved on to the end of a queue lease).
      const leased = (await invitationsOf(round.roundId)).filter((i) => isLeased(i) || (i.checkAt !== undefined && i.nextReminderAt != null && i.nextReminderAt < iso(now)));
      const current = await getRound(db, round.agencyId, round.roundId);
      if (leased.length === 0 && (now < closesAt || current.status !== 'open')) return;
      const leaseEnds = leased.map((i) => Date.parse(i.checkAt!));
      now = new Date(Math.max(now.getTime(), Math.min(...leaseEnds, Infinity) + MINUTE));
    }
    violations.push(`still in flight after 40 passes, ${at()}`);
  }

  const closedAmid = now >= closesAt;
  if (!closedAmid) {
    // Where the moves left the clock, then just before the close: every reminder planned is due by then.
    for (const until of [now, new Date(closesAt.getTime() - MINUTE)]) {
      now = new Date(Math.max(now.getTime(), until.getTime()));
      await quiesce();
      trace.push(`quiescent ${at()}`);
      if (now >= closesAt) violations.push(`quiescence took until ${iso(now)}, past the close ${round.closesAt}`);
      violations.push(...(await check('open')));
    }
    now = new Date(closesAt.getTime() + MINUTE);
  }
  await quiesce();
  trace.push(`closed ${at()}`);
  violations.push(...(await check('closed')));
  return { violations, trace };

  /** What breaks the promise, in the round's state now (quiescent). */
  async function check(phase: 'open' | 'closed'): Promise<string[]> {
    const found: string[] = [];
    const invitations = await invitationsOf(round.roundId);
    const current = await getRound(db, round.agencyId, round.roundId);
    if (current.status !== phase) found.push(`round ${current.status}, expected ${phase}`);
    const delivered: Partial<Record<Audience, number>> = {};
    for (const [k, ref] of refs.entries()) {
      const i = invitations.find((x) => x.invitationId === ref.invitationId)!;
      const received = await sesEmails({ to: emails[k]! });
      const firsts = received.filter((e) => !e.subject.startsWith(REMINDER_PREFIX)).length;
      const reminders = received.length - firsts;
      const who = `r${k} (${i.audience}, ${i.status}${i.answeredFrom ? ` from ${i.answeredFrom}` : ''})`;
      const planned = round.reminderDays[i.audience].length;
      if (firsts > 1) found.push(`${who}: ${firsts} first emails`);
      if (reminders > planned) found.push(`${who}: ${reminders} reminders, ${planned} planned`);
      if (reminders !== i.remindersSent) found.push(`${who}: ${reminders} reminders received, remindersSent ${i.remindersSent}`);
      if (isLeased(i)) found.push(`${who}: still leased`);
      if (i.reminderSending !== undefined) found.push(`${who}: a reminder still in flight`);
      const reached = i.status === 'sent' || i.status === 'expired' || (i.status === 'responded' && i.answeredFrom === 'sent');
      const allowed = phase === 'open' ? ['sent', 'responded'] : ['expired', 'responded', 'skipped'];
      if (!allowed.includes(i.status)) found.push(`${who}: status not settled for a round ${phase}`);
      if (i.status === 'responded' && i.answeredFrom !== 'sent') found.push(`${who}: answered, shown as ${i.answeredFrom}`);
      if (reached && firsts !== 1) found.push(`${who}: ${firsts} first emails`);
      if (!reached && received.length > 0) found.push(`${who}: ${received.length} emails`);
      if (reached) delivered[i.audience] = (delivered[i.audience] ?? 0) + 1;
      // Never lost: every reminder due before now went to whoever has not answered.
      if (phase === 'open' && i.status === 'sent') {
        let due = 0;
        while ((nextReminderAt(round, i, i.sentAt!, due) ?? '9999') < iso(now)) due++;
        if (i.remindersSent !== due) found.push(`${who}: ${i.remindersSent} reminders sent, ${due} due by ${iso(now)}`);
      }
    }
    for (const status of INVITATION_STATUSES) {
      const actual = invitations.filter((i) => i.status === status).length;
      if (current.counts[status] !== actual) found.push(`counts.${status} ${current.counts[status]}, invitations ${actual}`);
      const answered = invitations.filter((i) => i.status === 'responded' && i.answeredFrom === status).length;
      if (current.answeredFrom[status] !== answered) found.push(`answeredFrom.${status} ${current.answeredFrom[status]}, invitations ${answered}`);
    }
    // The response rate's denominator: each person reached counted delivered once.
    for (const audience of new Set(scenario.audiences)) {
      // As the scores count it: the pro's (one campaign), per audience.
      const counted = (await proScores(db, agency.agencyId, round.proId, { from: round.period, to: round.period, audience }, now)).periods[0]!.delivered;
      if (counted !== (delivered[audience] ?? 0)) found.push(`${audience}s counted delivered ${counted}, reached ${delivered[audience] ?? 0}`);
    }
    return found.map((v) => `${phase}: ${v}`);
  }
}

type Stored = Invitation & { checkAt?: string };
/** Looked at for a lease (queued, claimed, a reminder in flight), not for a reminder planned. */
const isLeased = (i: Stored) => i.checkAt !== undefined && !(i.status === 'sent' && i.reminderSending === undefined && i.nextReminderAt != null);
async function invitationsOf(roundId: string): Promise<Stored[]> {
  const { Items = [] } = await db.doc.send(
    new QueryCommand({ TableName: db.table, KeyConditionExpression: 'PK = :pk AND begins_with(SK, :inv)', ExpressionAttributeValues: { ':pk': keys.round(roundId).PK, ':inv': 'INV#' }, ConsistentRead: true }),
  );
  return Items as Stored[];
}

describe('the sending pipeline (property)', () => {
  it.each<RecordsFrom>(['the SES store', 'Send events'])(
    'sends each person each email exactly once, and keeps the round counts true, whatever the queue, the workers, SES and DynamoDB do, SES\'s record from %s (stubs: SES answer lost, reset before SES, refused, DynamoDB failing after SES; with Send events: SNS late, twice, out of order, the handler\'s read stale)',
    async (from) => {
      await fc.assert(
        fc.asyncProperty(scenarioArb(from), async (scenario) => {
          const { violations, trace } = await play(scenario, from);
          if (process.env.EXACTLY_ONCE_TRACE) console.log(trace.join('\n'));
          expect(violations, trace.join('\n')).toEqual([]);
        }),
        {
          numRuns: RUNS,
          ...(process.env.EXACTLY_ONCE_EXAMPLE ? { examples: [[JSON.parse(process.env.EXACTLY_ONCE_EXAMPLE) as Scenario]], numRuns: 1, endOnFailure: true } : {}),
          ...(process.env.EXACTLY_ONCE_SEED ? { seed: Number(process.env.EXACTLY_ONCE_SEED), path: process.env.EXACTLY_ONCE_PATH } : {}),
        },
      );
    },
    RUNS * 10_000,
  );
});
