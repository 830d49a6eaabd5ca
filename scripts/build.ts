/**
 * npm run build — bundles each Lambda handler the way SST does (esbuild: ESM, minified, the AWS
 * SDK bundled, target Node 22), prints each bundle's size, and fails when one exceeds its budget
 * in scripts/bundle-budget.json. Then loads each bundle in a fresh Node process, away from the
 * repository's node_modules (only what infra/ installs beside it), and has the API answer
 * GET /health and a Swagger UI asset: a bundle that cannot start fails the build too.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { budget, bundleHandler, handlerNames as names, installed, root } from './bundle';

const outDir = join(root, 'dist/functions');

rmSync(outDir, { recursive: true, force: true });
let failed = false;

for (const name of names) {
  const outfile = join(outDir, name, 'index.mjs');
  await bundleHandler(name, outfile);
  const bytes = statSync(outfile).size;
  const gzip = gzipSync(readFileSync(outfile)).length;
  const kb = (n: number) => `${(n / 1000).toFixed(1)} KB`;
  const over = bytes > budget[name]! * 1000;
  failed ||= over;
  console.log(`${over ? '✗' : '✓'} ${name.padEnd(11)} ${kb(bytes).padStart(9)} (gzip ${kb(gzip).padStart(8)})  budget ${budget[name]} KB  ${relative(root, outfile)}`);
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
    for (const path of ['/health', '/docs/assets/swagger-ui.css']) {
      const res = await handler(event(path), context);
      if (res.statusCode !== 200) throw new Error(path + ' answered ' + res.statusCode);
    }
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
    console.log(`✓ ${name} loads on its own${name === 'api' ? ' and answers GET /health' : ''}`);
  }
} finally {
  rmSync(sandbox, { recursive: true, force: true });
}
