import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';
import { STANDARD_RETRY_SECONDS } from './webhooks/delivery';

describe('the limits in the configuration', () => {
  it('default to 600 a key a minute, 20 failed keys, 300 page requests an address and 30 a link in 10 minutes', () => {
    expect(loadConfig({})).toMatchObject({ apiRateLimitPerMinute: 600, authFailureLimitPerAddress: 20, pageRateLimitPerAddress: 300, pageRateLimitPerLink: 30 });
  });

  it('take whole numbers up to 100,000, 0 turning a limit off, and name a bad one', () => {
    expect(loadConfig({ PAGE_RATE_LIMIT_PER_LINK: '0', PAGE_RATE_LIMIT_PER_ADDRESS: '100000', AUTH_FAILURE_LIMIT_PER_ADDRESS: '5' })).toMatchObject({ pageRateLimitPerLink: 0, pageRateLimitPerAddress: 100_000, authFailureLimitPerAddress: 5 });
    expect(() => loadConfig({ PAGE_RATE_LIMIT_PER_LINK: '-1' })).toThrow(new ConfigError('Invalid configuration: PAGE_RATE_LIMIT_PER_LINK: must be a whole number'));
    expect(() => loadConfig({ PAGE_RATE_LIMIT_PER_ADDRESS: '100001' })).toThrow(new ConfigError('Invalid configuration: PAGE_RATE_LIMIT_PER_ADDRESS: must be at most 100000'));
    expect(() => loadConfig({ AUTH_FAILURE_LIMIT_PER_ADDRESS: 'many' })).toThrow(new ConfigError('Invalid configuration: AUTH_FAILURE_LIMIT_PER_ADDRESS: must be a whole number'));
  });
});

describe('SIGNUP', () => {
  it('is closed unless set to open, and names a bad value', () => {
    expect([loadConfig({}).signUpOpen, loadConfig({ SIGNUP: 'closed' }).signUpOpen, loadConfig({ SIGNUP: 'open' }).signUpOpen]).toEqual([false, false, true]);
    expect(() => loadConfig({ SIGNUP: 'yes' })).toThrow(new ConfigError('Invalid configuration: SIGNUP: must be open or closed'));
  });
});

describe('WEBHOOK_RETRY_SECONDS', () => {
  it("defaults to the Standard Webhooks schedule: 10 attempts, the last 75 h 35 min (about 3 days) after the first", () => {
    const { webhookRetrySeconds } = loadConfig({});
    expect(webhookRetrySeconds).toEqual(STANDARD_RETRY_SECONDS);
    expect(webhookRetrySeconds).toEqual([0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]);
    expect(webhookRetrySeconds.reduce((sum, s) => sum + s, 0)).toBe(75 * 3600 + 35 * 60 + 5);
    expect(() => loadConfig({ WEBHOOK_RETRY_SECONDS: '0,86401' })).toThrow(new ConfigError('Invalid configuration: WEBHOOK_RETRY_SECONDS: must be at most 86400 seconds each'));
  });
});
