export * from './engines/errors';
export * from './engines/ports';
export * from './engines/java';
export * from './engines/dynamodb';
export * from './engines/ses';
export * from './settings';
export * from './system';
export * from './instance';
