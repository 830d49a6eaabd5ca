/**
 * `npm run job -- <job> [options]`: runs a scheduled job once, by hand, against the running
 * `npm start` (see connectToInstance; or AWS with `--aws`), sends what it queues, and prints a
 * JSON summary on the last line of stdout. `--at` runs it as if at another time, e.g. to see reminders go out without
 * waiting three days.
 */
import { ConfigError, runScheduledJobs, runSummaries } from '@rapport/core';
import { createDeps, inProcessSendQueue, type Deps } from '@rapport/functions';
import { toolMain, UsageError } from './cli';

const usage = `Usage: npm run job -- <job> [options]

Jobs:
  scheduled   closes rounds whose time is up, sends the reminders due and any invitation
              whose send job was lost, marks failed the sends a dead worker left unfinished
              (the local runner does this every minute by itself)
  summaries   sends the improvement summaries that are due (the local runner does this
              hourly); with --period, every pro's summary of that month

Options:
  --at <ISO 8601 time>   run as if it were then (default: now)
  --period <YYYY-MM>     summaries: the month to summarise, whatever the agencies' cadence
  --aws                  use AWS (default: the \`npm start\` running for DATA_DIR, .data)
  --help                 show this help

It sends through that instance's SES, and the links in the emails open its pages.`;

function parseAt(value: string | undefined): Date {
  if (value === undefined) return new Date();
  const at = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(at.getTime())) throw new UsageError(`--at must be an ISO 8601 time such as 2026-12-01T09:00:00Z (got "${value}")`);
  return at;
}

process.exitCode = await toolMain(process.argv.slice(2), usage, { at: { type: 'string' }, period: { type: 'string' } }, async (command, values, connect) => {
  if (command !== 'scheduled' && command !== 'summaries') throw new UsageError(`Unknown job "${command}"`);
  const at = parseAt(values.at as string | undefined);
  const period = values.period as string | undefined;
  if (period !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(period)) throw new UsageError(`--period must be a month such as 2026-11 (got "${period}")`);
  const { config } = connect();
  // Not AWS's SES by accident: an explicit DYNAMODB_ENDPOINT leaves SES to the caller too.
  if (!values.aws && !config.sesEndpoint) throw new ConfigError('Set SES_ENDPOINT too when DYNAMODB_ENDPOINT is set (or give --aws to send through AWS).');
  // What the summaries sent: the run only queues them, one job per agency, then per pro.
  const mailed = { sent: 0, failed: 0 };
  const queue = inProcessSendQueue(() => deps, { ratePerSecond: config.sendRatePerSecond }, (job, outcome) => {
    if (job.kind !== 'summary' && job.kind !== 'agency-summary') return;
    if (outcome === 'sent' || outcome === 'failed') mailed[outcome]++;
  });
  // The jobs it queues (closing a round, sending) run at the same moved clock as the sweep that found them.
  const deps: Deps = createDeps(config, { queue, now: () => at });
  try {
    const summary = command === 'scheduled' ? await runScheduledJobs(deps, at) : await runSummaries(deps, at, { period });
    await queue.drain();
    return { job: command, at: at.toISOString(), ...summary, ...(command === 'summaries' ? mailed : {}) };
  } finally {
    deps.db.client.destroy();
  }
});
