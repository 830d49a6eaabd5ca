/**
 * Benchmark: the work behind each operation, as AWS would bill it. One round of `WORK_RECIPIENTS`
 * (default 1,000; a third of each audience) is run through its life on a table of its own, on the
 * system's clock moved by hand: created, every invitation sent, 30% answered (the survey page
 * opened, then submitted) before the first reminder, some answers revised, the default reminders
 * sent, the round closed, the weekly summary sent, scores and responses read. Each operation is
 * called the way its handler calls it (the domain functions, the API and pages through the
 * in-process app), and metered: DynamoDB calls, read units as DynamoDB reports them, write units as
 * AWS charges them (`meterCapacity` with `writes`: transactional writes at 2 units per KB per item,
 * index writes counted), SES calls, and the time spent (less the meter's own reads).
 * `benchCost` prices these counts; `measureWork` runs once per process for both.
 */
import type { Config, Mailer, SendJob } from '@rapport/core';
import { AUDIENCE_DIMENSIONS, cancelRound, createAgency, createApiKey, createCampaign, createPro, createRound, createSesMailer, ensureTable, handleSesNotification, mapConcurrent, recordedSends, runScheduledJobs, runSummaries, signInvitationToken, type Invitation } from '@rapport/core';
import { deliver } from '@rapport/core/sending/dispatch';
import { createApp, createDeps, deliveryDeps, type Deps } from '@rapport/functions';
import { meterCapacity } from './capacity';
import type { Figure } from './figures';

/** Which Lambda function runs an operation (its memory size is in infra/). */
export type Runs = 'api' | 'sender' | 'jobs' | 'ses-events';

export interface Operation {
  name: string;
  /** What one is: `recipient`, `invitation`, `request`, `run`… */
  per: string;
  runs: Runs;
  /** How many were measured; the figures below are per one. */
  count: number;
  /** Invocations of its function per one: an API request, a queued job, a scheduled run (creating a round of 1,000 is one request). */
  invocations: number;
  calls: number;
  readUnits: number;
  writeUnits: number;
  /** `writeUnits` by the written item's type, its index writes apart (per one). */
  writeUnitsByItem: Record<string, number>;
  sesCalls: number;
  /** Wall time in this process, less the meter's own reads. */
  ms: number;
  commands: Record<string, number>;
}

export interface Work {
  recipients: number;
  /** Emails the round's life sent, by kind. */
  emails: { invitations: number; reminders: number; summaries: number };
  answered: number;
  ops: Record<OperationKey, Operation>;
}

type OperationKey =
  | 'createRound'
  | 'invitation'
  | 'sendEvent'
  | 'openSurvey'
  | 'submit'
  | 'revise'
  | 'scheduledReminders'
  | 'reminder'
  | 'close'
  | 'summaryRun'
  | 'summaryListing'
  | 'summary'
  | 'scores'
  | 'responses'
  | 'scheduledAfterWave'
  | 'scheduledIdle';

const ANSWER_SHARE = 0.3;
const REVISED = 50;
/** Operations measured one at a time, of those that are all alike. */
const SAMPLE = 50;
const AUDIENCES = ['reporter', 'colleague', 'client'] as const;

let measured: Promise<Work> | undefined;
/** The work counts, measured once per process (`work` and `cost` share them). */
export function measureWork(config: Config, log: (line: string) => void): Promise<Work> {
  measured ??= runWork(config, log);
  return measured;
}

