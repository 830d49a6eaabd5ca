import { linkSecret } from './secrets';
import { sendQueue } from './sender';
import { commonEnvironment, handlers, settings } from './settings';
import { table } from './table';

/**
 * The HTTP API's access log, without what SST's default logs: the path (survey and unsubscribe
 * links carry their token in it), the caller's IP address and user agent (a respondent's).
 */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestTime: '$context.requestTime',
  requestId: '$context.requestId',
  httpMethod: '$context.httpMethod',
  status: '$context.status',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integration.status',
  integrationLatency: '$context.integration.latency',
  integrationError: '$context.integration.error',
});

/**
 * The HTTP API (API Gateway v2) in front of one Lambda: the JSON API under /v1, the survey and
 * unsubscribe pages, the console (`/`, `/login`, `/signup`, `/app/…`), /openapi.json and /docs, all
 * the same Hono app as the local runner. Served at `https://<domain>` when the stage has one, else
 * at the API's own address. The console's session cookie is `__Host-` prefixed (Secure, Path=/,
 * no Domain), so it holds for exactly this origin, which `PUBLIC_URL` names: sign-in links in
 * emails point there too.
 */
export const api = new sst.aws.ApiGatewayV2('Api', {
  ...(settings.domain
    ? { domain: { name: settings.domain, ...(settings.route53 ? { dns: sst.aws.dns() } : { dns: false as const, cert: settings.certificateArn! }) } }
    : {}),
  accessLog: { retention: settings.retention.logs },
  transform: {
    stage: (args) => {
      args.accessLogSettings = { ...(args.accessLogSettings as object), format: ACCESS_LOG_FORMAT } as typeof args.accessLogSettings;
    },
  },
});

/** Where links in emails point: the custom domain, or the API's address. */
export const publicUrl = settings.domain ? `https://${settings.domain}` : api.url;

/**
 * Every path goes to the one function. Linked to the table, the secret (pages check link tokens)
 * and the send queue (a new round queues its invitations). Swagger UI's files are read from its
 * package at run time, so the package is installed next to the bundle rather than bundled.
 * Bundled with code splitting: each group of routes (the JSON API, the survey pages, the mail
 * preferences, the console, the docs) is a chunk its first request loads, so a cold start
 * imports only the router and the SDK clients (docs/DESIGN-NOTES.md, "Cold start").
 */
api.route('$default', {
  handler: `${handlers}/api.handler`,
  link: [table, linkSecret, sendQueue],
  environment: { ...commonEnvironment, PUBLIC_URL: publicUrl, API_RATE_LIMIT_PER_MINUTE: String(settings.apiRateLimitPerMinute), SIGNUP: settings.signup },
  memory: '1024 MB',
  timeout: '29 seconds',
  nodejs: { install: ['swagger-ui-dist'], splitting: true },
});
