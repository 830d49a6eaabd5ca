/**
 * Runs `sst.config.ts` with stand-ins for SST's globals (`$config`, `$app`, `$transform`, `sst.*`)
 * that record what each component is given, and checks the wiring a type-check cannot see: which
 * handler files each function runs, what each is linked to, the queue's redrive and batching, the
 * SES events, the schedule's event, and where links in emails point, for each stage. The component
 * types themselves are checked by `npm run check:infra`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tableDefinition } from '../packages/core/src/db/table-definition';
import { keys } from '../packages/core/src/db/keys';
import { everySeconds } from '../stacks/settings';
import { splitHandlers } from '../scripts/bundle';
import { settingsFor } from '../stacks';

const root = join(import.meta.dirname, '..');

interface Recorded {
  kind: string;
  name: string;
  args: any;
}

/** Fake SST: each component records its arguments and exposes placeholder outputs. */
function fakeSst(stage: string) {
  const components: Recorded[] = [];
  const functions: Recorded[] = [];
  const transforms: Array<(args: any) => void> = [];
  const fn = (name: string, args: any) => {
    const a = typeof args === 'string' ? { handler: args } : { ...args };
    transforms.forEach((t) => t(a));
    functions.push({ kind: 'Function', name, args: a });
    return a;
  };
  const component = (kind: string, extra: (name: string, args: any) => object = () => ({})) =>
    class {
      [key: string]: any;
      constructor(name: string, args: any = {}) {
        components.push({ kind, name, args });
        Object.assign(this, { name, arn: `arn:${kind}:${name}`, url: `https://${name.toLowerCase()}.example` }, extra(name, args));
      }
    };
  const sst = {
    Secret: component('Secret'),
    aws: {
      dns: () => ({ provider: 'route53' }),
      Function: class {
        [key: string]: any;
        constructor(name: string, args: any) {
          Object.assign(this, { name, url: `https://${name.toLowerCase()}.lambda-url.example` });
          fn(name, args);
        }
      },
      Dynamo: component('Dynamo', () => ({
        subscribe: (subName: string, subscriber: any, args: any) => {
          components.push({ kind: 'DynamoSubscription', name: subName, args });
          return { fn: fn(subName, subscriber) };
        },
      })),
      SnsTopic: component('SnsTopic', (name) => ({
        subscribe: (subName: string, subscriber: any) => ({ topic: name, fn: fn(subName, subscriber) }),
      })),
      Email: component('Email', (_n, args) => ({ sender: args.sender, configSet: 'config-set' })),
      Queue: component('Queue', (name) => ({
        subscribe: (subscriber: any, args: any) => {
          components.push({ kind: 'QueueSubscription', name, args });
          return { fn: fn(`${name}Subscriber`, subscriber) };
        },
      })),
      ApiGatewayV2: component('ApiGatewayV2', (name) => ({
        route: (route: string, handler: any) => fn(`${name}Route${route}`, handler),
      })),
      CronV2: component('CronV2', (name, args) => {
        fn(name, args.function);
        return { nodes: { schedule: { name: `${name}Schedule` } } };
      }),
    },
  };
  Object.assign(globalThis, {
    sst,
    $app: { name: 'rapport', stage },
    $config: (config: unknown) => config,
    $transform: (target: unknown, t: (args: any) => void) => {
      if (target === sst.aws.Function) transforms.push(t);
    },
  });
  const byName = (name: string) => functions.find((f) => f.name === name)!.args;
  const component_ = (kind: string, name?: string) => components.find((c) => c.kind === kind && (!name || c.name === name))!;
  return { components, functions, byName, component: component_ };
}

async function deploy(stage: string) {
  vi.resetModules();
  const sst = fakeSst(stage);
  const config = (await import('../sst.config')).default as unknown as { app: (i: { stage: string }) => any; run: () => Promise<Record<string, unknown>> };
  const outputs = await config.run();
  return { ...sst, app: config.app({ stage }), outputs };
}

afterEach(() => {
  for (const key of ['sst', '$app', '$config', '$transform']) delete (globalThis as Record<string, unknown>)[key];
});

const names = (links: Array<{ name: string }>) => links.map((l) => l.name).sort();

