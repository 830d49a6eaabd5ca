import {
  AGREE_LABELS,
  AUDIENCE_DIMENSIONS,
  oneLine,
  RESPONSIVENESS_LABELS,
  WORDING,
  type Audience,
  type FieldIssue,
} from '@rapport/core';
import type { Child } from 'hono/jsx';
import { Isolated, Layout } from './layout';

/** An item's wording with the pro's name isolated where `{pro}` stands. */
const worded = (item: keyof typeof WORDING, proName: string): Child[] =>
  WORDING[item].split('{pro}').flatMap((part, i) => (i === 0 ? [part] : [<Isolated>{proName}</Isolated>, part]));

/** What the form shows selected: stored answers, a clicked score, or what was just submitted. */
export type FormValues = Record<string, string | undefined>;

interface ScaleProps {
  name: string;
  legend: Child;
  values: FormValues;
  options: { value: number; label: string }[];
  ends?: [string, string];
  error?: string | undefined;
  wide?: boolean;
}

const Scale = ({ name, legend, values, options, ends, error, wide }: ScaleProps) => (
  <fieldset aria-describedby={error ? `${name}-error` : undefined}>
    <legend>{legend}</legend>
    {error && (
      <p class="error" id={`${name}-error`}>
        {error}
      </p>
    )}
    <div class={wide ? 'scale wide' : 'scale'}>
      {options.map((o) => (
        <label>
          <input type="radio" name={name} value={String(o.value)} checked={values[name] === String(o.value)} />
          <span>{o.label}</span>
        </label>
      ))}
    </div>
    {ends && (
      <div class="ends" aria-hidden="true">
        <span>{ends[0]}</span>
        <span>{ends[1]}</span>
      </div>
    )}
  </fieldset>
);

export interface SurveyFormProps {
  action: string;
  proName: string;
  campaignName: string;
  audience: Audience;
  attribution: 'anonymous' | 'named';
  closesAt: string;
  /** What the pro said they are changing since the last round, if anything. */
  commitment: string | undefined;
  /** The agency emails the pro at once about a low score. */
  earlyWarnings: boolean;
  /** The anonymity threshold the round promises. */
  anonymityThreshold: number;
  values: FormValues;
  errors: FieldIssue[];
  revising: boolean;
}

export const SurveyForm = (p: SurveyFormProps) => {
  const errorOf = (field: string) => p.errors.find((e) => e.field === field)?.message;
  const agree = AGREE_LABELS.map((label, i) => ({ value: i + 1, label }));
  const pro = <Isolated>{p.proName}</Isolated>;
  return (
    // A title holds no markup: the name loses its bidi controls there instead.
    <Layout title={`Feedback on ${oneLine(p.proName)}`}>
      <h1>
        How was working with {pro} on the <Isolated>{p.campaignName}</Isolated>?
      </h1>
      <p>It takes a minute. {pro} asked for this feedback to get better at helping you.</p>
      <p class="note">
        {p.attribution === 'named' ? (
          <>Your answers will be shared with {pro}'s team together with your name.</>
        ) : (
          <>
            Your answers are anonymous: {pro} sees them only after this survey closes, pooled with the answers of at least {p.anonymityThreshold} people, never
            with your name or when you answered.
          </>
        )}
        {p.earlyWarnings ? (
          p.attribution === 'named' ? (
            <> A low score alerts {pro} right away, so they can put things right.</>
          ) : (
            <>
              {' '}
              A low score (2 or less, or 6 or less for recommending) sends {pro} your scores and comment right away, without your name, so they can put things
              right; only when at least {p.anonymityThreshold} {p.audience}s were asked in this survey.
            </>
          )
        ) : (
          ''
        )}
        {p.revising
          ? ' You answered already; sending again replaces your earlier answers.'
          : p.attribution === 'anonymous'
            ? ' Until the survey closes you can answer again with this link, which replaces your earlier answers; they are never shown here, so that nobody else with the link can read them.'
            : ''}
      </p>
      {p.commitment && (
        <p class="commitment">
          Last time you told us what could be better; here is what {pro} is changing: “<Isolated>{p.commitment}</Isolated>”
        </p>
      )}
      {p.errors.length > 0 && (
        <div class="errors" role="alert">
          <p class="error">Please check the marked questions.</p>
        </div>
      )}
      <form method="post" action={p.action}>
        <Scale
          name="responsiveness"
          legend={worded('responsiveness', p.proName)}
          values={p.values}
          options={RESPONSIVENESS_LABELS.map((label, i) => ({ value: i + 1, label: `${i + 1} · ${label}` }))}
          error={errorOf('responsiveness')}
        />
        <Scale
          name="recommend"
          legend={worded('recommend', p.proName)}
          values={p.values}
          options={Array.from({ length: 11 }, (_, i) => ({ value: i, label: String(i) }))}
          ends={['0 · Not at all likely', '10 · Extremely likely']}
          error={errorOf('recommend')}
          wide
        />
        {AUDIENCE_DIMENSIONS[p.audience].map((dimension) => (
          <Scale name={dimension} legend={worded(dimension, p.proName)} values={p.values} options={agree} error={errorOf(dimension)} />
        ))}
        <fieldset>
          <legend>
            <label for="improve">{worded('improve', p.proName)}</label>
          </legend>
          {errorOf('improve') && <p class="error">{errorOf('improve')}</p>}
          {/* No maxlength: browsers count it in UTF-16 units, an emoji as two; the server counts characters and names the field. */}
          <textarea id="improve" name="improve">
            {p.values.improve ?? ''}
          </textarea>
          <p class="check">
            <input type="checkbox" id="quoteConsent" name="quoteConsent" value="yes" checked={p.values.quoteConsent === 'yes'} />
            <label for="quoteConsent">{worded('quoteConsent', p.proName)}</label>
          </p>
        </fieldset>
        <button type="submit">{p.revising ? 'Update my answers' : 'Send my answers'}</button>
        <p class="note">Only the first question is required. You can change your answers with the same link until {p.closesAt.slice(0, 10)}.</p>
      </form>
    </Layout>
  );
};
