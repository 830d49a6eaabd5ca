/** What the local command-line tools (`npm run admin`, `npm run job`, `npm run demo`) share. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, DomainError, loadConfig, type Config } from '@rapport/core';
import { NoInstanceError, requireInstance, type InstanceState } from './instance';

/** A mistake in the command line: shown with the usage, exit code 2. */
export class UsageError extends Error {}

export const required = (values: Record<string, unknown>, name: string): string => {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
};

export interface Connection {
  /** What to run with: the instance's endpoints, table, region, link secret and public URL, under any variable the caller set. */
  config: Config;
  /** The `npm start` reached; undefined with `--aws` or an explicit DYNAMODB_ENDPOINT. */
  instance: InstanceState | undefined;
}

export interface ConnectOptions {
  /** Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Use AWS (the environment and the usual AWS credentials) instead of a local instance. */
  aws?: boolean;
  /** Against which DATA_DIR is resolved; default `process.cwd()`. */
  cwd?: string;
}

/**
 * The one place the CLIs learn which system they talk to. By default the `npm start` running for
 * DATA_DIR (`.data`), from its state file: its DynamoDB and SES, table, link secret and public URL,
 * whatever its ports, in memory or not, so what a CLI sends opens on that instance. Variables the
 * caller sets win; with DYNAMODB_ENDPOINT set the environment alone counts (an engine started by
 * hand, or the tests'), and with `aws` the AWS one. Throws a NoInstanceError, one sentence, when no
 * instance runs there.
 */
export function connectToInstance({ env = process.env, aws = false, cwd = process.cwd() }: ConnectOptions = {}): Connection {
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  if (aws || set.DYNAMODB_ENDPOINT !== undefined) return { config: loadConfig(set), instance: undefined };
  const instance = requireInstance(resolve(cwd, set.DATA_DIR ?? '.data'));
  const config = loadConfig({
    TABLE_NAME: instance.table,
    AWS_REGION: instance.region,
    DYNAMODB_ENDPOINT: instance.endpoints.dynamodb,
    SES_ENDPOINT: instance.endpoints.ses,
    PUBLIC_URL: instance.publicUrl,
    MAIL_FROM: instance.mailFrom,
    LINK_SECRET: instance.linkSecret,
    ...set,
  });
  return { config, instance };
}

/** Turns any failure into the one sentence a person needs. */
function explain(error: unknown, usage: string, endpoint: string | undefined): string {
  if (error instanceof UsageError) return `${error.message}.\n\n${usage}`;
  if (error instanceof DomainError || error instanceof ConfigError || error instanceof NoInstanceError) return error.message;
  const code = (error as { code?: string; cause?: { code?: string } })?.code ?? (error as { cause?: { code?: string } })?.cause?.code;
  if (code === 'ECONNREFUSED' && endpoint) return `Cannot reach DynamoDB at ${endpoint}: is \`npm start\` running?`;
  if ((error as Error)?.name === 'ResourceNotFoundException') return 'The table does not exist: start the system once with `npm start` (or deploy it) first.';
  return `Failed: ${(error as Error)?.message ?? String(error)}`;
}

type ToolValues = Record<string, string | boolean | undefined>;

/**
 * The frame of a tool: parses `argv` (`--aws` and `--help` are always options), runs
 * `run(command, values, connect)`, prints its result as one JSON line on stdout, and turns failures
 * into one sentence on stderr. Resolves with the exit code: 0, 1 (failed) or 2 (bad usage).
 * `connect` is connectToInstance for `--aws` or not; call it after checking the arguments, so a
 * mistake in them is reported as one even when no instance runs.
 */
export async function toolMain(
  argv: string[],
  usage: string,
  options: Record<string, { type: 'string' }>,
  run: (command: string, values: ToolValues, connect: () => Connection) => Promise<object>,
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
  let connection: Connection | undefined;
  const connect = () => (connection = connectToInstance({ aws: values.aws === true }));
  try {
    console.log(JSON.stringify(await run(positionals[0]!, values, connect)));
    return 0;
  } catch (error) {
    console.error(explain(error, usage, connection?.config.dynamoEndpoint));
    return error instanceof UsageError ? 2 : 1;
  }
}
