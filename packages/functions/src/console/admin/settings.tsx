import { Hono, type Context } from 'hono';
import { getAgency, parseInput, SettingsPatchSchema, updateSettings, ValidationError, WEEKDAYS, type Agency, type FieldIssue } from '@rapport/core';
import type { Deps } from '../../deps';
import type { ConsoleEnv } from '../env';
import { CsrfField } from '../layout';
import { Done, Field, fieldAttrs, FormError, formErrors, formFields, formStatus, type FieldErrors } from '../form';
import { adminPage } from './page';

type Kind = 'text' | 'number' | 'months' | 'days' | 'emails' | 'select' | 'checkbox';
interface Setting {
  name: string;
  label: string;
  hint?: string;
  kind: Kind;
  options?: readonly string[];
}

/** The form's fields, in groups; each `name` is the setting's dotted path in PATCH /v1/settings. */
const GROUPS: { legend: string; settings: Setting[] }[] = [
  {
    legend: 'Agency',
    settings: [
      { name: 'name', label: 'Agency name', kind: 'text' },
      { name: 'timezone', label: 'Time zone', hint: 'An IANA time zone, such as Europe/Madrid: summaries go out by its clock.', kind: 'text' },
      { name: 'anonymityThreshold', label: 'Anonymity threshold', hint: 'From 3 to 10. Groups with fewer responses show their count but no scores or comments.', kind: 'number' },
      { name: 'surveyExpiryDays', label: 'Days a round stays open', hint: 'From 1 to 60.', kind: 'number' },
    ],
  },
  {
    legend: 'How often one address may be surveyed',
    settings: [
      { name: 'throttle.reporterDays', label: 'Days between surveys of a reporter', hint: 'From 0 to 365.', kind: 'number' },
      { name: 'throttle.colleagueDays', label: 'Days between surveys of a colleague', hint: 'From 0 to 365.', kind: 'number' },
      { name: 'throttle.clientDays', label: 'Days between surveys of a client', hint: 'From 0 to 365.', kind: 'number' },
      { name: 'throttle.minHoursBetweenSurveys', label: 'Hours between any two surveys to one address', hint: 'From 0 to 720.', kind: 'number' },
    ],
  },
  {
    legend: 'Reminders, in days after the invitation',
    settings: [
      { name: 'reminders.reporterDays', label: 'Reporters', hint: 'At most one, such as 3; empty for none. Before the round closes.', kind: 'days' },
      { name: 'reminders.colleagueDays', label: 'Colleagues', hint: 'At most two, ascending, separated by commas, such as 3, 7.', kind: 'days' },
      { name: 'reminders.clientDays', label: 'Clients', hint: 'At most two, ascending, separated by commas, such as 3, 7.', kind: 'days' },
    ],
  },
  {
    legend: 'Summaries',
    settings: [
      { name: 'summary.cadence', label: 'How often', kind: 'select', options: ['weekly', 'monthly', 'never'] },
      { name: 'summary.weekday', label: 'Day of the week (weekly)', kind: 'select', options: WEEKDAYS },
      { name: 'summary.dayOfMonth', label: 'Day of the month (monthly)', hint: 'From 1 to 28.', kind: 'number' },
      { name: 'summary.hour', label: 'Hour', hint: 'From 0 to 23, in the agency’s time zone.', kind: 'number' },
      { name: 'summary.adminEmails', label: 'Who gets the agency summary', hint: 'One address a line, at most 20; none when empty.', kind: 'emails' },
      { name: 'earlyWarnings', label: 'Email a pro at once about a low score', kind: 'checkbox' },
    ],
  },
  {
    legend: 'How long personal data is kept',
    settings: [
      { name: 'retention.commentsMonths', label: 'Months comments are kept', hint: 'From 1 to 120, after their release; empty keeps them. Scores stay.', kind: 'months' },
      { name: 'retention.identitiesMonths', label: 'Months recipients’ names and addresses are kept', hint: 'From 1 to 120, after the round began; empty keeps them. Scores stay.', kind: 'months' },
    ],
  },
];
const SETTINGS = GROUPS.flatMap((g) => g.settings);
const FIELDS = SETTINGS.map((s) => s.name);

const at = (agency: Agency, path: string): unknown => path.split('.').reduce<any>((o, k) => o?.[k], agency);

/** The agency's settings as the form shows them. */
function valuesOf(agency: Agency): Record<string, string> {
  const values: Record<string, string> = { version: String(agency.version) };
  for (const { name, kind } of SETTINGS) {
    const value = at(agency, name);
    values[name] = kind === 'months' ? (value === null || value === undefined ? '' : String(value)) : kind === 'days' ? (value as number[]).join(', ') : kind === 'emails' ? (value as string[]).join('\n') : kind === 'checkbox' ? (value ? 'on' : '') : String(value);
  }
  return values;
}

