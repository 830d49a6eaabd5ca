/**
 * The survey instrument, versioned: every response stores the version it answered, so wording can
 * change without mixing answers to different questions. Short by design (completion falls with
 * length): the headline item, NPS, three dimension items chosen per audience, one open question,
 * one consent. Sources are the seed articles in docs/seeds and DESIGN.md.
 */
export const INSTRUMENT_VERSION = 1;

export const AUDIENCES = ['reporter', 'colleague', 'client'] as const;
export type Audience = (typeof AUDIENCES)[number];

export const RESPONSIVENESS_LABELS = [
  'Very unresponsive',
  'Slow',
  'Adequate',
  'Responsive',
  'Exceptionally responsive',
] as const;

export const AGREE_LABELS = ['Strongly disagree', 'Disagree', 'Neutral', 'Agree', 'Strongly agree'] as const;

export const DIMENSIONS = [
  'listening',
  'anticipation',
  'clarity',
  'followThrough',
  'relevance',
  'collaboration',
  'extraMile',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Wording uses `{pro}` for the pro's name. */
export const WORDING = {
  responsiveness: 'When you needed something from {pro}, how responsive were they?',
  recommend: 'How likely are you to recommend working with {pro} to a colleague?',
  // Seeds: be a good listener; put yourself in their shoes.
  listening: '{pro} understood what I actually needed.',
  // Seeds: identify and anticipate needs.
  anticipation: '{pro} anticipated my needs before I had to ask.',
  // Seeds: phrase it positively.
  clarity: '{pro} communicated clearly and constructively, even with bad news.',
  // Seeds: under-promise, over-deliver; Hon & Grunig's dependability.
  followThrough: '{pro} did what they promised, when they promised.',
  // Journalist surveys: irrelevance is the top reason pitches fail.
  relevance: 'What {pro} sent me was relevant to my beat and accurate.',
  // Seeds: treat colleagues as internal clients; be the bridge.
  collaboration: '{pro} kept me in the loop and was easy to work with.',
  // Seeds: go the extra mile.
  extraMile: '{pro} went beyond what I expected.',
  // Seeds: ask for feedback.
  improve: 'What one thing could {pro} do to be more helpful to you?',
  // Seeds: happy customers become stories.
  quoteConsent: "May {pro}'s team quote your comment, without your name?",
} as const satisfies Record<string, string>;

/** Short names of the scored items, for reports and alerts (the questions themselves are in WORDING). */
export const ITEM_LABELS = {
  responsiveness: 'Responsiveness',
  recommend: 'Likely to recommend',
  listening: 'Understood their needs',
  anticipation: 'Anticipated their needs',
  clarity: 'Communicated clearly',
  followThrough: 'Did what was promised',
  relevance: 'Relevant and accurate',
  collaboration: 'Kept them in the loop',
  extraMile: 'Went the extra mile',
} as const satisfies Record<'responsiveness' | 'recommend' | Dimension, string>;

/** The three dimension items each audience answers. */
export const AUDIENCE_DIMENSIONS: Record<Audience, readonly [Dimension, Dimension, Dimension]> = {
  reporter: ['listening', 'relevance', 'followThrough'],
  colleague: ['listening', 'anticipation', 'collaboration'],
  client: ['anticipation', 'clarity', 'extraMile'],
};

export const IMPROVE_MAX_LENGTH = 2000;

// A replacer function: a name such as "$&Co" must not be read as a replacement pattern.
export const word = (item: keyof typeof WORDING, proName: string): string => WORDING[item].replaceAll('{pro}', () => proName);
