import { describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { agencyFixture, testDeps } from '@rapport/testing';

const deps = testDeps();

const storedAgency = async (agencyId: string) =>
  (await deps.db.doc.send(new GetCommand({ TableName: deps.db.table, Key: { PK: `AG#${agencyId}`, SK: 'AG' } }))).Item;

describe('agency settings', () => {
  it('starts from the documented defaults', async () => {
    const { call, agencyId } = await agencyFixture(deps, 'Acme PR');
    const res = await call('GET', '/v1/settings');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      agencyId,
      name: 'Acme PR',
      timezone: 'UTC',
      anonymityThreshold: 5,
      throttle: { reporterDays: 90, colleagueDays: 30, clientDays: 90, minHoursBetweenSurveys: 24 },
      reminders: { reporterDays: [3], colleagueDays: [3, 7], clientDays: [3, 7] },
      surveyExpiryDays: 14,
      summary: { cadence: 'weekly', weekday: 'monday', dayOfMonth: 1, hour: 9, adminEmails: [] },
      earlyWarnings: false,
      retention: { commentsMonths: null, identitiesMonths: null },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
  });

  it('merges a partial patch key by key and stores it', async () => {
    const { call, agencyId } = await agencyFixture(deps);
    const res = await call('PATCH', '/v1/settings', {
      body: { timezone: 'Europe/Madrid', throttle: { reporterDays: 60 }, summary: { cadence: 'monthly' }, earlyWarnings: true },
    });
    expect(res.status).toBe(200);
    expect(res.body.timezone).toBe('Europe/Madrid');
    expect(res.body.throttle).toEqual({ reporterDays: 60, colleagueDays: 30, clientDays: 90, minHoursBetweenSurveys: 24 });
    expect(res.body.summary).toEqual({ cadence: 'monthly', weekday: 'monday', dayOfMonth: 1, hour: 9, adminEmails: [] });
    const item = await storedAgency(agencyId);
    expect(item).toMatchObject({ timezone: 'Europe/Madrid', earlyWarnings: true, version: 2, throttle: { reporterDays: 60 } });
  });

  const invalid: [string, unknown, string][] = [
    ['anonymity threshold below 3', { anonymityThreshold: 2 }, 'anonymityThreshold'],
    ['anonymity threshold above 10', { anonymityThreshold: 11 }, 'anonymityThreshold'],
    ['fractional threshold', { anonymityThreshold: 4.5 }, 'anonymityThreshold'],
    ['unknown time zone', { timezone: 'Mars/Olympus' }, 'timezone'],
    ['negative throttle days', { throttle: { colleagueDays: -1 } }, 'throttle.colleagueDays'],
    ['unknown throttle key', { throttle: { reportrDays: 10 } }, 'throttle.reportrDays'],
    ['two reporter reminders', { reminders: { reporterDays: [2, 4] } }, 'reminders.reporterDays'],
    ['reminders out of order', { reminders: { clientDays: [7, 3] } }, 'reminders.clientDays'],
    ['reminder after expiry', { surveyExpiryDays: 5 }, 'reminders.colleagueDays'],
    ['unknown cadence', { summary: { cadence: 'daily' } }, 'summary.cadence'],
    ['hour 24', { summary: { hour: 24 } }, 'summary.hour'],
    ['alerts as a string', { earlyWarnings: 'yes' }, 'earlyWarnings'],
    ['unknown top-level key', { colour: 'blue' }, 'colour'],
    ['empty name', { name: '  ' }, 'name'],
  ];

  it.each(invalid)('refuses %s with a 400 naming the field, and changes nothing', async (_label, body, field) => {
    const { call, agencyId } = await agencyFixture(deps);
    const before = await storedAgency(agencyId);
    const res = await call('PATCH', '/v1/settings', { body });
    expect(res.status).toBe(400);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
    expect(res.body.type).toBe('urn:rapport:problem:validation');
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(res.body.detail).toContain(field);
    expect(await storedAgency(agencyId)).toEqual(before);
  });

  it('refuses a body that is not JSON (415), malformed JSON (400) and an oversized body (413)', async () => {
    const { call } = await agencyFixture(deps);
    const text = await call('PATCH', '/v1/settings', { raw: 'anonymityThreshold=4', headers: { 'Content-Type': 'text/plain' } });
    expect(text.status).toBe(415);
    expect(text.body.type).toBe('urn:rapport:problem:unsupported-media-type');
    const broken = await call('PATCH', '/v1/settings', { raw: '{"anonymityThreshold":', headers: { 'Content-Type': 'application/json' } });
    expect(broken.status).toBe(400);
    expect(broken.body.type).toBe('urn:rapport:problem:malformed-json');
    const huge = await call('PATCH', '/v1/settings', { body: { name: 'x'.repeat(70_000) } });
    expect(huge.status).toBe(413);
    expect(huge.body.type).toBe('urn:rapport:problem:payload-too-large');
    expect((await call('GET', '/v1/settings')).body.anonymityThreshold).toBe(5);
  });
});
