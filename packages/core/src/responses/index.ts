export * from './listing';
export * from './csv';
