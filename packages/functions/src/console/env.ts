import type { Viewer } from '@rapport/core';

/** Hono environment of the signed-in console: who is looking, and the CSRF token their forms carry. */
export interface ConsoleEnv {
  Variables: { viewer: Viewer; csrf: string };
}
