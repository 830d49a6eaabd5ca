import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import type { Deps } from '../deps';
import type { ApiEnv } from './env';
import { requireApiKey } from './auth';
import { noStore } from './no-store';
import { problem } from './problem';
import { settingsRoutes } from './routes/settings';
import { apiKeyRoutes } from './routes/api-keys';
import { proRoutes } from './routes/pros';
import { campaignRoutes } from './routes/campaigns';
import { createSurveyRoute, surveyRoutes } from './routes/surveys';
import { commitmentRoutes } from './routes/commitments';
import { summaryPreviewRoute } from './routes/summary';
import { agencyScoresRoutes, campaignScoresRoute, proScoresRoute } from './routes/scores';
import { responseRoutes } from './routes/responses';
import { webhookRoutes } from './routes/webhooks';
import { suppressionRoutes } from './routes/suppressions';
import { erasureRoutes } from './routes/erasures';
import { refuseUndeclaredQuery } from './validate';
import { MAX_BODY_BYTES, MAX_ROUND_BODY_BYTES } from './limits';

const limitBody = (maxSize: number) =>
  bodyLimit({ maxSize, onError: (c) => problem(c, 'payload-too-large', `The limit is ${maxSize} bytes`) });
const defaultLimit = limitBody(MAX_BODY_BYTES);
const roundLimit = limitBody(MAX_ROUND_BODY_BYTES);
const ROUND_PATH = /^\/v1\/campaigns\/[^/]+\/surveys$/;

const JSON_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;

/** A body that is not JSON is refused up front rather than read as an empty object. */
const requireJsonBody = createMiddleware(async (c, next) => {
  if (['POST', 'PUT', 'PATCH'].includes(c.req.method)) {
    const type = c.req.header('Content-Type');
    const notJson = type ? !JSON_TYPE.test(type) : (await c.req.text()).length > 0;
    if (notJson) return problem(c, 'unsupported-media-type', 'Send the body as application/json');
  }
  await next();
});

/** The JSON API under /v1 (loaded on its first request on Lambda: see `createApp`). */
export function v1Routes(deps: Deps) {
  return new Hono<ApiEnv>()
    .use(noStore)
    .use(requireApiKey(deps))
    .use((c, next) => (ROUND_PATH.test(c.req.path) ? roundLimit : defaultLimit)(c, next))
    .use(requireJsonBody)
    .use(refuseUndeclaredQuery)
    .route('/settings', settingsRoutes(deps))
    .route('/api-keys', apiKeyRoutes(deps))
    .route('/pros', proRoutes(deps))
    .route('/pros', proScoresRoute(deps))
    .route('/pros', commitmentRoutes(deps))
    .route('/pros', summaryPreviewRoute(deps))
    .route('/campaigns', campaignRoutes(deps))
    .route('/campaigns', createSurveyRoute(deps))
    .route('/campaigns', campaignScoresRoute(deps))
    .route('/scores', agencyScoresRoutes(deps))
    .route('/surveys', surveyRoutes(deps))
    .route('/webhooks', webhookRoutes(deps))
    .route('/suppressions', suppressionRoutes(deps))
    .route('/erasures', erasureRoutes(deps))
    .route('/', responseRoutes(deps));
}
