/**
 * A response as it is stored, and back: the data layer's shape of `SurveyResponse`, apart from the
 * domain module so that every reader (listings, releases, erasures) can share it.
 */
import { withoutKeys } from '../db/items';
import type { Release } from '../release/batch';
import type { SurveyResponse } from './response';

/** What a release shares with its row for every batch but a pooled one: its campaign and its month. */
const ROW_OWN = ['campaignId', 'campaignName', 'period'] as const;

/**
 * The release as its row stores it: what it shares with the row left out. A typical released row
 * then stays within 1 KB, so marking it costs one write unit in the table and one in each of its
 * two indexes, not two in each (`bench/`: the close's cost per answer).
 */
export function storedRelease(release: Release, row: Pick<SurveyResponse, (typeof ROW_OWN)[number]>): Partial<Release> {
  const stored: Partial<Release> = { ...release };
  for (const field of ROW_OWN) if (stored[field] === row[field]) delete stored[field];
  return stored;
}

/** A response as it is written: its release stored as `storedRelease` makes it. */
export const responseItem = (response: SurveyResponse) => (response.release ? { ...response, release: storedRelease(response.release, response) } : response);

/** A stored response (a row or a testimonial copy) as the domain has it: its release whole again. */
export function responseOf(item: Record<string, unknown>): SurveyResponse {
  const response = withoutKeys<Omit<SurveyResponse, 'release'> & { release?: Partial<Release> }>(item);
  if (!response.release) return response as SurveyResponse;
  return { ...response, release: { campaignId: response.campaignId, campaignName: response.campaignName, period: response.period, ...response.release } as Release };
}
