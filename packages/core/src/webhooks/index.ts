export * from './address';
export * from './endpoints';
export * from './events';
export * from './delivery';
export { postWebhook, systemResolve, DELIVERY_TIMEOUT_MS, type Resolve, type PostOutcome } from './ssrf';
