import { describeRoute, resolver } from 'hono-openapi';
import type { GenericSchema } from 'valibot';
import { PROBLEM_TYPES, problemTypeUri, type ProblemType } from './problem';
import { ProblemOut } from './schemas';

interface RouteDoc {
  summary: string;
  description?: string;
  tags: string[];
  /** Success status and body schema. */
  ok: [status: number, schema: GenericSchema | null, description: string];
  /** A whole success body, shown in the document (the OpenAPI test checks it against the schema). */
  example?: unknown;
  /** What the success answer's `Location` header points at, when it sets one. */
  location?: string;
  /**
   * The problems this route may answer with, besides 400 `validation` (any unknown query parameter),
   * 401 and 429 (and 403 for admin routes, 409 and 422 for idempotent ones).
   */
  problems?: ProblemType[];
  role: 'read' | 'admin';
  idempotent?: boolean;
}

/** OpenAPI 3.1's schemas are JSON Schema 2020-12 (a tuple is `prefixItems`, not draft 7's `items` array). */
export const schemaOptions = { options: { target: 'draft-2020-12' } } as Record<string, unknown>;
/** A valibot schema as the document shows it. */
export const openApiSchema = (schema: Parameters<typeof resolver>[0]) => resolver(schema, schemaOptions);

/** The `Cache-Control` header every API answer carries, for a route that documents its own answer. */
export const noStore = { 'Cache-Control': { description: 'Always `no-store`: answers carry personal data.', schema: { type: 'string' as const, const: 'no-store' } } };
const retryAfter = (description: string, required: boolean) => ({
  'Retry-After': { description, required, schema: { type: 'integer' as const, minimum: 1 } },
});

/** The `detail` (and `errors`) each problem type's example shows. */
const PROBLEM_EXAMPLES: Record<ProblemType, { detail?: string; errors?: { field: string; message: string }[] }> = {
  validation: { detail: 'email: must be an email address', errors: [{ field: 'email', message: 'must be an email address' }] },
  'malformed-json': { detail: 'Malformed JSON in request body' },
  unauthorized: { detail: 'Missing or invalid API key' },
  forbidden: { detail: 'This API key has the read role; this needs admin' },
  'not-found': { detail: 'No such pro' },
  'method-not-allowed': { detail: 'Method not allowed' },
  conflict: { detail: 'A pro with this email already exists', errors: [{ field: 'email', message: 'A pro with this email already exists' }] },
  'idempotency-in-progress': {},
  'payload-too-large': { detail: 'The limit is 65536 bytes' },
  'unsupported-media-type': { detail: 'Send the body as application/json' },
  'idempotency-key-reused': { detail: 'Use a new Idempotency-Key for a different request' },
  'rate-limited': { detail: 'Too many requests: try again in 42 seconds' },
  internal: {},
};

/** A problem+json body of this type, as `problem()` writes it. */
const problemExample = (type: ProblemType) => ({ type: problemTypeUri(type), title: PROBLEM_TYPES[type].title, status: PROBLEM_TYPES[type].status, ...PROBLEM_EXAMPLES[type] });

/** `components.examples`: one problem+json example per problem type, which every error response refers to. */
export const problemExamples = Object.fromEntries(
  (Object.keys(PROBLEM_TYPES) as ProblemType[]).map((t) => [t, { summary: PROBLEM_TYPES[t].title, value: problemExample(t) }]),
);

const problemResponse = (status: number, types: ProblemType[]) => ({
  description: [
    types.map((t) => PROBLEM_TYPES[t].title).join('; '),
    ...(status === 429
      ? ['Either the API key made `API_RATE_LIMIT_PER_MINUTE` requests this minute, or the client address sent `AUTH_FAILURE_LIMIT_PER_ADDRESS` failed API keys in 10 minutes (then its failed keys are answered 429 until the window ends; a correct key still passes).']
      : []),
  ].join('. '),
  headers: {
    ...(status === 429 ? retryAfter('Seconds until the window that refused the request ends.', true) : {}),
    ...(types.includes('idempotency-in-progress') ? retryAfter('With `idempotency-in-progress` only: seconds to wait before retrying with the same key.', false) : {}),
    ...noStore,
  },
  content: {
    'application/problem+json': {
      schema: openApiSchema(ProblemOut),
      examples: Object.fromEntries(types.map((t) => [t, { $ref: `#/components/examples/${t}` }])),
    },
  },
});

/** One OpenAPI operation: success body, the problems it may return, security and role. */
export function doc(route: RouteDoc) {
  const types = new Set<ProblemType>([
    'validation',
    'unauthorized',
    'rate-limited',
    ...(route.role === 'admin' ? (['forbidden'] as const) : []),
    ...(route.idempotent ? (['idempotency-in-progress', 'idempotency-key-reused'] as const) : []),
    ...(route.problems ?? []),
  ]);
  const byStatus = new Map<number, ProblemType[]>();
  for (const t of types) byStatus.set(PROBLEM_TYPES[t].status, [...(byStatus.get(PROBLEM_TYPES[t].status) ?? []), t]);
  const [status, schema, description] = route.ok;
  const headers = {
    ...(route.location ? { Location: { description: route.location, required: true, schema: { type: 'string' as const } } } : {}),
    ...(route.idempotent ? { 'Idempotent-Replayed': { description: '`true` when this is the stored first answer to the same `Idempotency-Key` and body.', schema: { type: 'string' as const, const: 'true' } } } : {}),
    ...noStore,
  };
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
      [status]: schema
        ? { description, headers, content: { 'application/json': { schema: openApiSchema(schema), ...(route.example === undefined ? {} : { example: route.example }) } } }
        : { description, headers },
      ...Object.fromEntries([...byStatus].map(([s, ts]) => [s, problemResponse(s, ts)])),
    },
  });
}
