import { settings } from './settings';

/**
 * Defaults of every function (set before any is declared): Node.js 22 on Graviton (arm64),
 * CloudWatch's JSON log format (the handlers' logger writes JSON; Lambda adds the request id to anything
 * else), kept `retention.logs`. SST bundles each handler with esbuild, ESM and minified, the AWS
 * SDK included; `npm run build` does the same here and checks the sizes.
 * zod is left out of the bundles: hono-openapi's schema converter imports it only for zod schemas,
 * and ours are valibot, so it is never loaded.
 */
export function setFunctionDefaults() {
  $transform(sst.aws.Function, (args) => {
    args.runtime ??= 'nodejs22.x';
    args.architecture ??= 'arm64';
    args.memory ??= '512 MB';
    args.logging ??= { format: 'json', retention: settings.retention.logs };
    const nodejs = (args.nodejs ?? {}) as Exclude<sst.aws.FunctionArgs['nodejs'], undefined> & object;
    args.nodejs = { format: 'esm', minify: true, ...nodejs, esbuild: { external: ['zod'] } };
  });
}