const NUMBER = /^\s*-?\d+(\.\d+)?\s*$/;

/**
 * The form as a PATCH /v1/settings body, with the same schema: every field is sent, so every
 * setting is checked. What a form cannot say in the schema's types (a number that is not one) is an
 * error of its own field.
 */
function patchOf(form: Record<string, string>) {
  const patch: Record<string, any> = {};
  const issues: FieldIssue[] = [];
  for (const { name, kind } of SETTINGS) {
    const raw = form[name] ?? '';
    let value: unknown = raw;
    if (kind === 'months' && raw.trim() === '') value = null;
    else if (kind === 'number' || kind === 'months') {
      if (!NUMBER.test(raw)) issues.push({ field: name, message: 'must be a number' });
      value = Number(raw);
    } else if (kind === 'days') {
      const days = raw.split(/[\s,;]+/).filter(Boolean);
      if (!days.every((d) => NUMBER.test(d))) issues.push({ field: name, message: 'must be whole numbers separated by commas, such as 3, 7' });
      value = days.map(Number);
    } else if (kind === 'emails') value = raw.split(/[\s,;]+/).filter(Boolean);
    else if (kind === 'checkbox') value = raw === 'on';
    const [group, key] = name.split('.');
    if (key) (patch[group!] ??= {})[key] = value;
    else patch[name] = value;
  }
  if (issues.length) throw new ValidationError(issues);
  return parseInput(SettingsPatchSchema, patch);
}

const Control = ({ setting, values, errors }: { setting: Setting; values: Record<string, string>; errors: FieldErrors }) => {
  const attrs = fieldAttrs(setting.name, errors, Boolean(setting.hint));
  const value = values[setting.name] ?? '';
  switch (setting.kind) {
    case 'select':
      return (
        <select {...attrs}>
          {setting.options!.map((o) => (
            <option value={o} selected={o === value}>
              {o}
            </option>
          ))}
        </select>
      );
    case 'emails':
      return <textarea {...attrs} rows={3}>{value}</textarea>;
    case 'number':
    case 'months':
      return <input type="text" inputmode="numeric" {...attrs} value={value} class="short" />;
    default:
      return <input type="text" {...attrs} value={value} />;
  }
};

function settingsPage(c: Context<ConsoleEnv>, values: Record<string, string>, errors: FieldErrors = {}, status: 200 | 400 | 409 = 200) {
  return adminPage(
    c,
    'Settings',
    <>
      <Done c={c} notices={{ saved: 'The settings are saved.' }} />
      <form method="post" action="/app/admin/settings" novalidate>
        <CsrfField token={c.get('csrf')} />
        <input type="hidden" name="version" value={values.version ?? ''} />
        <FormError errors={errors} />
        {Object.keys(errors).some(Boolean) && (
          <p class="notice bad" role="alert">
            Nothing was saved: please correct the fields marked below.
          </p>
        )}
        {GROUPS.map((group) => (
          <fieldset class="card">
            <legend>{group.legend}</legend>
            {group.settings.map((setting) =>
              setting.kind === 'checkbox' ? (
                <div class="field check">
                  <input type="checkbox" {...fieldAttrs(setting.name, errors)} checked={values[setting.name] === 'on'} />
                  <label for={fieldAttrs(setting.name, errors).id}>{setting.label}</label>
                  {errors[setting.name] && (
                    <p class="error" id={`${fieldAttrs(setting.name, errors).id}-error`}>
                      {errors[setting.name]}
                    </p>
                  )}
                </div>
              ) : (
                <Field name={setting.name} label={setting.label} hint={setting.hint} errors={errors}>
                  <Control setting={setting} values={values} errors={errors} />
                </Field>
              ),
            )}
          </fieldset>
        ))}
        <button type="submit">Save the settings</button>
      </form>
    </>,
    status,
  );
}

/**
 * The agency settings: PATCH /v1/settings as a form (the same schema and core update), pinned to
 * the version the form showed, so a change made meanwhile by someone else is not overwritten.
 */
export const settingsRoutes = ({ db, now }: Deps) =>
  new Hono<ConsoleEnv>()
    .get('/', async (c) => settingsPage(c, valuesOf(await getAgency(db, c.get('viewer').agencyId))))
    .post('/', async (c) => {
      const form = await formFields(c);
      try {
        await updateSettings(db, c.get('viewer').agencyId, patchOf(form), now(), { ifVersion: Number(form.version) });
        return c.redirect('/app/admin/settings?done=saved', 303);
      } catch (error) {
        return settingsPage(c, form, formErrors(error, FIELDS), formStatus(error));
      }
    });
