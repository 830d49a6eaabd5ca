/**
 * Benchmark: cold start. Each Lambda handler's bundle, built as `npm run build` builds it, against
 * a floor built the same way in the same run: a Hono hello world with the same AWS SDK clients the
 * handler uses (the DynamoDB document client, SES, SQS as applicable). Compares the bundle size and
 * the median time to import the bundle over fresh Node processes, the handler's and its floor's
 * run one after the other in each round so that a busy moment of the machine falls on both.
 * Budgets (issue 16): a bundle at most 1.25× its floor in size and 1.10× in import time.
 *
 * A bundle split into chunks (the API: its groups of routes load on their first request) is
 * measured twice: INIT, the entry and the chunks it imports (what Lambda imports before the first
 * event; the budget applies to it, as to the floor's import), and a first request of its heaviest
 * group (INIT, then that group's chunks), reported against the same floor with no budget of its
 * own: a cold start that is such a first request pays it, a warm container never again. The floor
 * is built the same way, split too (the SDK's credential providers are `import()`ed), and its
 * first request is its INIT: what its one route needs, it has imported.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { bundle, bundleHandler, bundleSizes, handlerNames, installed, root, splitHandlers, type LazyGroup } from '../scripts/bundle';
import type { Figure } from './figures';

export const COLD_START_BUDGET = { size: 1.25, import: 1.1 };

type Client = 'dynamodb' | 'ses' | 'sqs';

/** The SDK clients each handler builds (packages/functions/src/handlers/runtime.ts, deps.ts). */
const clients: Record<string, Client[]> = {
  api: ['dynamodb', 'ses', 'sqs'],
  export: ['dynamodb'],
  sender: ['dynamodb', 'ses', 'sqs'],
  jobs: ['dynamodb', 'sqs'],
  'ses-events': ['dynamodb'],
};

/** The floor's source: the clients made on first request and one call of each, as a handler would. */
function floorSource(uses: Client[]): string {
  const has = (c: Client) => uses.includes(c);
  return [
    `import { Hono } from 'hono';`,
    `import { handle } from 'hono/aws-lambda';`,
    `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';`,
    `import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand, DeleteCommand, QueryCommand, TransactWriteCommand, BatchGetCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';`,
    has('ses') ? `import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';` : '',
    has('sqs') ? `import { SQSClient, SendMessageBatchCommand } from '@aws-sdk/client-sqs';` : '',
    `let db;`,
    `const app = new Hono().get('/', async (c) => {`,
    `  db ??= DynamoDBDocumentClient.from(new DynamoDBClient({}));`,
    `  const Key = { pk: 'a', sk: 'b' }, TableName = 't';`,
    `  const commands = [new GetCommand({ TableName, Key }), new PutCommand({ TableName, Item: Key }), new UpdateCommand({ TableName, Key }), new DeleteCommand({ TableName, Key }),`,
    `    new QueryCommand({ TableName }), new TransactWriteCommand({ TransactItems: [] }), new BatchGetCommand({ RequestItems: {} }), new BatchWriteCommand({ RequestItems: {} })];`,
    `  for (const command of commands) await db.send(command);`,
    has('ses') ? `  await new SESClient({}).send(new SendRawEmailCommand({ RawMessage: { Data: new Uint8Array() } }));` : '',
    has('sqs') ? `  await new SQSClient({}).send(new SendMessageBatchCommand({ QueueUrl: 'q', Entries: [] }));` : '',
    `  return c.text('Hello');`,
    `});`,
    `export const handler = handle(app);`,
  ].join('\n');
}

