/**
 * npm run build — writes the OpenAPI document the API serves (from the routes), bundles each Lambda
 * handler the way SST does (esbuild: ESM, minified, the AWS SDK bundled, target Node 22; the API
 * split into chunks), prints each bundle's size (what INIT loads; for a split bundle also its
 * heaviest first request and all its chunks), and fails when one exceeds its budget in
 * scripts/bundle-budget.json. Then loads each bundle in a fresh Node process, away from the
 * repository's node_modules (only what infra/ installs beside it), and has the API answer
 * GET /health and a path of each group of routes that needs no table: a bundle that cannot start
 * or load a chunk fails the build too (the sender's chunks are each imported).
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { writeOpenApiDocument } from '@rapport/functions';
import { budget, bundleHandler, bundleSizes, handlerNames as names, installed, root } from './bundle';

const outDir = join(root, 'dist/functions');

// Served as is by the API (no schema converted when a Lambda starts); SST bundles it from the source.
await writeOpenApiDocument();

rmSync(outDir, { recursive: true, force: true });
let failed = false;

for (const name of names) {
  const out = join(outDir, name);
  const sizes = bundleSizes(await bundleHandler(name, out), out);
  const gzip = gzipSync(readFileSync(sizes.entry)).length;
  const kb = (n: number) => `${(n / 1000).toFixed(1)} KB`;
  const over = sizes.initBytes > budget[name]! * 1000;
  failed ||= over;
  console.log(`${over ? '✗' : '✓'} ${name.padEnd(11)} ${kb(sizes.initBytes).padStart(9)} (entry gzip ${kb(gzip).padStart(8)})  budget ${budget[name]} KB  ${relative(root, sizes.entry)}`);
  const [heaviest] = sizes.groups;
  if (heaviest) console.log(`  ${''.padEnd(11)} first request of ${heaviest.source}: ${kb(sizes.initBytes + heaviest.bytes)}; all chunks: ${kb(sizes.totalBytes)}`);
}
if (failed) {
  console.error('build: a bundle is over its budget (scripts/bundle-budget.json)');
  process.exit(1);
}

// Each bundle must load on its own, as Lambda would load it from the deployment package.
const require = createRequire(join(root, 'packages/functions/package.json'));
const smoke = `
  // The Lambda runtime's global, which a streaming handler uses as its module loads.
  globalThis.awslambda = { streamifyResponse: (handler) => handler };
  const { handler } = await import(process.argv[1]);
  if (typeof handler !== 'function') throw new Error('no handler export');
  if (process.argv[2] === 'api') {
    const event = (path) => ({ version: '2.0', routeKey: '$default', rawPath: path, rawQueryString: '', headers: {}, isBase64Encoded: false,
      requestContext: { http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'build' }, requestId: 'r', routeKey: '$default', stage: '$default', domainName: 'localhost', apiId: 'a', accountId: '1', time: '', timeEpoch: 0 } });
    const context = { awsRequestId: 'build', functionName: 'api', getRemainingTimeInMillis: () => 1000 };
    // /health from INIT alone; then one path of each group of routes that answers without the table.
    for (const path of ['/health', '/docs/assets/swagger-ui.css', '/openapi.json', '/login', '/assets/pages.css']) {
      const res = await handler(event(path), context);
      if (res.statusCode !== 200) throw new Error(path + ' answered ' + res.statusCode);
    }
  }
  if (process.argv[2] === 'sender') {
    // The chunks its rarer kinds of job load on their first job: each must load.
    const { readdirSync } = await import('node:fs');
    for (const file of readdirSync('.').filter((f) => f.endsWith('.mjs'))) await import('./' + file);
  }
`;
const env = {
  PATH: process.env.PATH,
  AWS_REGION: 'us-east-1',
  TABLE_NAME: 'rapport-build',
  LINK_SECRET: 'build-smoke-test-secret-0123456789abcdef',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
const sandbox = mkdtempSync(join(tmpdir(), 'rapport-bundles-'));
try {
  for (const name of names) {
    const dir = join(sandbox, name);
    cpSync(join(outDir, name), dir, { recursive: true });
    for (const pkg of installed[name] ?? []) cpSync(dirname(require.resolve(`${pkg}/package.json`)), join(dir, 'node_modules', pkg), { recursive: true });
    try {
      await promisify(execFile)(process.execPath, ['--input-type=module', '-e', smoke, join(dir, 'index.mjs'), name], { cwd: dir, env });
    } catch (error) {
      const stderr = String((error as { stderr?: string }).stderr ?? error).trim().split('\n');
      console.error(`✗ ${name} does not load on its own:\n  ${stderr.filter((l) => /Error/.test(l)).slice(0, 3).join('\n  ') || stderr.slice(-5).join('\n  ')}`);
      process.exitCode = 1;
      continue;
    }
    console.log(`✓ ${name} loads on its own${name === 'api' ? ', answers GET /health and loads its groups of routes' : name === 'sender' ? ', and its chunks' : ''}`);
  }
} finally {
  rmSync(sandbox, { recursive: true, force: true });
}
