import { Hono } from 'hono';
import { ResponseFilterSchema } from '@rapport/core';
import type { Deps } from '../deps';
import type { ApiEnv } from './env';
import { requireApiKey } from './auth';
import { baseApp } from './base-app';
import { check } from './check';
import { noStore } from './no-store';
import { csvAnswer } from './routes/responses-csv';

/**
 * `GET /v1/responses.csv` alone, with the API's key check, rate limit, query check and errors: what
 * the streaming export function serves on AWS (`handlers/export.ts`), byte for byte the API's
 * route (`routes/responses.ts`), without its OpenAPI description, which the export never serves.
 */
export function createExportApp(deps: Pick<Deps, 'db' | 'config' | 'now' | 'clientAddress'>) {
  const csv = new Hono<ApiEnv>().get('/responses.csv', check('query', ResponseFilterSchema), (c) => csvAnswer(deps.db, c, c.req.valid('query')));
  return baseApp(deps).route('/v1', new Hono<ApiEnv>().use(noStore).use(requireApiKey(deps)).route('/', csv));
}
