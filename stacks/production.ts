import type { StageSettingsInput } from './settings';

/**
 * Production. Replace the example domain with yours before the first deploy (README, "Deploy to
 * AWS"); raise `sending.ratePerSecond` to the SES quota the account is granted.
 */
export const production = {
  domain: 'surveys.rapport.example',
  route53: true,
  email: {
    identity: 'rapport.example',
    from: 'surveys@rapport.example',
    mailFromDomain: 'mail.rapport.example',
    dmarc: 'v=DMARC1; p=quarantine; rua=mailto:dmarc@rapport.example; adkim=s; aspf=s;',
  },
  sending: { ratePerSecond: 14, concurrency: 2, maxReceives: 5 },
  apiRateLimitPerMinute: 600,
  schedule: 'rate(1 hour)',
  retention: { logs: '3 months', deadLetterDays: 14 },
  // Open, anyone could make Rapport email any address from this domain: agencies are created by an operator.
  signup: 'closed',
  logLevel: 'INFO',
} satisfies StageSettingsInput;
