import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, paths } from './schema';

export type { components, paths };
/** The API's named schemas: `Schemas['Pro']`, `Schemas['ProScores']`, `Schemas['Problem']`… */
export type Schemas = components['schemas'];
export type RapportClient = Client<paths>;

export interface RapportClientOptions {
  /** Where the API is: `http://localhost:3000` locally, the deployment's `apiUrl` on AWS. */
  baseUrl: string;
  /** An API key (`rpk_…`), sent as `Authorization: Bearer`. */
  apiKey: string;
  /** A fetch of your own (tests, proxies); the global one by default. */
  fetch?: ClientOptions['fetch'];
}

/**
 * A typed client of the Rapport API (openapi-fetch over the generated `paths`): paths, parameters,
 * bodies and answers are checked by TypeScript. Each call resolves to `{ data, error, response }`:
 * `data` on a 2xx, `error` (a problem+json body) otherwise.
 */
export function createRapportClient({ baseUrl, apiKey, fetch }: RapportClientOptions): RapportClient {
  return createClient<paths>({ baseUrl: baseUrl.replace(/\/+$/, ''), headers: { Authorization: `Bearer ${apiKey}` }, ...(fetch ? { fetch } : {}) });
}
