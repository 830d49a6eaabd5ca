/** What the local command-line tools (`npm run admin`, `npm run job`) share. */
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
export function toolEnv(aws: boolean | undefined): Record<string, string | undefined> {
  const env = { ...process.env };
  if (!aws) {
    env.DYNAMODB_ENDPOINT ??= `http://localhost:${env.DYNAMODB_PORT ?? '8000'}`;
    env.SES_ENDPOINT ??= `http://localhost:${env.SES_PORT ?? '8005'}`;
    env.PUBLIC_URL ??= `http://localhost:${env.PORT ?? '3000'}`;
  }
  return env;
}

/** Turns any failure into the one sentence a person needs. */
export function explain(error: unknown, usage: string, endpoint: string | undefined): string {
  if (error instanceof UsageError) return `${error.message}.\n\n${usage}`;
  if (error instanceof DomainError || error instanceof ConfigError) return error.message;
  const code = (error as { code?: string; cause?: { code?: string } })?.code ?? (error as { cause?: { code?: string } })?.cause?.code;
  if (code === 'ECONNREFUSED' && endpoint) return `Cannot reach DynamoDB at ${endpoint}: is \`npm start\` running?`;
  if ((error as Error)?.name === 'ResourceNotFoundException') return 'The table does not exist: start the system once with `npm start` (or deploy it) first.';
  return `Failed: ${(error as Error)?.message ?? String(error)}`;
}
