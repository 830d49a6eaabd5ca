export * from './api/app';
export { openApiDocument, writeOpenApiDocument } from './api/openapi-document';
export * from './deps';
export * from './adapters/in-process-queue';
export * from './adapters/in-process-scheduler';
export { csrfToken, sessionCookieName } from './console/session';
