/**
 * Helpers for tests that talk to the engines the global setup started (DynamoDB Local and the SES
 * server). Use only inside vitest test files: they read the run's endpoints with `inject`.
 */
import { randomUUID } from 'node:crypto';
import { createSesMailer, ensureTable, invitationTags, loadConfig, type Config, type SesMailer } from '@rapport/core';
import { createDeps, type Deps } from '@rapport/functions';
import { inject } from 'vitest';
import './context';

export { TEST_TABLE_NAME } from './context';
export { freePort, isPortFree } from '@rapport/local';

/** A core Config pointed at this run's DynamoDB Local, SES server and table. */
export function testConfig(env: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    AWS_REGION: 'us-east-1',
    PUBLIC_URL: 'http://localhost:3000',
    LINK_SECRET: 'test-link-secret-that-is-long-enough-0123456789',
    // Unpaced unless a test asks for a rate: tests send hundreds of emails.
    SEND_RATE_PER_SECOND: '1000',
    ...env,
    TABLE_NAME: inject('tableName'),
    DYNAMODB_ENDPOINT: inject('dynamoEndpoint'),
    SES_ENDPOINT: inject('sesEndpoint'),
  });
}

/**
 * A client address of its own (documentation range 2001:db8::/32, a /64 each): `app.request` has
 * none, and test files running alongside must not share one address's rate limits.
 */
export const testAddress = (): string => `2001:db8:${randomUUID().slice(0, 4)}:${randomUUID().slice(0, 4)}::1`;

/** The app's Deps on the test engines, with a client address of their own; override e.g. `now` for a fixed clock. */
export function testDeps(overrides: Parameters<typeof createDeps>[1] = {}): Deps {
  const address = testAddress();
  return createDeps(testConfig(), { clientAddress: () => address, ...overrides });
}

/**
 * Deps on a fresh table of their own. For tests of the scheduled jobs, which sweep whole indexes:
 * on the shared table they would also close and remind the rounds of test files running alongside.
 */
export async function isolatedTestDeps(overrides: Parameters<typeof createDeps>[1] = {}, config: Partial<ReturnType<typeof testConfig>> = {}): Promise<Deps> {
  const ownConfig = { ...testConfig(), ...config, table: `rapport-test-${randomUUID().slice(0, 8)}` };
  const address = testAddress();
  const deps = createDeps(ownConfig, { clientAddress: () => address, ...overrides });
  await ensureTable(deps.db.client, ownConfig.table);
  return deps;
}

/** An email as the local SES server stored it (the fields tests look at). */
export interface SesEmail {
  messageId: string;
  from: string;
  replyTo: string[];
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
  headers?: { name: string; value: string }[];
  /** Epoch seconds. */
  at: number;
}

/**
 * The emails the SES server received in this run, oldest first. Test files run in parallel against
 * the same server, so pass `to` (an address of the test's own) rather than counting them all.
 */
export async function sesEmails(filter: { to?: string } = {}): Promise<SesEmail[]> {
  const response = await fetch(`${inject('sesEndpoint')}/store`);
  if (!response.ok) throw new Error(`The SES server answered ${response.status} to GET /store`);
  const { emails } = (await response.json()) as { emails: SesEmail[] };
  const to = filter.to?.toLowerCase();
  return to === undefined
    ? emails
    : emails.filter((e) =>
        [...e.destination.to, ...e.destination.cc, ...e.destination.bcc].some((address) =>
          address.toLowerCase().includes(to),
        ),
      );
}

/**
 * The `mail.tags` of an SES event about an invitation's email, as SES publishes the tags it was
 * sent with (`invitationTags`): the local SES server keeps no tags, so tests building an event add them.
 */
export const sesEventTags = (invitation: { agencyId: string; roundId: string; invitationId: string }, email: Parameters<typeof invitationTags>[1] = { kind: 'invitation' }) =>
  Object.fromEntries(Object.entries(invitationTags(invitation, email)).map(([name, value]) => [name, [value]]));

export * from './api';
export * from './browser';
export * from './cli';
export * from './csv';
export * from './faults';
export * from './row-space';
export * from './aggregate';
export * from './lambda-stream';
export * from './dynamo';
export * from './virtual-time';
export * from './processes';
export * from './jobs';
export * from './console';

/**
 * A mailer on the local SES server that also keeps each raw message it put on the wire (the
 * `RawMessage.Data` of the signed request). The server's store keeps only what mailparser reads
 * (from, to, subject, parts) and loses custom headers such as List-Unsubscribe; `sent` has them.
 * `destroy()` when done.
 */
export function recordingSesMailer(): { mailer: SesMailer; sent: Buffer[]; destroy: () => void } {
  const config = testConfig();
  const mailer = createSesMailer({ region: config.region, endpoint: config.sesEndpoint });
  const sent: Buffer[] = [];
  mailer.client.middlewareStack.add(
    (next) => async (args) => {
      const body = (args.request as { body?: unknown }).body;
      const data = typeof body === 'string' ? new URLSearchParams(body).get('RawMessage.Data') : null;
      if (data !== null) sent.push(Buffer.from(data, 'base64'));
      return next(args);
    },
    { step: 'finalizeRequest', name: 'recordRawMessage', priority: 'low' },
  );
  return { mailer, sent, destroy: () => mailer.client.destroy() };
}

/** The header block of a raw message, unfolded: one entry per header field. */
export function headerLines(raw: Buffer): string[] {
  const head = raw.toString('latin1').split('\r\n\r\n')[0] ?? '';
  return head.replace(/\r\n[ \t]/g, ' ').split('\r\n');
}

/** The raw messages of `sent` addressed (To) to `address`. */
export const rawTo = (sent: Buffer[], address: string) =>
  sent.filter((raw) => headerLines(raw).some((line) => /^to:/i.test(line) && line.toLowerCase().includes(address.toLowerCase())));
