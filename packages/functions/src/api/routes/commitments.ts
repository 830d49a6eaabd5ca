import { Hono } from 'hono';
import * as v from 'valibot';
import { CommitmentInputSchema, getPro, listCommitments, recordCommitment } from '@rapport/core';
import type { Deps } from '../../deps';
import type { ApiEnv } from '../env';
import { requireRole } from '../auth';
import { idempotent } from '../idempotency';
import { validate } from '../validate';
import { doc } from '../route-docs';
import { named, PageQuery, pageBody, pageOf, ProParam, Timestamp } from '../schemas';
import { commitmentExample, commitmentInputExample, pageExample } from '../examples';

const tags = ['Pros'];
const CommitmentOut = named('Commitment', v.object({ commitmentId: v.string(), proId: v.string(), text: v.string(), createdAt: Timestamp }));

/** `/v1/pros/{proId}/commitments`: what a pro says they will change. */
export const commitmentRoutes = ({ db, now }: Deps) =>
  new Hono<ApiEnv>()
    .post(
      '/:proId/commitments',
      requireRole('admin'),
      doc({
        summary: 'Record what a pro will change',
        description:
          'E.g. "I will answer reporters within two hours". It becomes the pro\'s current commitment: the survey emails and pages of later rounds show it ("Last time you told us…; here is what Jane is changing" to someone who answered Jane on a named survey before, "After earlier feedback, Jane is working on this" to anyone else), and summaries report the scores since.',
        tags,
        role: 'admin',
        idempotent: true,
        ok: [201, CommitmentOut, 'The commitment'],
        example: commitmentExample,
        problems: ['not-found'],
      }),
      idempotent(db, now),
      validate('param', ProParam),
      validate('json', named('CommitmentInput', CommitmentInputSchema), commitmentInputExample),
      async (c) => c.json(await recordCommitment(db, c.get('principal').agencyId, c.req.valid('param').proId, c.req.valid('json'), now()), 201),
    )
    .get(
      '/:proId/commitments',
      doc({ summary: "List a pro's commitments", tags, role: 'read', ok: [200, pageOf(CommitmentOut), 'A page of commitments, oldest first'], example: pageExample(commitmentExample), problems: ['not-found'] }),
      validate('param', ProParam),
      validate('query', PageQuery),
      async (c) => {
        const { agencyId } = c.get('principal');
        const { proId } = c.req.valid('param');
        await getPro(db, agencyId, proId);
        return c.json(pageBody(await listCommitments(db, agencyId, proId, c.req.valid('query')), (x) => x));
      },
    );
