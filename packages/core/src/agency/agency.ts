import * as v from 'valibot';
import { maxChars, minChars } from '../shared/schemas';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { setAttributes, withoutKeys } from '../db/items';
import { isConditionFailed } from '../db/conditions';
import { ConflictError, ValidationError } from '../shared/errors';
import { newId } from '../shared/ids';
import { iso } from '../shared/time';
import { parseInput } from '../shared/validate';
import { defaultSettings, SettingsSchema, TimeZoneSchema, type Settings, type SettingsPatch } from './settings';
import { scheduleRetention } from '../rights/retention';
import { getAgency } from './read';

export { getAgency };

export const AgencyInputSchema = v.object({
  name: v.pipe(v.string(), maxChars(200), v.trim(), minChars(1, 'must not be empty')),
  timezone: v.optional(TimeZoneSchema, 'UTC'),
});

export type Agency = Settings & {
  agencyId: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  /** Optimistic-lock counter for settings updates. */
  version: number;
};

/** `agencyId`: an id chosen by the caller, for a creation that must happen once however often it is retried (sign-up). */
export async function createAgency(db: Db, input: unknown, now: Date, { agencyId = newId('ag') }: { agencyId?: string } = {}): Promise<Agency> {
  const { name, timezone } = parseInput(AgencyInputSchema, input);
  const agency: Agency = {
    agencyId,
    name,
    ...defaultSettings(timezone),
    createdAt: iso(now),
    updatedAt: iso(now),
    version: 1,
  };
  await db.doc.send(
    new PutCommand({
      TableName: db.table,
      // In the agency directory (one-off jobs walk it, no Scan), and due for the hourly summary run
      // now: its first run finds the period due, as at any later slot.
      Item: { ...keys.agency(agency.agencyId), ...keys.agencyDirectory(agency.agencyId), ...keys.summaryDue(agency.agencyId, iso(now)), type: 'agency', ...agency },
      ConditionExpression: 'attribute_not_exists(PK)',
    }),
  );
  return agency;
}

function merge(agency: Agency, patch: SettingsPatch): Settings & { name: string } {
  return {
    name: patch.name ?? agency.name,
    timezone: patch.timezone ?? agency.timezone,
    anonymityThreshold: patch.anonymityThreshold ?? agency.anonymityThreshold,
    throttle: { ...agency.throttle, ...patch.throttle },
    reminders: { ...agency.reminders, ...patch.reminders },
    surveyExpiryDays: patch.surveyExpiryDays ?? agency.surveyExpiryDays,
    summary: { ...agency.summary, ...patch.summary },
    earlyWarnings: patch.earlyWarnings ?? agency.earlyWarnings,
    retention: { ...agency.retention, ...patch.retention },
  };
}

/** Rules that span fields: a reminder must go out before the round closes. */
function checkConsistency(settings: Settings): void {
  for (const audience of ['reporterDays', 'colleagueDays', 'clientDays'] as const) {
    const late = settings.reminders[audience].find((d) => d >= settings.surveyExpiryDays);
    if (late !== undefined) {
      throw ValidationError.field(
        `reminders.${audience}`,
        `day ${late} is not before the survey expiry (${settings.surveyExpiryDays} days)`,
      );
    }
  }
}

/**
 * Applies a validated patch. The write is conditional on the version read, so two concurrent
 * patches cannot silently undo each other; a lost race is retried on the fresh state. With
 * `ifVersion` (a form that shows every setting and sends them all back) the patch applies only to
 * that version: a change made since the form was read is a conflict, never silently overwritten.
 */
export async function updateSettings(db: Db, agencyId: string, patch: SettingsPatch, now: Date, { ifVersion }: { ifVersion?: number } = {}): Promise<Agency> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await getAgency(db, agencyId);
    if (ifVersion !== undefined && current.version !== ifVersion) throw new ConflictError('The settings were changed by someone else since this form was opened', 'version');
    const { name, ...settings } = merge(current, patch);
    checkConsistency(parseInput(SettingsSchema, settings));
    // Before the settings: a limit set is always due for the retention pass (one left due by a
    // failed update finds no limit and leaves the index).
    if (settings.retention.commentsMonths !== null || settings.retention.identitiesMonths !== null) await scheduleRetention(db, agencyId, now);
    try {
      // A new time zone or summary schedule: due for the hourly summary run now, which reads the new
      // slot (and leaves the index for the cadence `never`).
      const rescheduled = settings.timezone !== current.timezone || (['cadence', 'weekday', 'dayOfMonth', 'hour'] as const).some((k) => settings.summary[k] !== current.summary[k]);
      const update = setAttributes({ name, ...settings, updatedAt: iso(now), version: current.version + 1, ...(rescheduled ? keys.summaryDue(agencyId, iso(now)) : {}) });
      const { Attributes } = await db.doc.send(
        new UpdateCommand({
          TableName: db.table,
          Key: keys.agency(agencyId),
          ...update,
          ConditionExpression: '#version = :version',
          ExpressionAttributeNames: { ...update.ExpressionAttributeNames, '#version': 'version' },
          ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':version': current.version },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return withoutKeys<Agency>(Attributes!);
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }
  throw new ConflictError('The settings changed concurrently; try again');
}
