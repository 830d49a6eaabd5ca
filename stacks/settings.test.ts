import { describe, expect, it } from 'vitest';
import { dev } from './dev';
import { settingsFor } from './index';
import { parseStageSettings } from './settings';

describe('stage settings', () => {
  it('validates dev and production; other stages take dev', () => {
    expect(settingsFor('production').domain).toBe('surveys.rapport.example');
    expect(settingsFor('alice')).toEqual(settingsFor('dev'));
    expect([settingsFor('dev').signup, settingsFor('production').signup]).toEqual(['open', 'closed']);
  });

  it('refuses, naming the field, what would fail on AWS or send from the wrong place', () => {
    const bad = (change: object) => () => parseStageSettings('x', { ...dev, ...change });
    expect(bad({ sending: { ...dev.sending, concurrency: 1 } })).toThrow('stage "x": sending.concurrency: Invalid value');
    expect(bad({ schedule: 'every 5 minutes' })).toThrow('schedule: must be rate(…), the time between runs');
    expect(bad({ schedule: 'cron(0 * * * ? *)' })).toThrow('schedule: must be rate(…), the time between runs');
    expect(bad({ schedule: 'rate(2 hours)' })).toThrow('schedule: must be at most an hour between runs');
    expect(() => parseStageSettings('x', { ...dev, schedule: 'rate(5 minutes)' })).not.toThrow();
    // The summary job has no schedule of its own any more: a stage file still naming one is refused.
    expect(bad({ schedules: { scheduled: 'rate(1 hour)', summaries: 'rate(1 hour)' } })).toThrow('schedules');
    expect(bad({ email: { ...dev.email, from: 'surveys@elsewhere.example' } })).toThrow('email.from: must be the identity itself');
    const domainIdentity = { ...dev.email, identity: 'rapport.example', from: 'surveys@rapport.example' };
    expect(bad({ email: { ...domainIdentity, mailFromDomain: 'mail.other.example' } })).toThrow('email.mailFromDomain: must be a subdomain');
    expect(bad({ domain: 'surveys.rapport.example' })).toThrow('certificateArn: a custom domain without Route 53 needs a certificate');
    expect(() => parseStageSettings('x', { ...dev, domain: 'surveys.rapport.example', certificateArn: 'arn:aws:acm:us-east-1:1:certificate/x' })).not.toThrow();
    expect(bad({ logLevel: 'TRACE' })).toThrow('logLevel');
    expect(bad({ extra: true })).toThrow('extra');
    expect(bad({ signup: 'yes' })).toThrow('signup');
  });
});
