import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import type { Deps } from '../deps';
import type { ApiEnv } from './env';
import { requireApiKey } from './auth';
import { noStore } from './no-store';
import { problem } from './problem';
import { mountDocs, mountOpenApi } from './openapi';
import { pageRoutes } from '../pages/routes';
import { mailPreferenceRoutes } from '../pages/mail-preferences';
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
import { baseApp } from './base-app';
import { refuseUndeclaredQuery } from './validate';
import { consoleRoutes } from '../console/app';

/** Largest JSON body the API accepts, but for a survey round's recipient list. */
export const MAX_BODY_BYTES = 64 * 1024;
/** 2,000 recipients with names and outlets fit well within this. */
export const MAX_ROUND_BODY_BYTES = 1024 * 1024;

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

function v1(deps: Deps) {
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

/** The one Hono app, served by the local runner and by Lambda alike. */
export function createApp(deps: Deps) {
  const app = baseApp(deps);
  app.route('/v1', v1(deps));
  app.route('/', pageRoutes(deps));
  app.route('/', mailPreferenceRoutes(deps));
  app.route('/', consoleRoutes(deps));
  mountOpenApi(app);
  mountDocs(app);
  return app;
}

