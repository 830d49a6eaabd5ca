export * from './api/app';
export * from './deps';
