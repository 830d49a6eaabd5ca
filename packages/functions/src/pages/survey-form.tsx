import {
  AGREE_LABELS,
  AUDIENCE_DIMENSIONS,
  IMPROVE_MAX_LENGTH,
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
  /** The anchors of a numeric scale: read with the group (aria-describedby), not hidden from screen readers. */
  ends?: [string, string];
  error?: Child | undefined;
  /**
   * `labelled`: one option a row, its words beside it; `agree`: the same on a phone, one row of five
   * on a wide screen (short words); `numbers`: 0–10 in a grid, two rows on a phone, one line wider.
   */
  layout: 'labelled' | 'agree' | 'numbers';
  required?: boolean;
}

const Scale = ({ name, legend, values, options, ends, error, layout, required }: ScaleProps) => {
  const described = [error ? `${name}-error` : '', ends ? `${name}-ends` : ''].filter(Boolean).join(' ');
  return (
    <fieldset id={`q-${name}`} aria-describedby={described || undefined}>
      <legend>
        {legend}
        {required && <span class="required"> (required)</span>}
      </legend>
      {error && (
        <p class="error" id={`${name}-error`}>
          {error}
        </p>
      )}
      <div class={`scale ${layout}`}>
        {options.map((o) => (
          <label>
            <input
              type="radio"
              name={name}
              value={String(o.value)}
              checked={values[name] === String(o.value)}
              required={required}
              aria-invalid={error ? 'true' : undefined}
            />
            <span>{o.label}</span>
          </label>
        ))}
      </div>
      {ends && (
        <p class="ends" id={`${name}-ends`}>
          <span>{ends[0]}</span>
          <span>{ends[1]}</span>
        </p>
      )}
    </fieldset>
  );
};

/**
 * A field's problem in the respondent's words. The domain's messages are written for API clients
 * ("is required" for a missing answer); a person gets what to do instead.
 */
function inRespondentsWords(issue: FieldIssue, proName: string, values: FormValues): Child {
  if (issue.field === 'responsiveness') return <>Please choose how responsive {<Isolated>{proName}</Isolated>} was, from 1 to 5: this question is required.</>;
  if (issue.field === 'recommend') return 'Please choose a number from 0 to 10, or leave this question out.';
  if (issue.field === 'improve') {
    const length = Array.from((values.improve ?? '').trim()).length;
    return `Please shorten your comment to at most ${IMPROVE_MAX_LENGTH.toLocaleString('en')} characters (it has ${length.toLocaleString('en')}).`;
  }
  return 'Please choose one of the five answers, or leave this question out.';
}

export interface SurveyFormProps {
  action: string;
  proName: string;
  campaignName: string;
  audience: Audience;
  attribution: 'anonymous' | 'named';
  closesAt: string;
  /** What the pro said they are changing, if anything. */
  commitment: string | undefined;
  /** Whether this recipient answered the pro before (see `Invitation.returning`): only then is the commitment "what you told us". */
  returning: boolean;
  /** The agency emails the pro at once about a low score. */
  earlyWarnings: boolean;
  /** The anonymity threshold the round promises. */
  anonymityThreshold: number;
  values: FormValues;
  errors: FieldIssue[];
  revising: boolean;
}

export const SurveyForm = (p: SurveyFormProps) => {
  const issueOf = (field: string) => p.errors.find((e) => e.field === field);
  const errorOf = (field: string) => {
    const issue = issueOf(field);
    return issue && inRespondentsWords(issue, p.proName, p.values);
  };
  const agree = AGREE_LABELS.map((label, i) => ({ value: i + 1, label }));
  const pro = <Isolated>{p.proName}</Isolated>;
  const improveError = errorOf('improve');
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
          {p.returning ? <>Last time you told us what could be better; here is what {pro} is changing: </> : <>After earlier feedback, {pro} is working on this: </>}
          “<Isolated>{p.commitment}</Isolated>”
        </p>
      )}
      {p.errors.length > 0 && (
        <div class="errors" role="alert">
          <p class="error">Please check the marked {p.errors.length === 1 ? 'question' : 'questions'}:</p>
          <ul>
            {p.errors.map((issue) => (
              <li>
                <a href={issue.field === 'improve' ? '#improve' : `#q-${issue.field}`}>{inRespondentsWords(issue, p.proName, p.values)}</a>
              </li>
            ))}
          </ul>
        </div>
      )}
      <form method="post" action={p.action}>
        <p class="note">Only the first question is required; answer as many of the others as you like.</p>
        <Scale
          name="responsiveness"
          legend={worded('responsiveness', p.proName)}
          values={p.values}
          options={RESPONSIVENESS_LABELS.map((label, i) => ({ value: i + 1, label: `${i + 1} · ${label}` }))}
          error={errorOf('responsiveness')}
          layout="labelled"
          required
        />
        <Scale
          name="recommend"
          legend={worded('recommend', p.proName)}
          values={p.values}
          options={Array.from({ length: 11 }, (_, i) => ({ value: i, label: String(i) }))}
          ends={['0 = not at all likely', '10 = extremely likely']}
          error={errorOf('recommend')}
          layout="numbers"
        />
        {AUDIENCE_DIMENSIONS[p.audience].map((dimension) => (
          <Scale name={dimension} legend={worded(dimension, p.proName)} values={p.values} options={agree} error={errorOf(dimension)} layout="agree" />
        ))}
        <fieldset>
          <legend>
            <label for="improve">{worded('improve', p.proName)}</label>
          </legend>
          {improveError && (
            <p class="error" id="improve-error">
              {improveError}
            </p>
          )}
          {/* No maxlength: browsers count it in UTF-16 units, an emoji as two; the server counts characters and names the field. */}
          <textarea id="improve" name="improve" aria-invalid={improveError ? 'true' : undefined} aria-describedby={improveError ? 'improve-error' : undefined}>
            {p.values.improve ?? ''}
          </textarea>
          <p class="check">
            <input type="checkbox" id="quoteConsent" name="quoteConsent" value="yes" checked={p.values.quoteConsent === 'yes'} />
            <label for="quoteConsent">{worded('quoteConsent', p.proName)}</label>
          </p>
        </fieldset>
        <button type="submit">{p.revising ? 'Update my answers' : 'Send my answers'}</button>
        <p class="note">You can change your answers with the same link until {p.closesAt.slice(0, 10)}.</p>
      </form>
    </Layout>
  );
};
