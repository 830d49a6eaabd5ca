export * from './queue';
export * from './transition';
export * from './deliver';
export * from './notifications';
export * from './retry';
export * from './records';
export { mailSent } from './mail-claim';
