import type { Context } from 'hono';
import { responsesCsv, toCsvStream, type ResponseFilter } from '@rapport/core';
import type { Deps } from '../../deps';
import type { ApiEnv } from '../env';

/**
 * The CSV export's answer: every response the filters select, streamed. Served by the API's
 * documented route (`responses.ts`), and on AWS also by the streaming export function
 * (`export-app.ts`), which loads nothing of the API's documentation.
 */
export async function csvAnswer(db: Deps['db'], c: Context<ApiEnv>, filter: ResponseFilter): Promise<Response> {
  const records = await responsesCsv(db, c.get('principal').agencyId, filter);
  return c.body(toCsvStream(records), 200, {
    'Content-Type': 'text/csv; charset=utf-8; header=present',
    'Content-Disposition': 'attachment; filename="responses.csv"',
    'Cache-Control': 'no-store',
  });
}
