import type { StageSettingsInput } from './settings';

/**
 * Development and personal stages (and `ci`, which only type-checks): no custom domain, one email
 * address as the SES identity (put yours: SES emails it a link to verify it, and in the sandbox it
 * can send to verified addresses only), a low sending rate, short retention, verbose logs.
 */
export const dev = {
  domain: null,
  route53: false,
  email: {
    identity: 'surveys-dev@rapport.example',
    from: 'surveys-dev@rapport.example',
    mailFromDomain: null,
    dmarc: 'v=DMARC1; p=none;',
  },
  sending: { ratePerSecond: 1, concurrency: 2, maxReceives: 3 },
  apiRateLimitPerMinute: 600,
  schedule: 'rate(1 hour)',
  retention: { logs: '1 week', deadLetterDays: 4 },
  // The SES sandbox emails verified addresses only: a stranger's sign-up reaches no one.
  signup: 'open',
  logLevel: 'DEBUG',
} satisfies StageSettingsInput;
