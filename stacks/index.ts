import { dev } from './dev';
import { production } from './production';
import { parseStageSettings, type StageSettings } from './settings';

export type { StageSettings } from './settings';

const stages: Record<string, unknown> = { dev, production };

/** The validated settings of a stage; stages without a file of their own use dev's. */
export function settingsFor(stage: string): StageSettings {
  return parseStageSettings(stage, stages[stage] ?? dev);
}
