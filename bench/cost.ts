/**
 * Benchmark: the all-in AWS cost of 1,000 surveys, against SES alone for the same emails (the
 * floor: what sending them straight through SES would cost). The issue's model: 1,000 recipients,
 * 30% answering, the default reminders, weekly summaries, the scheduled job (with the summaries) on
 * the production stage's one schedule (hourly; the issue measured the scheduled job every 5
 * minutes and the summary job hourly, each on a schedule of its own, as they then ran), for the 14
 * days the round is open. The counts come from `measureWork`
 * (the emails that round's life sent, and each operation's DynamoDB units and time); the prices
 * from `bench/prices.json` (dated, with their sources). Budget: at most 1.05× SES alone.
 *
 * Assumptions, beside the prices':
 * - Lambda time is the time each operation took in this process against the local engines (DynamoDB
 *   Local, the SES server), billed per ms at the memory size of its function in infra/ (API 1,024 MB,
 *   the others 512 MB); init time and CloudWatch Logs are not counted. The sender takes SQS batches
 *   of 10 (infra/sender.ts): one invocation per 10 jobs, billed for their summed time.
 * - Each recipient who answers opens the survey page once and submits once; no one else opens it.
 * - Requests and jobs are counted as the handlers get them: the round's creation is one API
 *   request, its close the jobs the scheduled job queued for it; their units are per recipient.
 * - Every scheduled run looks for summaries due, as the production schedule runs it; the idle run is
 *   measured so. The five busy runs (reminders, after a wave) are measured without that look (one
 *   Query and one BatchGetItem), and a summary period's run (twice) on its own, its time added.
 * - The sender reserves its sending slots with one UpdateItem of 1 WRU per batch of 10 emails
 *   (`db/sending-slots.ts`); a reservation whose condition fails and is retried is not counted.
 * - SQS: a job is sent, received and deleted in batches of 10 (0.3 requests a job). SNS: one
 *   publish per email (SES's `Send` event), each handled by one invocation of the SES-event function.
 * - DynamoDB storage (about 1 MB for the round, $0.25 per GB-month) and data transfer are left out.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '@rapport/core';
import type { Figure } from './figures';
import { measureWork, type Operation, type Runs, type Work } from './work';
import { production } from '../stacks/production';
import { everySeconds } from '../stacks/settings';

interface Prices {
  recorded: string;
  prices: Record<'lambdaArm64GBSecond' | 'lambdaRequest' | 'httpApiRequest' | 'dynamoWriteRequestUnit' | 'dynamoReadRequestUnit' | 'sqsRequest' | 'snsPublish' | 'schedulerInvocation' | 'sesEmail', { usd: number; source: string }>;
}

export const COST_BUDGET = 1.05;
const SURVEYS = 1_000;
const DAYS = 14;
/** The production stage's one schedule (stacks/production.ts): the scheduled job, with the summaries, hourly. */
const SCHEDULED_EVERY_SECONDS = everySeconds(production.schedule);
const SCHEDULED_RUNS = (DAYS * 86_400) / SCHEDULED_EVERY_SECONDS;
/** A round's close is queued up to one scheduled run ahead and comes back early in hops of SQS's 15 minutes. */
const CLOSE_HOPS = Math.ceil(SCHEDULED_EVERY_SECONDS / 900);
const WEEKS = DAYS / 7;
/** Memory of each function, GB (infra/api.ts: 1,024 MB; infra/functions.ts: 512 MB by default). */
const MEMORY_GB: Record<Runs, number> = { api: 1, sender: 0.5, jobs: 0.5, 'ses-events': 0.5 };
const SENDER_BATCH = 10;

export interface CostBreakdown {
  total: number;
  floor: number;
  emails: number;
  services: Record<Service, number>;
  /** The same total less SES, by what causes it: each operation (all its services), the sending slots, the schedule. */
  causes: { name: string; usd: number }[];
}

type Service = 'SES' | 'DynamoDB' | 'Lambda' | 'HTTP API' | 'SQS' | 'SNS' | 'EventBridge Scheduler';