async function runWork(config: Config, log: (line: string) => void): Promise<Work> {
  const recipients = Number(process.env.WORK_RECIPIENTS ?? 1_000);
  const table = `rapport-bench-work-${Date.now()}`;
  let clock = new Date('2030-03-04T10:00:00Z'); // a Monday: the weekly summaries go on Mondays at 9
  let sesCalls = 0;
  const ses = createSesMailer({ region: config.region, endpoint: config.sesEndpoint });
  // Unpaced: each email's work is counted, not the pacing between them.
  const sent: { messageId: string; tags: Record<string, string> }[] = [];
  // Outside the measured samples SES's answer is made up: only the state the sends leave matters there.
  let stubbed = false;
  const mailer: Mailer = {
    async send(message) {
      sesCalls++;
      const result = stubbed ? { messageId: `bench-${sent.length}` } : await ses.send(message);
      sent.push({ messageId: result.messageId, tags: message.tags ?? {} });
      return result;
    },
  };
  const queued: SendJob[] = [];
  let address = 0;
  const deps: Deps = createDeps(
    { ...config, table },
    { mailer, now: () => clock, queue: { enqueue: async (jobs) => void queued.push(...jobs) }, clientAddress: () => `2001:db8:${(++address).toString(16)}::1` },
  );
  await ensureTable(deps.db.client, table);
  const meter = meterCapacity(deps.db, { writes: true });
  const worker = () => ({ ...deliveryDeps(deps), records: recordedSends(deps.db) });
  const app = createApp(deps);
  const jobsDeps = () => ({ db: deps.db, queue: deps.queue, records: recordedSends(deps.db) });
  const take = <K extends SendJob['kind']>(kind: K) => {
    const jobs = queued.filter((j): j is Extract<SendJob, { kind: K }> => j.kind === kind);
    queued.splice(0, queued.length, ...queued.filter((j) => j.kind !== kind));
    return jobs;
  };

  const ops = {} as Record<OperationKey, Operation>;
  /** Runs `body` metered as `count` operations of `key`. */
  async function measure(key: OperationKey, name: string, per: string, runs: Runs, count: number, body: () => Promise<unknown>, invocations = count) {
    meter.reset();
    sesCalls = 0;
    const t0 = performance.now();
    await body();
    const wall = performance.now() - t0;
    const m = meter.read();
    ops[key] = {
      name,
      per,
      runs,
      count,
      invocations: invocations / count,
      calls: m.calls / count,
      readUnits: m.readUnits / count,
      writeUnits: m.writeUnits / count,
      writeUnitsByItem: Object.fromEntries(Object.entries(m.writeUnitsByItem).map(([item, units]) => [item, units / count])),
      sesCalls: sesCalls / count,
      ms: Math.max(0, wall - m.imagingMs) / count,
      commands: Object.fromEntries(Object.entries(m.commands).map(([c, n]) => [c, n / count])),
    };
    log(`${name}: ${ops[key].calls.toFixed(2)} calls, ${ops[key].writeUnits.toFixed(2)} WRU, ${ops[key].readUnits.toFixed(2)} RCU a ${per} (${(wall / 1000).toFixed(1)} s)`);
  }
  const sequentially = async <T>(items: T[], each: (item: T) => Promise<unknown>) => {
    for (const item of items) await each(item);
  };
  /**
   * Operations that are all alike (one per invitation): a sample measured one at a time, the rest
   * run 8 at once without computing their write units (and SES's answer made up), to keep the run short.
   */
  async function sampled<T>(key: OperationKey, name: string, per: string, runs: Runs, items: T[], each: (item: T) => Promise<unknown>) {
    const sample = items.slice(0, SAMPLE);
    await measure(key, name, per, runs, sample.length, () => sequentially(sample, each));
    meter.pauseWrites(true);
    stubbed = true;
    const t0 = performance.now();
    await mapConcurrent(items.slice(SAMPLE), 8, each);
    log(`  the other ${Math.max(0, items.length - SAMPLE)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    stubbed = false;
    meter.pauseWrites(false);
  }

  const agency = await createAgency(deps.db, { name: 'Bench work', timezone: 'UTC' }, clock);
  const pro = await createPro(deps.db, agency.agencyId, { name: 'Jane Doe', email: 'jane@bench-work.example' }, clock);
  const campaign = await createCampaign(deps.db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, clock);
  const { secret } = await createApiKey(deps.db, agency.agencyId, { role: 'admin' }, clock);
  const list = (tag: string) => Array.from({ length: recipients }, (_, i) => ({ email: `r${i}-${tag}@bench-work.example`, audience: AUDIENCES[i % 3]! }));

  // The round's write is concurrent inside: timed on a second round of the same size without the
  // meter's reads (then cancelled, so nothing of it is sent or due).
  let accepted: Invitation[] = [];
  let roundId = '';
  await measure('createRound', 'create a round, per recipient', 'recipient', 'api', recipients, async () => {
    const created = await createRound(deps.db, agency.agencyId, campaign.campaignId, { recipients: list('a') }, clock);
    [accepted, roundId] = [created.accepted, created.round.roundId];
  }, 1);
  {
    const other = await createCampaign(deps.db, agency.agencyId, { proId: pro.proId, name: 'Timing' }, clock);
    meter.pauseWrites(true);
    const t0 = performance.now();
    const timed = await createRound(deps.db, agency.agencyId, other.campaignId, { recipients: list('b') }, clock);
    ops.createRound.ms = (performance.now() - t0) / recipients;
    meter.pauseWrites(false);
    await cancelRound(deps.db, agency.agencyId, timed.round.roundId);
  }

  clock = new Date(clock.getTime() + 60_000);
  // A sender keeps the round it emails from (`roundForSending`): its first send of a round also
  // reads the round (one GetItem, 0.5 RCU), made here before the measured sends, a warm worker's.
  const [warmUp, ...others] = accepted;
  await deliver(worker(), { kind: 'invitation', roundId, invitationId: warmUp!.invitationId });
  await sampled('invitation', 'send an invitation', 'invitation', 'sender', others, (i) => deliver(worker(), { kind: 'invitation', roundId, invitationId: i.invitationId }));
  const invitations = sent.length;

  // SES's `Send` event for each email, through SNS to the SES-event function (a sample).
  const events = sent.slice(0, 100);
  await measure('sendEvent', "record SES's Send event", 'email', 'ses-events', events.length, () =>
    sequentially(events, (e) =>
      handleSesNotification(deps.db, JSON.stringify({ eventType: 'Send', mail: { messageId: e.messageId, timestamp: clock.toISOString(), tags: Object.fromEntries(Object.entries(e.tags).map(([k, v]) => [k, [v]])) } }), clock),
    ),
  );

  clock = new Date(clock.getTime() + 3_600_000);
  const answering = accepted.slice(0, Math.round(recipients * ANSWER_SHARE));
  const path = (i: Invitation) => `/s/${signInvitationToken(deps.linkSecret, { roundId, invitationId: i.invitationId })}`;
  const form = (i: Invitation, score: number) =>
    new URLSearchParams({ responsiveness: String(1 + (score % 5)), recommend: String(score % 11), [AUDIENCE_DIMENSIONS[i.audience][0]]: String(1 + ((score * 7) % 5)) }).toString();
  const post = async (i: Invitation, score: number) => {
    const res = await app.request(path(i), { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form(i, score) });
    if (res.status !== 200) throw new Error(`POST ${path(i)} answered ${res.status}`);
  };
  await sampled('openSurvey', 'open the survey page', 'request', 'api', answering, async (i) => {
    const res = await app.request(path(i));
    if (res.status !== 200) throw new Error(`GET ${path(i)} answered ${res.status}`);
  });
  let n = 0;
  await sampled('submit', 'submit an answer', 'request', 'api', answering, (i) => post(i, n++));
  const revising = answering.slice(0, REVISED);
  await measure('revise', 'revise an answer', 'request', 'api', revising.length, () => sequentially(revising, (i) => post(i, n++)));

  // Reminders: the scheduled job queues those due, the sender sends them.
  const reminderRound = async (atDays: number) => {
    clock = new Date(Date.parse('2030-03-04T10:00:00Z') + atDays * 86_400_000 + 300_000);
    await runScheduledJobs(jobsDeps(), clock);
    return take('reminder');
  };
  const first = await reminderRound(3);
  await sampled('reminder', 'send a reminder', 'reminder', 'sender', first, (job) => deliver(worker(), job));
  let remindersSent = first.length;
  let second: Extract<SendJob, { kind: 'reminder' }>[] = [];
  await measure('scheduledReminders', 'scheduled job, a run that queues reminders', 'run', 'jobs', 1, async () => {
    second = await reminderRound(7);
  });
  ops.scheduledReminders.name += ` (${second.length} queued)`;
  await mapConcurrent(second, 8, (job) => deliver(worker(), job));
  remindersSent += second.length;

  // The first run after a wave of emails looks at the round once more (its invitations' looks
  // moved on: the WORK item was left at the earliest); the runs after it are idle (a Tuesday: no summary slot).
  clock = new Date('2030-03-12T10:00:00Z');
  await measure('scheduledAfterWave', 'scheduled job, the run after a wave of emails', 'run', 'jobs', 1, () => runScheduledJobs(jobsDeps(), clock));
  clock = new Date('2030-03-12T11:00:00Z');
  // As AWS's one schedule runs it: with the summaries (a period's run found and not yet queued by hand).
  await measure('scheduledIdle', 'scheduled job with the summaries, nothing due', 'run', 'jobs', 1, () => runScheduledJobs(jobsDeps(), clock, undefined, { summaries: true }));
  queued.length = 0;

  // The close, queued by the scheduled job once the round's time is up.
  clock = new Date('2030-03-18T10:05:00Z');
  await runScheduledJobs(jobsDeps(), clock);
  const closes = take('close-round');
  await measure('close', 'close the round, per recipient', 'recipient', 'sender', recipients, () => sequentially(closes, (job) => deliver(worker(), job)), closes.length);
  queued.length = 0;

  // The next weekly summary: the hourly run queues the agency's listing, which queues each pro's.
  clock = new Date('2030-03-25T09:05:00Z');
  await measure('summaryRun', 'summary job, a run with a period due', 'run', 'jobs', 1, () => runSummaries(jobsDeps(), clock));
  const listing = take('summaries');
  const beforeSummaries = sent.length;
  await measure('summaryListing', "an agency's summary listing (per pro)", 'pro', 'sender', 1, () => sequentially(listing, (job) => deliver(worker(), job)));
  const summaries = take('summary');
  await measure('summary', "send a pro's summary", 'summary', 'sender', Math.max(1, summaries.length), () => sequentially(summaries, (job) => deliver(worker(), job)));
  for (const job of queued.splice(0)) await deliver(worker(), job);
  const summariesSent = sent.length - beforeSummaries;

  const get = async (url: string) => {
    const res = await app.request(url, { headers: { Authorization: `Bearer ${secret}` } });
    if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
  };
  await measure('scores', 'GET 12 months of scores', 'request', 'api', 1, () => get(`/v1/pros/${pro.proId}/scores?from=2029-04&to=2030-03`));
  await measure('responses', 'GET a page of responses', 'request', 'api', 1, () => get('/v1/responses'));

  deps.db.client.destroy();
  return { recipients, answered: answering.length, emails: { invitations, reminders: remindersSent, summaries: summariesSent }, ops };
}

/**
 * The scenario's figures: per operation, DynamoDB calls, read and write units and SES calls.
 * Budget: sending one invitation ≤ 2 DynamoDB calls and ≤ 6 write units; the rest is reported.
 */
export async function benchWork(config: Config, log: (line: string) => void): Promise<Figure[]> {
  const work = await measureWork(config, log);
  const scenario = 'work';
  const figures: Figure[] = [];
  for (const [key, op] of Object.entries(work.ops) as [OperationKey, Operation][]) {
    const commands = Object.entries(op.commands)
      .map(([c, k]) => `${+k.toFixed(2)} ${c}`)
      .join(', ');
    const where = `${op.name} (${op.per}, mean of ${op.count})`;
    figures.push(
      {
        scenario,
        name: `${where}: DynamoDB calls`,
        value: op.calls,
        unit: 'calls',
        ...(key === 'invitation' ? { budget: { on: 'value' as const, max: 2 } } : {}),
        note: `${commands || 'none'}${key === 'invitation' || key === 'reminder' ? '; per send of a warm worker: a cold one\'s first send of a round also reads the round (1 GetItem, 0.5 RCU)' : ''}`,
      },
      {
        scenario,
        name: `${where}: write units`,
        value: op.writeUnits,
        unit: 'WRU',
        ...(key === 'invitation' ? { budget: { on: 'value' as const, max: 6 } } : {}),
        ...(op.writeUnits ? { note: `by item: ${Object.entries(op.writeUnitsByItem).map(([item, units]) => `${+units.toPrecision(2)} ${item}`).join(', ')}` } : {}),
      },
      { scenario, name: `${where}: read units`, value: op.readUnits, unit: 'RCU' },
    );
    if (op.sesCalls) figures.push({ scenario, name: `${where}: SES calls`, value: op.sesCalls, unit: 'calls' });
  }
  figures.push({
    scenario,
    name: `emails the round's life sent (${work.recipients.toLocaleString('en')} recipients, ${work.answered} answered)`,
    value: work.emails.invitations + work.emails.reminders + work.emails.summaries,
    unit: 'emails',
    note: `${work.emails.invitations} invitations, ${work.emails.reminders} reminders, ${work.emails.summaries} summaries`,
  });
  return figures;
}
