import type { Settings } from './settings';

/* Apart from the settings' schemas (./settings.ts): a bundle that reads an agency needs the defaults, not the schemas. */

/** Every setting's default: an agency's settings as created, and what an older agency lacks. */
export const defaultSettings = (timezone = 'UTC'): Settings => ({
  timezone,
  anonymityThreshold: 5,
  throttle: { reporterDays: 90, colleagueDays: 30, clientDays: 90, minHoursBetweenSurveys: 24 },
  reminders: { reporterDays: [3], colleagueDays: [3, 7], clientDays: [3, 7] },
  surveyExpiryDays: 14,
  summary: { cadence: 'weekly', weekday: 'monday', dayOfMonth: 1, hour: 9, adminEmails: [] },
  earlyWarnings: false,
  retention: { commentsMonths: null, identitiesMonths: null },
});
