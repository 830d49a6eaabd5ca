import * as v from 'valibot';
import { minChars } from './shared/schemas';

const optionalUrl = v.optional(v.pipe(v.string(), v.url()));
/** A limit as a whole number up to 100,000; 0 turns it off. */
const limit = (fallback: string) =>
  v.optional(v.pipe(v.string(), v.regex(/^\d+$/, 'must be a whole number'), v.transform(Number), v.maxValue(100_000, 'must be at most 100000')), fallback);

/** Environment the core needs, validated once at start-up. */
export const ConfigSchema = v.object({
  TABLE_NAME: v.optional(v.pipe(v.string(), minChars(3)), 'rapport'),
  AWS_REGION: v.optional(v.pipe(v.string(), minChars(1)), 'us-east-1'),
  /** DynamoDB Local; unset on AWS. */
  DYNAMODB_ENDPOINT: optionalUrl,
  /** The local SES server; unset on AWS. */
  SES_ENDPOINT: optionalUrl,
  /** Where recipients reach the public pages; links in emails start with it. */
  PUBLIC_URL: v.optional(v.pipe(v.string(), v.url()), 'http://localhost:3000'),
  MAIL_FROM: v.optional(v.pipe(v.string(), v.email()), 'surveys@rapport.local'),
  /** Signs survey and unsubscribe links. The app needs it; the admin CLI does not. */
  LINK_SECRET: v.optional(v.pipe(v.string(), minChars(32))),
  /** Emails a second the sender starts at most: the account's SES sending rate (14 is a common quota). */
  SEND_RATE_PER_SECOND: v.optional(
    v.pipe(v.string(), v.regex(/^\d+$/, 'must be a whole number'), v.transform(Number), v.minValue(1, 'must be at least 1'), v.maxValue(1000, 'must be at most 1000')),
    '14',
  ),
  /** Requests per minute each API key may make; 0 turns the limit off. */
  API_RATE_LIMIT_PER_MINUTE: limit('600'),
  /**
   * Requests to the token pages with a forged link per client address in 10 minutes; while an
   * address is over it, its genuine links are refused too (a genuine link counts against its link).
   */
  PAGE_RATE_LIMIT_PER_ADDRESS: limit('300'),
  /** Requests to the pages of one link in 10 minutes: a respondent opens and submits a few times. */
  PAGE_RATE_LIMIT_PER_LINK: limit('30'),
  /** Failed API keys per client address in 10 minutes, after which the address is refused (429) until the window ends. */
  AUTH_FAILURE_LIMIT_PER_ADDRESS: limit('20'),
  /**
   * Lets webhooks go to `http://127.0.0.1:<port>` and `http://localhost` (the local runner and
   * tests). Never on AWS: it opens loopback to anyone who can create a webhook.
   */
  WEBHOOKS_ALLOW_LOOPBACK: v.optional(v.pipe(v.picklist(['true', 'false'], 'must be true or false'), v.transform((s) => s === 'true')), 'false'),
  /**
   * Seconds before each webhook delivery attempt, the first one included: Standard Webhooks'
   * schedule by default (`STANDARD_RETRY_SECONDS`: 10 attempts, the last about 3 days after the
   * first). Tests shorten it.
   */
  /**
   * Whether anyone may start an agency at `/signup` (`open`), or agencies are created by an
   * operator (`closed`: the page says to ask the agency's admin). Closed unless set: `npm start`
   * opens it, and each AWS stage says (stacks/).
   */
  SIGNUP: v.optional(v.picklist(['open', 'closed'], 'must be open or closed'), 'closed'),
  WEBHOOK_RETRY_SECONDS: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d+(,\d+){0,19}$/, 'must be up to 20 whole numbers of seconds, comma-separated'),
      v.transform((s) => s.split(',').map(Number)),
      v.check((list) => list.every((n) => n <= 86_400), 'must be at most 86400 seconds each'),
    ),
    '0,5,300,1800,7200,18000,36000,50400,72000,86400',
  ),
});

export type RawConfig = v.InferOutput<typeof ConfigSchema>;

export interface Config {
  table: string;
  region: string;
  dynamoEndpoint: string | undefined;
  sesEndpoint: string | undefined;
  publicUrl: string;
  mailFrom: string;
  linkSecret: string | undefined;
  sendRatePerSecond: number;
  apiRateLimitPerMinute: number;
  pageRateLimitPerAddress: number;
  pageRateLimitPerLink: number;
  authFailureLimitPerAddress: number;
  webhooksAllowLoopback: boolean;
  webhookRetrySeconds: number[];
  signUpOpen: boolean;
}

export class ConfigError extends Error {}

/** Reads and validates configuration; a bad value stops start-up with one sentence naming it. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const picked = Object.fromEntries(
    Object.keys(ConfigSchema.entries).map((k) => [k, env[k] === '' ? undefined : env[k]]),
  );
  const result = v.safeParse(ConfigSchema, picked);
  if (!result.success) {
    const issue = result.issues[0];
    const key = issue.path?.map((p) => String(p.key)).join('.') ?? 'configuration';
    throw new ConfigError(`Invalid configuration: ${key}: ${issue.message}`);
  }
  const c = result.output;
  return {
    table: c.TABLE_NAME,
    region: c.AWS_REGION,
    dynamoEndpoint: c.DYNAMODB_ENDPOINT,
    sesEndpoint: c.SES_ENDPOINT,
    publicUrl: c.PUBLIC_URL.replace(/\/$/, ''),
    mailFrom: c.MAIL_FROM,
    linkSecret: c.LINK_SECRET,
    sendRatePerSecond: c.SEND_RATE_PER_SECOND,
    apiRateLimitPerMinute: c.API_RATE_LIMIT_PER_MINUTE,
    pageRateLimitPerAddress: c.PAGE_RATE_LIMIT_PER_ADDRESS,
    pageRateLimitPerLink: c.PAGE_RATE_LIMIT_PER_LINK,
    authFailureLimitPerAddress: c.AUTH_FAILURE_LIMIT_PER_ADDRESS,
    webhooksAllowLoopback: c.WEBHOOKS_ALLOW_LOOPBACK,
    webhookRetrySeconds: c.WEBHOOK_RETRY_SECONDS,
    signUpOpen: c.SIGNUP === 'open',
  };
}
