/**
 * Admin CLI: `npm run admin -- <command> [options]`. Prints progress on stderr and the result as
 * one JSON object on the last line of stdout, so scripts can read it.
 * It reaches the running `npm start` (see connectToInstance) unless `--aws` is given;
 * DYNAMODB_ENDPOINT, TABLE_NAME and AWS_REGION override.
 */
import {
  createAgency,
  createApiKey,
  createDb,
  createMember,
  getAgency,
  indexLogins,
  indexProCounters,
  indexSummaryDue,
  indexSuppressions,
  MemberInputSchema,
  parseInput,
  revokeApiKey,
  ValidationError,
  type Db,
} from '@rapport/core';
import { required, toolMain, UsageError, type Connection } from './cli';

const usage = `Usage: npm run admin -- <command> [options]

Commands:
  create-agency --name <name> [--timezone <IANA zone>] [--admin-email <email> [--admin-name <name>]]
                creates an agency and its first admin API key; with --admin-email, also its first
                admin member, who signs in to the console at /login with that address
                (--admin-name defaults to the address's part before the @)
  create-key    --agency <agencyId> --role admin|read [--name <label>]
  revoke-key    --agency <agencyId> --key <keyId>
  index-scores  [--agency <agencyId>]   puts pro counters written before the scores index into it (once, after deploying it)
  index-logins  [--agency <agencyId>]   lets pros and members created before the console sign in to it (once, after deploying it)
  index-summaries [--agency <agencyId>] puts agencies created before the summary due index into it (once, after deploying it)
  index-suppressions [--agency <agencyId>] enforces the suppressions listed on rounds from before they were enforced where written (once, after deploying it)

Options:
  --aws     use DynamoDB on AWS (default: the \`npm start\` running for DATA_DIR, .data)
  --help    show this help`;

async function run(command: string | undefined, values: Record<string, string | boolean | undefined>, connect: () => Connection) {
  const now = new Date();
  // Opened once the arguments are known good, so a mistake in them is reported even with no instance running.
  const open = (): Db => {
    const { config } = connect();
    return createDb({ region: config.region, endpoint: config.dynamoEndpoint, table: config.table });
  };
  switch (command) {
    case 'create-agency': {
      const name = required(values, 'name');
      // The member is checked before anything is written, so a bad address leaves no agency behind.
      const adminInput = typeof values['admin-email'] === 'string' ? adminMember(values['admin-email'], values['admin-name']) : undefined;
      const db = open();
      const agency = await createAgency(db, { name, timezone: values.timezone }, now);
      const { apiKey, secret } = await createApiKey(db, agency.agencyId, { role: 'admin', name: 'created by admin CLI' }, now);
      const member = adminInput && (await createMember(db, agency.agencyId, adminInput, now));
      return {
        agencyId: agency.agencyId,
        name: agency.name,
        timezone: agency.timezone,
        keyId: apiKey.keyId,
        role: apiKey.role,
        apiKey: secret,
        ...(member ? { admin: { memberId: member.memberId, name: member.name, email: member.email, role: member.role } } : {}),
      };
    }
    case 'create-key': {
      const agencyId = required(values, 'agency');
      const role = required(values, 'role');
      const db = open();
      await getAgency(db, agencyId);
      const { apiKey, secret } = await createApiKey(db, agencyId, { role, name: values.name }, now);
      return { agencyId, keyId: apiKey.keyId, role: apiKey.role, apiKey: secret };
    }
    case 'revoke-key': {
      const agencyId = required(values, 'agency');
      const keyId = required(values, 'key');
      const key = await revokeApiKey(open(), agencyId, keyId, now);
      return { agencyId, keyId: key.keyId, revokedAt: key.revokedAt };
    }
    case 'index-scores':
      return indexProCounters(open(), typeof values.agency === 'string' ? [values.agency] : undefined);
    case 'index-logins':
      return indexLogins(open(), typeof values.agency === 'string' ? [values.agency] : undefined);
    case 'index-summaries':
      return indexSummaryDue(open(), now, typeof values.agency === 'string' ? [values.agency] : undefined);
    case 'index-suppressions':
      return indexSuppressions(open(), now, typeof values.agency === 'string' ? [values.agency] : undefined);
    default:
      throw new UsageError(command ? `Unknown command "${command}"` : 'Name a command');
  }
}

/** The first admin member: named after the address's local part unless `--admin-name` says otherwise. */
function adminMember(email: string, name: string | boolean | undefined) {
  try {
    return parseInput(MemberInputSchema, { email, name: typeof name === 'string' ? name : email.trim().split('@')[0], role: 'admin' });
  } catch (error) {
    // Named as the options that were given.
    if (error instanceof ValidationError) throw new ValidationError(error.issues.map((i) => ({ ...i, field: `--admin-${i.field}` })));
    throw error;
  }
}

process.exitCode = await toolMain(
  process.argv.slice(2),
  usage,
  {
    name: { type: 'string' },
    timezone: { type: 'string' },
    agency: { type: 'string' },
    role: { type: 'string' },
    key: { type: 'string' },
    'admin-email': { type: 'string' },
    'admin-name': { type: 'string' },
  },
  run,
);