describe('the SST app, run with stand-ins for SST', () => {
  it('runs each function from a handler file that exports `handler`, with Node 22 on arm64 and JSON logs', async () => {
    const { functions } = await deploy('production');
    expect(functions.map((f) => f.args.handler).sort()).toEqual(
      ['api', 'export', 'jobs', 'jobs', 'sender', 'ses-events'].map((h) => `packages/functions/src/handlers/${h}.handler`),
    );
    for (const { args } of functions) {
      const file = join(root, `${args.handler.replace(/\.handler$/, '')}.ts`);
      expect(existsSync(file), file).toBe(true);
      expect(readFileSync(file, 'utf8')).toMatch(/export (async )?function handler\(|export const handler = /);
      expect(args).toMatchObject({ runtime: 'nodejs22.x', architecture: 'arm64', logging: { format: 'json', retention: '3 months' } });
      expect(args.nodejs.esbuild.external).toEqual(['zod']);
      // Split as `npm run build` and the cold-start bench split it (scripts/bundle.ts).
      expect(args.nodejs.splitting ?? false, args.handler).toBe(splitHandlers.includes(args.handler.replace(/^.*\/|\.handler$/g, '')));
      expect(args.environment).toMatchObject({ POWERTOOLS_LOG_LEVEL: 'INFO', MAIL_FROM: 'surveys@rapport.example', SEND_RATE_PER_SECOND: '14' });
    }
  });

  it('links each function to only what it uses', async () => {
    const { byName } = await deploy('production');
    expect(names(byName('ApiRoute$default').link)).toEqual(['LinkSecret', 'SendQueue', 'Table']);
    expect(names(byName('SendQueueSubscriber').link)).toEqual(['Email', 'LinkSecret', 'SendQueue', 'Table']);
    expect(names(byName('ScheduledJob').link)).toEqual(['SendQueue', 'Table']);
    expect(names(byName('SesEventsHandler').link)).toEqual(['Table']);
    expect(names(byName('ExportFunction').link)).toEqual(['Table']);
    expect(byName('ApiRoute$default').nodejs).toMatchObject({ install: ['swagger-ui-dist'], splitting: true });
    expect(byName('ApiRoute$default').environment.API_RATE_LIMIT_PER_MINUTE).toBe('600');
    // Sign-up is the stage's setting: closed in production, open on dev stages (SES sandbox).
    expect(byName('ApiRoute$default').environment.SIGNUP).toBe('closed');
    expect((await deploy('dev')).byName('ApiRoute$default').environment.SIGNUP).toBe('open');
  });

  it('streams the CSV export from a Function URL in RESPONSE_STREAM mode, and outputs its address', async () => {
    const { byName, outputs } = await deploy('production');
    expect(byName('ExportFunction')).toMatchObject({ handler: 'packages/functions/src/handlers/export.handler', streaming: true, url: true, timeout: '15 minutes' });
    expect(byName('ExportFunction').environment.API_RATE_LIMIT_PER_MINUTE).toBe('600');
    expect(outputs.exportUrl).toBe('https://exportfunction.lambda-url.example');
  });

  it('declares the table from the one table definition: keys, every index, TTL', async () => {
    const { component } = await deploy('dev');
    const { args } = component('Dynamo', 'Table');
    expect(args.primaryIndex).toEqual({ hashKey: tableDefinition.partitionKey, rangeKey: tableDefinition.sortKey });
    expect(Object.keys(args.globalIndexes)).toEqual(Object.keys(tableDefinition.globalIndexes));
    expect(args.ttl).toBe(tableDefinition.ttlAttribute);
    for (const field of Object.keys(args.fields)) expect(args.fields[field]).toBe('string');
  });

  it('feeds the sender from SQS in batches with partial responses, at the stage rate, with a dead-letter queue', async () => {
    const { component, byName } = await deploy('production');
    const { sending, retention } = settingsFor('production');
    const queue = component('Queue', 'SendQueue').args;
    expect(queue.dlq).toEqual({ queue: 'arn:Queue:SendDeadLetters', retry: sending.maxReceives });
    const sender = byName('SendQueueSubscriber');
    expect(queue.visibilityTimeout).toBe(`${6 * parseInt(sender.timeout, 10)} seconds`);
    const subscription = component('QueueSubscription', 'SendQueue').args;
    expect(subscription.batch).toMatchObject({ size: 10, partialResponses: true });
    const mapping: any = {};
    subscription.transform.eventSourceMapping(mapping);
    expect(mapping.scalingConfig).toEqual({ maximumConcurrency: sending.concurrency });
    expect(sender.environment).toMatchObject({ SENDER_MAX_RECEIVES: String(sending.maxReceives) });
    const dlq: any = {};
    component('Queue', 'SendDeadLetters').args.transform.queue(dlq);
    expect(dlq.messageRetentionSeconds).toBe(retention.deadLetterDays * 86_400);
  });

  it('sends SES send, bounce and complaint events to the topic the SES-event function reads', async () => {
    const { component, components, byName } = await deploy('production');
    const email = component('Email', 'Email').args;
    expect(email).toMatchObject({ sender: 'rapport.example', dns: { provider: 'route53' }, mailFrom: { domain: 'mail.rapport.example' } });
    expect(email.events).toEqual([{ name: 'SendsBouncesAndComplaints', types: ['send', 'bounce', 'complaint'], topic: 'arn:SnsTopic:SesEvents' }]);
    expect(components.filter((c) => c.kind === 'SnsTopic').map((c) => c.name)).toEqual(['SesEvents']);
    // What still fails after Lambda's retries is kept, not lost.
    const handler = byName('SesEventsHandler');
    const lambda: any = {};
    handler.transform.function(lambda);
    expect(lambda.deadLetterConfig).toEqual({ targetArn: 'arn:Queue:SesEventDeadLetters' });
    expect(handler.permissions).toEqual([{ actions: ['sqs:SendMessage'], resources: ['arn:Queue:SesEventDeadLetters'] }]);
  });

  it('keeps link tokens and respondents\' IP addresses out of the HTTP API\'s access log', async () => {
    const { component } = await deploy('production');
    const { args } = component('ApiGatewayV2');
    const stage = { accessLogSettings: { destinationArn: 'arn:logs:api', format: JSON.stringify({ path: '$context.path', ip: '$context.identity.sourceIp' }) } };
    args.transform.stage(stage);
    expect(stage.accessLogSettings.destinationArn).toBe('arn:logs:api');
    expect(JSON.parse(stage.accessLogSettings.format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    expect(stage.accessLogSettings.format).not.toMatch(/path|sourceIp|userAgent|querystring/i);
    expect(args.accessLog).toEqual({ retention: '3 months' });
  });

  it('runs the jobs on one schedule with the event the jobs handler knows', async () => {
    const { component, components } = await deploy('production');
    expect(component('CronV2', 'ScheduledJob').args).toMatchObject({ schedule: 'rate(1 hour)', event: { job: 'scheduled', everySeconds: 3600 }, retries: 0 });
    // The summaries run within it (runScheduledJobs with the summaries), not on a schedule of their own.
    expect(components.filter((c) => c.kind === 'CronV2').map((c) => c.name)).toEqual(['ScheduledJob']);
    const handler = readFileSync(join(root, 'packages/functions/src/handlers/jobs.ts'), 'utf8');
    expect(handler).toContain(`job: 'scheduled' | 'summaries'`);
    expect(everySeconds('rate(5 minutes)')).toBe(300);
    expect(everySeconds('rate(1 day)')).toBe(86_400);
  });

  it('fans out new webhook events from the table stream (keys only, event items only) with the jobs function', async () => {
    const { component, byName } = await deploy('production');
    expect(component('Dynamo').args.stream).toBe('keys-only');
    const { args } = component('DynamoSubscription', 'WebhookEvents');
    expect(args.filters).toEqual([{ eventName: ['INSERT'], dynamodb: { Keys: { PK: { S: [{ prefix: 'EVT#' }] } } } }]);
    expect(keys.webhookEvent('msg_1').PK.startsWith('EVT#')).toBe(true);
    const mapping: Record<string, unknown> = {};
    args.transform.eventSourceMapping(mapping);
    expect(mapping).toEqual({ maximumRetryAttempts: 2, bisectBatchOnFunctionError: true });
    expect(names(byName('WebhookEvents').link)).toEqual(['SendQueue', 'Table']);
  });

  it('points links in emails at the custom domain in production, and at the API in dev', async () => {
    const production = await deploy('production');
    expect(production.component('ApiGatewayV2').args.domain).toEqual({ name: 'surveys.rapport.example', dns: { provider: 'route53' } });
    expect(production.byName('SendQueueSubscriber').environment.PUBLIC_URL).toBe('https://surveys.rapport.example');
    expect(production.outputs.url).toBe('https://surveys.rapport.example');
    expect(production.app).toMatchObject({ removal: 'retain', protect: true });

    const dev = await deploy('dev');
    expect(dev.component('ApiGatewayV2').args.domain).toBeUndefined();
    expect(dev.byName('SendQueueSubscriber').environment.PUBLIC_URL).toBe('https://api.example');
    expect(dev.byName('ApiRoute$default').environment.PUBLIC_URL).toBe('https://api.example');
    const devEmail = dev.component('Email').args;
    expect(devEmail.sender).toBe('surveys-dev@rapport.example');
    expect(devEmail).not.toHaveProperty('dns'); // an address identity: no DNS records, no DMARC
    expect(devEmail).not.toHaveProperty('dmarc');
    expect(dev.app).toMatchObject({ removal: 'remove', protect: false });
  });
});
