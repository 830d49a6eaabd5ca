import * as v from 'valibot';
import { maxChars, minChars } from '../shared/schemas';

// Built on first check, not at import: listing the zones costs about 2 ms of every cold start
// whose bundle holds this module (the sender, the jobs), which mostly never check one.
let timeZones: Set<string> | undefined;

export const TimeZoneSchema = v.pipe(
  v.string(),
  v.check((tz) => (timeZones ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC'])).has(tz), 'must be an IANA time zone such as Europe/Madrid'),
  v.metadata({ examples: ['Europe/Madrid'] }),
);

const int = (min: number, max: number, description: string) =>
  v.pipe(
    v.number(),
    v.integer(`must be a whole number from ${min} to ${max}`),
    v.minValue(min, `must be from ${min} to ${max}`),
    v.maxValue(max, `must be from ${min} to ${max}`),
    v.description(description),
  );

const reminderDays = (max: number) =>
  v.pipe(
    v.array(int(1, 59, 'Days after the invitation.')),
    v.maxLength(max, `allows at most ${max} reminder${max === 1 ? '' : 's'}`),
    v.check((days) => days.every((d, i) => i === 0 || d > days[i - 1]!), 'must be in ascending order'),
  );

export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;

/** Every agency setting with its default; the source of the API schemas too. */
export const SettingsSchema = v.strictObject({
  timezone: TimeZoneSchema,
  anonymityThreshold: int(3, 10, 'Groups with fewer responses show their count but no scores or comments.'),
  throttle: v.strictObject({
    reporterDays: int(0, 365, 'Days before a reporter may be surveyed again by this agency.'),
    colleagueDays: int(0, 365, 'Days before a colleague may be surveyed again.'),
    clientDays: int(0, 365, 'Days before a client may be surveyed again.'),
    minHoursBetweenSurveys: int(0, 720, 'Hours that must pass between any two surveys to one address.'),
  }),
  reminders: v.strictObject({
    reporterDays: reminderDays(1),
    colleagueDays: reminderDays(2),
    clientDays: reminderDays(2),
  }),
  surveyExpiryDays: int(1, 60, 'Days after which a round closes.'),
  summary: v.strictObject({
    cadence: v.picklist(['weekly', 'monthly', 'never']),
    weekday: v.picklist(WEEKDAYS),
    dayOfMonth: int(1, 28, 'Day of the month for monthly summaries.'),
    hour: int(0, 23, 'Local hour at which summaries are sent.'),
    adminEmails: v.pipe(
      v.array(v.pipe(v.string(), maxChars(320), v.trim(), v.email('must be an email address'))),
      v.maxLength(20, 'allows at most 20 addresses'),
      v.description("Who receives the agency summary (the team table, movers, pros who need attention); none when empty."),
    ),
  }),
  earlyWarnings: v.pipe(v.boolean(), v.description('Email a pro at once about a low score (opt-in).')),
  retention: v.strictObject({
    commentsMonths: v.nullable(
      int(1, 120, 'Months after their release that comments (free text, testimonial quotes) are removed from responses and testimonials; null keeps them. Scores stay.'),
    ),
    identitiesMonths: v.nullable(
      int(1, 120, 'Months after a round began that its recipients’ names, addresses and outlets are erased from its invitations and named responses; null keeps them. Scores stay.'),
    ),
  }),
});

export type Settings = v.InferOutput<typeof SettingsSchema>;

export { defaultSettings } from './defaults';

const e = SettingsSchema.entries;

/** A PATCH: any subset, nested groups merged key by key; unknown keys are errors, not ignored. */
export const SettingsPatchSchema = v.strictObject({
  name: v.optional(v.pipe(v.string(), maxChars(200), v.trim(), minChars(1, 'must not be empty'))),
  timezone: v.optional(e.timezone),
  anonymityThreshold: v.optional(e.anonymityThreshold),
  throttle: v.optional(v.partial(e.throttle)),
  reminders: v.optional(v.partial(e.reminders)),
  surveyExpiryDays: v.optional(e.surveyExpiryDays),
  summary: v.optional(v.partial(e.summary)),
  earlyWarnings: v.optional(e.earlyWarnings),
  retention: v.optional(v.partial(e.retention)),
});

export type SettingsPatch = v.InferOutput<typeof SettingsPatchSchema>;
