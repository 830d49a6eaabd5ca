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

const problemResponse = (types: ProblemType[]) => ({
  description: types.map((t) => PROBLEM_TYPES[t].title).join('; '),
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
      [status]: schema ? { description, content: { 'application/json': { schema: resolver(schema) } } } : { description },
      ...Object.fromEntries([...byStatus].map(([s, ts]) => [s, problemResponse(ts)])),
    },
  });
}
