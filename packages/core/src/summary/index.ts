export * from './model';
export * from './tips';
export * from './render';
export * from './schedule';
export * from './build';
export * from './agency-summary';
export * from './job';
