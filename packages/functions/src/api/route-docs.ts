import { describeRoute, resolver } from 'hono-openapi';
import type { GenericSchema } from 'valibot';
import { PROBLEM_TYPES, type ProblemType } from './problem';
import { ProblemOut } from './schemas';

interface RouteDoc {
  summary: string;
  description?: string;
  tags: string[];
  /** Success status and body schema. */
  ok: [status: number, schema: GenericSchema | null, description: string];
  /** The problems this route may answer with, besides 401 and 429 (and 403 for admin routes). */
  problems?: ProblemType[];
  role: 'read' | 'admin';
  idempotent?: boolean;
}

/** The `Cache-Control` header every API answer carries, for a route that documents its own answer. */
export const noStore = { 'Cache-Control': { description: 'Always `no-store`: answers carry personal data.', schema: { type: 'string' as const, const: 'no-store' } } };
const retryAfter = {
  'Retry-After': { description: 'Seconds until the window that refused the request ends.', required: true, schema: { type: 'integer' as const, minimum: 1 } },
};

const problemResponse = (status: number, types: ProblemType[]) => ({
  description: [
    types.map((t) => PROBLEM_TYPES[t].title).join('; '),
    ...(status === 429
      ? ['Either the API key made `API_RATE_LIMIT_PER_MINUTE` requests this minute, or the client address sent `AUTH_FAILURE_LIMIT_PER_ADDRESS` failed API keys in 10 minutes (then its failed keys are answered 429 until the window ends; a correct key still passes).']
      : []),
  ].join('. '),
  headers: status === 429 ? { ...retryAfter, ...noStore } : noStore,
  content: { 'application/problem+json': { schema: resolver(ProblemOut) } },
});

/** One OpenAPI operation: success body, the problems it may return, security and role. */
export function doc(route: RouteDoc) {
  const types: ProblemType[] = ['unauthorized', 'rate-limited', ...(route.role === 'admin' ? (['forbidden'] as const) : []), ...(route.problems ?? [])];
  const byStatus = new Map<number, ProblemType[]>();
  for (const t of types) byStatus.set(PROBLEM_TYPES[t].status, [...(byStatus.get(PROBLEM_TYPES[t].status) ?? []), t]);
  const [status, schema, description] = route.ok;
  return describeRoute({
    summary: route.summary,
    description: [route.description, `Needs an API key with the \`${route.role}\` role.`].filter(Boolean).join('\n\n'),
    tags: route.tags,
    security: [{ apiKey: [] }],
    ...(route.idempotent
      ? {
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: { type: 'string', maxLength: 255 },
              description: 'Retry safely: the same key with the same body returns the first answer. After a 5xx the key stays bound to its body, and the same request runs again.',
            },
          ],
        }
      : {}),
    responses: {
      [status]: schema ? { description, headers: noStore, content: { 'application/json': { schema: resolver(schema) } } } : { description, headers: noStore },
      ...Object.fromEntries([...byStatus].map(([s, ts]) => [s, problemResponse(s, ts)])),
    },
  });
}
