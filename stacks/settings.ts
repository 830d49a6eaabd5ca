import * as v from 'valibot';

/**
 * What differs between stages, checked when `sst.config.ts` runs: a bad value stops the deploy with
 * one sentence naming it, before anything is created. One file per stage (`dev.ts`,
 * `production.ts`); any other stage (a developer's own, `ci`) uses the dev settings.
 */
const hostname = v.pipe(v.string(), v.regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a lower-case domain name'));
/** A fixed rate: the scheduled job is told the time between runs, and looks that far ahead. */
const RATE = /^rate\(\d+ (minute|minutes|hour|hours|day|days)\)$/;
const rate = v.pipe(v.string(), v.regex(RATE, 'must be rate(…), the time between runs'));
const UNIT_SECONDS = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86_400, days: 86_400 } as const;
/** The seconds between runs of a `rate(…)` schedule. */
export const everySeconds = (schedule: string) => {
  const [, n, unit] = /^rate\((\d+) (\w+)\)$/.exec(schedule)!;
  return Number(n) * UNIT_SECONDS[unit as keyof typeof UNIT_SECONDS];
};
const int = (min: number, max: number) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));

export const StageSettingsSchema = v.pipe(
  v.strictObject({
    /**
     * Where the API and the survey pages are served (`https://<domain>`), the links in emails
     * point there. null: the HTTP API's own `execute-api` address.
     */
    domain: v.nullable(hostname),
    /**
     * true: DNS is in a Route 53 hosted zone of this account, and SST writes the records (the
     * API's domain, SES's DKIM, DMARC and MAIL FROM records). false: add them by hand from the
     * SES console, and give `certificateArn` for a custom domain.
     */
    route53: v.boolean(),
    /** An ACM certificate (same region) for `domain`, needed only when `route53` is false. */
    certificateArn: v.optional(v.pipe(v.string(), v.startsWith('arn:aws:acm:'))),
    email: v.strictObject({
      /** The SES identity: a domain (recommended: DKIM, SPF, DMARC) or one address. */
      identity: v.union([hostname, v.pipe(v.string(), v.email())]),
      /** The From address of every survey email; must belong to the identity. */
      from: v.pipe(v.string(), v.email()),
      /** A MAIL FROM subdomain of the identity (aligned SPF for DMARC); null keeps amazonses.com. */
      mailFromDomain: v.nullable(hostname),
      /** The DMARC record SST writes for a domain identity (with `route53`). */
      dmarc: v.pipe(v.string(), v.startsWith('v=DMARC1;')),
    }),
    sending: v.strictObject({
      /** Emails a second across all senders: the account's SES sending rate. */
      ratePerSecond: int(1, 1000),
      /** Sender Lambdas at once at most (SQS event source maximum concurrency: 2–1000). */
      concurrency: int(2, 1000),
      /** Receives of a message before it moves to the dead-letter queue. */
      maxReceives: int(1, 10),
    }),
    /** Requests a minute each API key may make before 429 (0: no limit). */
    apiRateLimitPerMinute: int(0, 100_000),
    /**
     * The one schedule (EventBridge Scheduler), a `rate(…)`: each run closes due rounds (on time:
     * it queues those due before its next run), queues due reminders and lost invitations, sweeps
     * webhooks, and queues the improvement summaries due (`runScheduledJobs` with the summaries).
     * At most hourly: each agency's summary slot is an hour in its time zone. Hourly, reminders
     * and the recovery of a crashed send wait up to that long; the cost of runs is per deployment.
     */
    schedule: v.pipe(rate, v.check((s) => !RATE.test(s) || everySeconds(s) <= 3600, 'must be at most an hour between runs (summaries go out at an hour of the agency\'s day)')),
    retention: v.strictObject({
      /** CloudWatch log retention of every function. */
      logs: v.picklist(['1 week', '2 weeks', '1 month', '3 months', '6 months', '1 year']),
      /** Days a dead letter is kept for inspection (SQS allows at most 14). */
      deadLetterDays: int(1, 14),
    }),
    logLevel: v.picklist(['DEBUG', 'INFO', 'WARN', 'ERROR']),
    /**
     * `open`: anyone may start an agency at `/signup` (the API's `SIGNUP`); `closed`: agencies are
     * created with `npm run admin -- create-agency --aws` (see docs/DESIGN-NOTES.md, "Console: sign-up").
     */
    signup: v.picklist(['open', 'closed']),
  }),
  v.check((s) => !s.domain || s.route53 || !!s.certificateArn, 'certificateArn: a custom domain without Route 53 needs a certificate'),
  v.check((s) => belongsTo(s.email.from, s.email.identity), 'email.from: must be the identity itself or an address at its domain'),
  v.check((s) => !s.email.mailFromDomain || s.email.mailFromDomain.endsWith(`.${s.email.identity}`), 'email.mailFromDomain: must be a subdomain of the identity'),
);

function belongsTo(from: string, identity: string): boolean {
  return identity.includes('@') ? from.toLowerCase() === identity.toLowerCase() : from.toLowerCase().endsWith(`@${identity}`);
}

export type StageSettingsInput = v.InferInput<typeof StageSettingsSchema>;
export type StageSettings = v.InferOutput<typeof StageSettingsSchema>;

/** The settings, validated; throws one sentence naming the first bad value. */
export function parseStageSettings(stage: string, input: unknown): StageSettings {
  const result = v.safeParse(StageSettingsSchema, input);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = issue.path?.map((p) => String(p.key)).join('.');
  throw new Error(`stacks/ settings for stage "${stage}": ${path ? `${path}: ` : ''}${issue.message}`);
}
