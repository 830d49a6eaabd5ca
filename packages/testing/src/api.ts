import { createAgency, createApiKey } from '@rapport/core';
import { createApp, type Deps } from '@rapport/functions';

export interface ApiAnswer<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface CallOptions {
  /** API key to send; `null` sends none. Defaults to the fixture's admin key. */
  key?: string | null;
  body?: unknown;
  /** Raw body text, sent as is (for malformed or non-JSON bodies). */
  raw?: string;
  headers?: Record<string, string>;
}

let agencies = 0;

/**
 * A fresh agency with an admin and a read key, and a `call` that sends requests through the real
 * app (app.request, no server) against the test table. Each test makes its own, so tests share
 * nothing.
 */
export async function agencyFixture(deps: Deps, name = `Test Agency ${++agencies}`) {
  const app = createApp(deps);
  const agency = await createAgency(deps.db, { name }, deps.now());
  const admin = await createApiKey(deps.db, agency.agencyId, { role: 'admin' }, deps.now());
  const read = await createApiKey(deps.db, agency.agencyId, { role: 'read' }, deps.now());

  async function call<T = any>(method: string, path: string, options: CallOptions = {}): Promise<ApiAnswer<T>> {
    const key = options.key === undefined ? admin.secret : options.key;
    const headers: Record<string, string> = { ...options.headers };
    if (key !== null) headers.Authorization = `Bearer ${key}`;
    let body: string | undefined = options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['Content-Type'] ??= 'application/json';
    }
    const res = await app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    const isJson = /json/.test(res.headers.get('Content-Type') ?? '');
    return { status: res.status, headers: res.headers, body: (isJson && text ? JSON.parse(text) : text) as T };
  }

  return { app, agency, agencyId: agency.agencyId, adminKey: admin.secret, readKey: read.secret, readKeyId: read.apiKey.keyId, call };
}

export type AgencyFixture = Awaited<ReturnType<typeof agencyFixture>>;
