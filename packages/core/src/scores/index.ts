export {
  intervalsSeparate,
  meanWithInterval,
  nps,
  percentResponsive,
  tCritical95,
  wilson,
  Z95,
  type Histogram,
  type Interval,
  type ItemCounter,
  type MeanWithInterval,
  type Nps,
  type PercentResponsive,
  type Proportion,
  type Scale,
} from './stats';
export * from './counters';
export * from './report';
export * from './backfill';
export * from './open-rounds';
