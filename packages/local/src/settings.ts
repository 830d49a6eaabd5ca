import { resolve } from 'node:path';
import * as v from 'valibot';

/** A bad `npm start` setting or argument; the message is one sentence naming it. */
export class SettingsError extends Error {
  override name = 'SettingsError';
}

const port = (name: string, fallback: number) => {
  const message = (issue: { input: unknown }) =>
    `${name} must be a port number from 1 to 65535 (got "${String(issue.input)}").`;
  return v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,5}$/, message),
      v.transform(Number),
      v.minValue(1, message),
      v.maxValue(65535, message),
    ),
    String(fallback),
  );
};

const SettingsSchema = v.object({
  PORT: port('PORT', 3000),
  DYNAMODB_PORT: port('DYNAMODB_PORT', 8000),
  SES_PORT: port('SES_PORT', 8005),
  DATA_DIR: v.optional(v.string(), '.data'),
  SES_ENDPOINT: v.optional(v.pipe(v.string(), v.url((issue) => `SES_ENDPOINT must be a URL such as http://127.0.0.1:8005 (got "${String(issue.input)}").`))),
  JOBS_INTERVAL_SECONDS: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,5}$/, (issue) => `JOBS_INTERVAL_SECONDS must be a whole number of seconds from 1 to 86400 (got "${String(issue.input)}").`),
      v.transform(Number),
      v.minValue(1, 'JOBS_INTERVAL_SECONDS must be a whole number of seconds from 1 to 86400.'),
      v.maxValue(86400, 'JOBS_INTERVAL_SECONDS must be a whole number of seconds from 1 to 86400.'),
    ),
    '60',
  ),
});

export interface LocalSettings {
  port: number;
  dynamoDbPort: number;
  sesPort: number;
  /**
   * An SES server already running (say one shared by several runs, or that must outlive this one):
   * used instead of starting one on `sesPort`. Its store is the record of what was sent.
   */
  sesEndpoint?: string;
  /** Absolute; undefined with `--in-memory`. */
  dataDir: string | undefined;
  /** DATA_DIR, absolute, even with `--in-memory`: where the state file tells the CLIs how to reach this instance. */
  stateDir: string;
  /** How often reminders, round closing and lost jobs are looked at. */
  jobsIntervalMs: number;
}

export const USAGE = 'Usage: npm start [-- --in-memory] [-- --demo]   (--demo, or npm run demo: seed a demo agency first; settings: PORT, DYNAMODB_PORT, SES_PORT, SES_ENDPOINT, DATA_DIR, JOBS_INTERVAL_SECONDS)';

/**
 * Reads the `npm start` settings: PORT (3000), DYNAMODB_PORT (8000), SES_PORT (8005), SES_ENDPOINT
 * (unset: start an SES server on SES_PORT), DATA_DIR (`.data`, relative to `cwd`) and
 * JOBS_INTERVAL_SECONDS (60), and the flag `--in-memory`; `--demo` is start.ts's. Empty variables count as unset.
 */
export function readLocalSettings(
  env: Record<string, string | undefined>,
  args: readonly string[],
  cwd: string = process.cwd(),
): LocalSettings {
  const unknown = args.find((a) => a !== '--in-memory' && a !== '--demo');
  if (unknown !== undefined) throw new SettingsError(`Unknown argument "${unknown}"; the options are --in-memory and --demo.`);

  const picked = Object.fromEntries(
    Object.keys(SettingsSchema.entries).map((k) => [k, env[k]?.trim() === '' ? undefined : env[k]?.trim()]),
  );
  const result = v.safeParse(SettingsSchema, picked);
  if (!result.success) throw new SettingsError(result.issues[0].message);
  const s = result.output;
  const ports: [string, number][] = [['PORT', s.PORT], ['DYNAMODB_PORT', s.DYNAMODB_PORT], ...(s.SES_ENDPOINT === undefined ? [['SES_PORT', s.SES_PORT] as [string, number]] : [])];
  const clash = ports.find(([, port], i) => ports.findIndex(([, other]) => other === port) < i);
  if (clash) {
    const names = ports.filter(([, port]) => port === clash[1]).map(([name]) => name);
    const both = names.length === 2 ? 'both' : 'all';
    throw new SettingsError(`${names.slice(0, -1).join(', ')} and ${names.at(-1)} are ${both} ${clash[1]}; give each its own port.`);
  }
  return {
    port: s.PORT,
    dynamoDbPort: s.DYNAMODB_PORT,
    sesPort: s.SES_PORT,
    ...(s.SES_ENDPOINT !== undefined ? { sesEndpoint: s.SES_ENDPOINT } : {}),
    dataDir: args.includes('--in-memory') ? undefined : resolve(cwd, s.DATA_DIR),
    stateDir: resolve(cwd, s.DATA_DIR),
    jobsIntervalMs: s.JOBS_INTERVAL_SECONDS * 1000,
  };
}
