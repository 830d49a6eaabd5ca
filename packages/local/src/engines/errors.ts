/**
 * A local engine (DynamoDB Local, the SES server, the HTTP port) could not start.
 * The message is one sentence meant for the person running `npm start`: what is wrong and what to do.
 */
export class EngineError extends Error {
  override name = 'EngineError';
}

/** The sentence for a port that something else already listens on; `envVar` names the setting that moves it. */
export function portInUseError(port: number, envVar?: string): EngineError {
  const hint = envVar ? ` (set ${envVar} to another port)` : '';
  return new EngineError(`Port ${port} is already in use${hint}.`);
}