/** Prices `work` for 1,000 surveys; pure, so the model can be read (and checked) apart from the run. */
export function costOf(work: Work, { prices: p }: Prices): CostBreakdown {
  const scale = SURVEYS / work.recipients;
  const { ops } = work;
  const emails = (work.emails.invitations + work.emails.reminders) * scale + work.emails.summaries * WEEKS;
  const answered = work.answered * scale;
  // How many of each operation the 1,000 surveys take.
  const times: [Operation, number][] = [
    [ops.createRound, SURVEYS],
    [ops.invitation, work.emails.invitations * scale],
    [ops.reminder, work.emails.reminders * scale],
    [ops.sendEvent, emails],
    [ops.openSurvey, answered],
    [ops.submit, answered],
    [ops.close, SURVEYS],
    [ops.scheduledReminders, 2],
    // After the invitations and after each of the two reminder waves.
    [ops.scheduledAfterWave, 3],
    // The summaries are looked for in every run: in the idle ones, and at each weekly slot.
    [ops.scheduledIdle, SCHEDULED_RUNS - 5],
    [ops.summaryRun, WEEKS],
    [ops.summaryListing, WEEKS],
    [ops.summary, work.emails.summaries * WEEKS],
  ];
  const services = { SES: emails * p.sesEmail.usd, DynamoDB: 0, Lambda: 0, 'HTTP API': 0, SQS: 0, SNS: 0, 'EventBridge Scheduler': 0 } satisfies Record<Service, number>;
  const causes = new Map<string, number>();
  const charge = (cause: string, service: Service, usd: number) => {
    services[service] += usd;
    causes.set(cause, (causes.get(cause) ?? 0) + usd);
  };
  for (const [op, n] of times) {
    charge(op.name, 'DynamoDB', n * (op.writeUnits * p.dynamoWriteRequestUnit.usd + op.readUnits * p.dynamoReadRequestUnit.usd));
    charge(op.name, 'Lambda', ((n * Math.max(1, op.ms) * MEMORY_GB[op.runs]) / 1000) * p.lambdaArm64GBSecond.usd);
    // Invocations: an API request each; a sender one per SQS batch of 10 jobs; the SES-event
    // function one per SNS message (one per email); the scheduled runs, one each, below.
    if (op.runs === 'api') {
      charge(op.name, 'Lambda', n * op.invocations * p.lambdaRequest.usd);
      charge(op.name, 'HTTP API', n * op.invocations * p.httpApiRequest.usd);
    } else if (op.runs === 'sender') {
      charge(op.name, 'Lambda', ((n * op.invocations) / SENDER_BATCH) * p.lambdaRequest.usd);
      charge(op.name, 'SQS', n * op.invocations * 0.3 * p.sqsRequest.usd);
    } else if (op.runs === 'ses-events') {
      charge(op.name, 'Lambda', n * p.lambdaRequest.usd);
      charge(op.name, 'SNS', n * p.snsPublish.usd);
    }
  }
  // The sender Lambdas reserve their sending slots in one shared item, one UpdateItem (1 WRU) a batch.
  charge('reserving sending slots', 'DynamoDB', Math.ceil(emails / SENDER_BATCH) * p.dynamoWriteRequestUnit.usd);
  // The close job of the round, queued ahead: each hop one SQS send, receive and delete, and (at most) one sender invocation.
  const hops = 'the close queued ahead of its time (SQS hops)';
  charge(hops, 'SQS', CLOSE_HOPS * 3 * p.sqsRequest.usd);
  charge(hops, 'Lambda', CLOSE_HOPS * p.lambdaRequest.usd);
  const schedule = `the schedule (one: the scheduled job with the summaries, every ${SCHEDULED_EVERY_SECONDS / 60} minutes)`;
  charge(schedule, 'EventBridge Scheduler', SCHEDULED_RUNS * p.schedulerInvocation.usd);
  charge(schedule, 'Lambda', SCHEDULED_RUNS * p.lambdaRequest.usd);
  return {
    total: Object.values(services).reduce((a, b) => a + b, 0),
    floor: emails * p.sesEmail.usd,
    emails,
    services,
    causes: [...causes].map(([name, usd]) => ({ name, usd })).sort((a, b) => b.usd - a.usd),
  };
}

export async function benchCost(config: Config, log: (line: string) => void): Promise<Figure[]> {
  const prices = JSON.parse(readFileSync(join(import.meta.dirname, 'prices.json'), 'utf8')) as Prices;
  const cost = costOf(await measureWork(config, log), prices);
  const scenario = 'cost';
  return [
    {
      scenario,
      name: 'all-in AWS cost per 1,000 surveys',
      value: cost.total,
      unit: '$',
      floor: { name: `SES alone for the ${Math.round(cost.emails).toLocaleString('en')} emails`, value: cost.floor },
      ratio: cost.total / cost.floor,
      budget: { on: 'ratio', max: COST_BUDGET },
      note: `1,000 recipients, 30% answering, default reminders, weekly summaries, the scheduled job with the summaries on the production schedule (every ${SCHEDULED_EVERY_SECONDS / 60} min) for ${DAYS} days; us-east-1 list prices of ${prices.recorded} (bench/prices.json)`,
    },
    ...Object.entries(cost.services).map(([service, usd]): Figure => ({ scenario, name: `of which ${service}`, value: usd, unit: '$', note: `${((usd / cost.total) * 100).toFixed(1)}% of the total` })),
    // What the cost above SES alone (the budget: 5% of it) is spent on, by cause, largest first.
    ...cost.causes.map(({ name, usd }): Figure => ({ scenario, name: `beyond SES: ${name}`, value: usd, unit: '$', note: `${((usd / cost.floor) * 100).toFixed(2)}% of SES alone` })),
  ];
}