const env = {
  PATH: process.env.PATH,
  AWS_REGION: 'us-east-1',
  TABLE_NAME: 'rapport-bench',
  LINK_SECRET: 'bench-cold-start-secret-0123456789abcdef',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/**
 * Importing the bundle in a fresh Node process (the process's own start not counted): the wall
 * time, and the CPU time of the process's threads meanwhile. On a machine shared with other work
 * the wall time also counts the waits for a core; the CPU time does not, which is why the budget
 * is checked on it. With `then`, the chunk a first request loads after it, counted too.
 */
async function importMs(file: string, then?: string): Promise<{ wall: number; cpu: number }> {
  const script = `
    globalThis.awslambda = { streamifyResponse: (handler) => handler };
    const start = performance.now(), cpu = process.cpuUsage();
    await import(${JSON.stringify(pathToFileURL(file).href)});
    ${then ? `await import(${JSON.stringify(pathToFileURL(then).href)});` : ''}
    const { user, system } = process.cpuUsage(cpu);
    console.log(JSON.stringify({ wall: performance.now() - start, cpu: (user + system) / 1000 }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: dirname(file), env });
  return JSON.parse(stdout);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export interface ColdStartResult {
  name: string;
  /** What INIT loads: the entry and the chunks it imports. */
  bytes: number;
  floorBytes: number;
  /** Every file of the bundle (the same as `bytes` when it is one file). */
  totalBytes: number;
  /** A split bundle's first request of its heaviest group of routes: what it loads (INIT included) and the median CPU time of the imports. */
  firstRequest?: { group: string; bytes: number; importMs: number; sizeRatio: number; importRatio: number };
  /** Median CPU time of the INIT import, ms. */
  importMs: number;
  floorImportMs: number;
  /** Median wall time of the import, ms. */
  importWallMs: number;
  floorImportWallMs: number;
  sizeRatio: number;
  importRatio: number;
  /** The figures over budget: `size`, `import`. */
  over: ('size' | 'import')[];
}

/** Builds every handler and its floor into a scratch directory (outside the repository, as Lambda has no node_modules), then times imports over `runs` rounds. */
export async function benchColdStart(log: (line: string) => void, runs = 30, names = handlerNames): Promise<ColdStartResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'rapport-cold-start-'));
  const require = createRequire(join(root, 'packages/functions/package.json'));
  try {
    type Times = { wall: number; cpu: number }[];
    const built: { name: string; file: string; floor: string; bytes: number; totalBytes: number; floorBytes: number; heaviest?: LazyGroup; times: Times; floorTimes: Times; firstTimes: Times }[] = [];
    for (const name of names) {
      const out = join(dir, name);
      const floorOut = join(dir, `${name}-floor`);
      const sizes = bundleSizes(await bundleHandler(name, out), out);
      for (const pkg of installed[name] ?? []) cpSync(dirname(require.resolve(`${pkg}/package.json`)), join(out, 'node_modules', pkg), { recursive: true });
      mkdirSync(floorOut, { recursive: true });
      const floorSizes = bundleSizes(await bundle({ contents: floorSource(clients[name]!), resolveDir: join(root, 'packages/functions') }, floorOut, { splitting: splitHandlers.includes(name) }), floorOut);
      const heaviest = sizes.groups[0];
      built.push({ name, file: sizes.entry, floor: floorSizes.entry, bytes: sizes.initBytes, totalBytes: sizes.totalBytes, floorBytes: floorSizes.initBytes, heaviest, times: [], floorTimes: [], firstTimes: [] });
    }
    // A first import of each warms the disk cache, not counted.
    for (const b of built) await Promise.all([importMs(b.file, b.heaviest?.file), importMs(b.floor)]);
    for (let run = 0; run < runs; run++) {
      for (const b of built) {
        // Alternate which goes first, so neither always follows the other.
        if (run % 2) b.floorTimes.push(await importMs(b.floor)), b.times.push(await importMs(b.file));
        else b.times.push(await importMs(b.file)), b.floorTimes.push(await importMs(b.floor));
        if (b.heaviest) b.firstTimes.push(await importMs(b.file, b.heaviest.file));
      }
      if ((run + 1) % 5 === 0) log(`cold start: ${run + 1}/${runs} rounds of imports`);
    }
    return built.map((b): ColdStartResult => {
      const [subject, floor] = [median(b.times.map((t) => t.cpu)), median(b.floorTimes.map((t) => t.cpu))];
      const sizeRatio = b.bytes / b.floorBytes;
      // Each round's bundle and floor ran one right after the other: the median of their ratios
      // keeps a busy stretch of the machine, which slows both, out of the ratio.
      const importRatio = median(b.times.map((t, i) => t.cpu / b.floorTimes[i]!.cpu));
      const over = [...(sizeRatio > COLD_START_BUDGET.size ? ['size' as const] : []), ...(importRatio > COLD_START_BUDGET.import ? ['import' as const] : [])];
      const first = b.heaviest && { group: b.heaviest.source, bytes: b.bytes + b.heaviest.bytes, importMs: median(b.firstTimes.map((t) => t.cpu)) };
      const firstRequest = first && { ...first, sizeRatio: first.bytes / b.floorBytes, importRatio: median(b.firstTimes.map((t, i) => t.cpu / b.floorTimes[i]!.cpu)) };
      if (firstRequest) {
        log(`cold start: ${b.name} INIT ${(b.bytes / 1000).toFixed(0)} KB, ${subject.toFixed(1)} ms (${sizeRatio.toFixed(2)}×, ${importRatio.toFixed(2)}×); first request of ${firstRequest.group} ${(firstRequest.bytes / 1000).toFixed(0)} KB, ${firstRequest.importMs.toFixed(1)} ms (${firstRequest.sizeRatio.toFixed(2)}×, ${firstRequest.importRatio.toFixed(2)}×); all chunks ${(b.totalBytes / 1000).toFixed(0)} KB`);
      }
      return { name: b.name, bytes: b.bytes, floorBytes: b.floorBytes, totalBytes: b.totalBytes, ...(firstRequest ? { firstRequest } : {}), importMs: subject, floorImportMs: floor, importWallMs: median(b.times.map((t) => t.wall)), floorImportWallMs: median(b.floorTimes.map((t) => t.wall)), sizeRatio, importRatio, over };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const importNote =
  'CPU time of the import in a fresh Node process (process start not counted), 30 rounds; in each round the bundle and its floor run one right after the other, in alternating order; value and floor are the medians, the ratio is the median of the rounds\' ratios';

/** The results as the suite's figures: INIT against the budget; a split bundle's first request and total size beside it. */
export function coldStartFigures(results: ColdStartResult[]): Figure[] {
  return results.flatMap((r): Figure[] => {
    const floor = (value: number) => ({ name: `Hono hello world with the same SDK clients (${r.name})`, value });
    const kb = (n: number) => Math.round(n / 100) / 10;
    return [
      { scenario: 'cold-start', name: `${r.name} bundle, INIT size`, value: kb(r.bytes), unit: 'KB', floor: floor(kb(r.floorBytes)), ratio: r.sizeRatio, budget: { on: 'ratio', max: COLD_START_BUDGET.size } },
      { scenario: 'cold-start', name: `${r.name} bundle, INIT import (CPU, median)`, value: r.importMs, unit: 'ms', floor: floor(r.floorImportMs), ratio: r.importRatio, budget: { on: 'ratio', max: COLD_START_BUDGET.import }, note: importNote },
      ...(r.firstRequest
        ? [
            { scenario: 'cold-start', name: `${r.name} bundle, first request of ${r.firstRequest.group}: size loaded`, value: kb(r.firstRequest.bytes), unit: 'KB', floor: floor(kb(r.floorBytes)), ratio: r.firstRequest.sizeRatio, note: 'INIT and the chunks of the heaviest group of routes; no budget (a warm container never pays it)' },
            { scenario: 'cold-start', name: `${r.name} bundle, first request of ${r.firstRequest.group}: import (CPU, median)`, value: r.firstRequest.importMs, unit: 'ms', floor: floor(r.floorImportMs), ratio: r.firstRequest.importRatio },
            { scenario: 'cold-start', name: `${r.name} bundle, all chunks`, value: kb(r.totalBytes), unit: 'KB', note: 'chunks no request may load included' },
          ]
        : []),
    ];
  });
}

/** The scenario: every bundle against its floor, as figures. */
export async function benchColdStartFigures(_config: unknown, log: (line: string) => void): Promise<Figure[]> {
  return coldStartFigures(await benchColdStart(log));
}
