/** What the local command-line tools (`npm run admin`, `npm run job`) share. */
import { parseArgs } from 'node:util';
import { ConfigError, DomainError } from '@rapport/core';

/** A mistake in the command line: shown with the usage, exit code 2. */
export class UsageError extends Error {}

export const required = (values: Record<string, unknown>, name: string): string => {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
};

/**
 * The environment a tool runs with: the local engines `npm start` runs (on their usual ports)
 * unless `--aws` is given; variables set by the caller always win.
 */
function toolEnv(aws: boolean | undefined): Record<string, string | undefined> {
  const env = { ...process.env };
  if (!aws) {
    env.DYNAMODB_ENDPOINT ??= `http://localhost:${env.DYNAMODB_PORT ?? '8000'}`;
    env.SES_ENDPOINT ??= `http://localhost:${env.SES_PORT ?? '8005'}`;
    env.PUBLIC_URL ??= `http://localhost:${env.PORT ?? '3000'}`;
  }
  return env;
}

/** Turns any failure into the one sentence a person needs. */
function explain(error: unknown, usage: string, endpoint: string | undefined): string {
  if (error instanceof UsageError) return `${error.message}.\n\n${usage}`;
  if (error instanceof DomainError || error instanceof ConfigError) return error.message;
  const code = (error as { code?: string; cause?: { code?: string } })?.code ?? (error as { cause?: { code?: string } })?.cause?.code;
  if (code === 'ECONNREFUSED' && endpoint) return `Cannot reach DynamoDB at ${endpoint}: is \`npm start\` running?`;
  if ((error as Error)?.name === 'ResourceNotFoundException') return 'The table does not exist: start the system once with `npm start` (or deploy it) first.';
  return `Failed: ${(error as Error)?.message ?? String(error)}`;
}

type ToolValues = Record<string, string | boolean | undefined>;

/**
 * The frame of a tool: parses `argv` (`--aws` and `--help` are always options), runs
 * `run(command, values, env)`, prints its result as one JSON line on stdout, and turns failures
 * into one sentence on stderr. Resolves with the exit code: 0, 1 (failed) or 2 (bad usage).
 */
export async function toolMain(
  argv: string[],
  usage: string,
  options: Record<string, { type: 'string' }>,
  run: (command: string, values: ToolValues, env: Record<string, string | undefined>) => Promise<object>,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { ...options, aws: { type: 'boolean' }, help: { type: 'boolean' } } });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  const values = parsed.values as ToolValues;
  const { positionals } = parsed;
  if (values.help || positionals.length === 0) {
    console.error(usage);
    return values.help ? 0 : 2;
  }
  const env = toolEnv(values.aws as boolean | undefined);
  try {
    console.log(JSON.stringify(await run(positionals[0]!, values, env)));
    return 0;
  } catch (error) {
    console.error(explain(error, usage, env.DYNAMODB_ENDPOINT));
    return error instanceof UsageError ? 2 : 1;
  }
}
