import { Hono } from 'hono';
import type { Deps } from '../deps';
import type { ApiEnv } from './env';
import { requireApiKey } from './auth';
import { baseApp } from './base-app';
import { noStore } from './no-store';
import { responsesCsvRoute } from './routes/responses';

/**
 * `GET /v1/responses.csv` alone, with the API's key check, rate limit and errors: what the
 * streaming export function serves on AWS (`handlers/export.ts`), byte for byte the API's route.
 */
export function createExportApp(deps: Pick<Deps, 'db' | 'config' | 'now' | 'clientAddress'>) {
  return baseApp(deps).route('/v1', new Hono<ApiEnv>().use(noStore).use(requireApiKey(deps)).route('/', responsesCsvRoute(deps)));
}
