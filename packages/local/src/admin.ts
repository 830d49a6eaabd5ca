/**
 * Admin CLI: `npm run admin -- <command> [options]`. Prints progress on stderr and the result as
 * one JSON object on the last line of stdout, so scripts can read it.
 * It reaches DynamoDB Local (the `npm start` one) unless `--aws` is given; DYNAMODB_ENDPOINT,
 * TABLE_NAME and AWS_REGION override.
 */
import { parseArgs } from 'node:util';
import {
  createAgency,
  createApiKey,
  createDb,
  DomainError,
  getAgency,
  loadConfig,
  ConfigError,
  revokeApiKey,
  type Db,
} from '@rapport/core';

const usage = `Usage: npm run admin -- <command> [options]

Commands:
  create-agency --name <name> [--timezone <IANA zone>]   creates an agency and its first admin key
  create-key    --agency <agencyId> --role admin|read [--name <label>]
  revoke-key    --agency <agencyId> --key <keyId>

Options:
  --aws     use DynamoDB on AWS (default: DynamoDB Local on DYNAMODB_PORT, 8000)
  --help    show this help`;

class UsageError extends Error {}

const required = (values: Record<string, unknown>, name: string): string => {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
};

async function run(db: Db, command: string | undefined, values: Record<string, string | boolean | undefined>) {
  const now = new Date();
  switch (command) {
    case 'create-agency': {
      const agency = await createAgency(db, { name: required(values, 'name'), timezone: values.timezone }, now);
      const { apiKey, secret } = await createApiKey(db, agency.agencyId, { role: 'admin', name: 'created by admin CLI' }, now);
      return { agencyId: agency.agencyId, name: agency.name, timezone: agency.timezone, keyId: apiKey.keyId, role: apiKey.role, apiKey: secret };
    }
    case 'create-key': {
      const agencyId = required(values, 'agency');
      await getAgency(db, agencyId);
      const { apiKey, secret } = await createApiKey(db, agencyId, { role: required(values, 'role'), name: values.name }, now);
      return { agencyId, keyId: apiKey.keyId, role: apiKey.role, apiKey: secret };
    }
    case 'revoke-key': {
      const agencyId = required(values, 'agency');
      const key = await revokeApiKey(db, agencyId, required(values, 'key'), now);
      return { agencyId, keyId: key.keyId, revokedAt: key.revokedAt };
    }
    default:
      throw new UsageError(command ? `Unknown command "${command}"` : 'Name a command');
  }
}

/** Turns any failure into the one sentence a person needs. */
function explain(error: unknown, endpoint: string | undefined): string {
  if (error instanceof UsageError) return `${error.message}.\n\n${usage}`;
  if (error instanceof DomainError || error instanceof ConfigError) return error.message;
  const code = (error as { code?: string; cause?: { code?: string } })?.code ?? (error as { cause?: { code?: string } })?.cause?.code;
  if (code === 'ECONNREFUSED' && endpoint) return `Cannot reach DynamoDB at ${endpoint}: is \`npm start\` running?`;
  if ((error as Error)?.name === 'ResourceNotFoundException') return 'The table does not exist: start the system once with `npm start` (or deploy it) first.';
  return `Failed: ${(error as Error)?.message ?? String(error)}`;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        timezone: { type: 'string' },
        agency: { type: 'string' },
        role: { type: 'string' },
        key: { type: 'string' },
        aws: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    console.error(usage);
    return values.help ? 0 : 2;
  }
  const env = { ...process.env };
  if (!values.aws) env.DYNAMODB_ENDPOINT ??= `http://localhost:${env.DYNAMODB_PORT ?? '8000'}`;
  try {
    const config = loadConfig(env);
    const db = createDb({ region: config.region, endpoint: config.dynamoEndpoint, table: config.table });
    const result = await run(db, positionals[0], values);
    console.log(JSON.stringify(result));
    return 0;
  } catch (error) {
    console.error(explain(error, env.DYNAMODB_ENDPOINT));
    return error instanceof UsageError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
