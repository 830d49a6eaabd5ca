export * from './config';
export * from './db/client';
export * from './db/table';
