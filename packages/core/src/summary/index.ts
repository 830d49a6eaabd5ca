export * from './model';
export * from './tips';
export * from './render';
