import { describe, expect, it } from 'vitest';
import { readLocalSettings } from './settings';

describe('readLocalSettings', () => {
  it('has defaults and resolves DATA_DIR against the working directory', () => {
    expect(readLocalSettings({}, [], '/repo')).toEqual({ port: 3000, dynamoDbPort: 8000, sesPort: 8005, dataDir: '/repo/.data', stateDir: '/repo/.data', jobsIntervalMs: 60_000 });
  });

  it('reads the variables, treating empty ones as unset', () => {
    expect(readLocalSettings({ PORT: '4000', DYNAMODB_PORT: ' 9000 ', SES_PORT: '', DATA_DIR: '/var/rapport', JOBS_INTERVAL_SECONDS: '5' }, [], '/repo')).toEqual({
      port: 4000,
      dynamoDbPort: 9000,
      sesPort: 8005,
      dataDir: '/var/rapport',
      stateDir: '/var/rapport',
      jobsIntervalMs: 5000,
    });
  });

  it('takes an SES server already running from SES_ENDPOINT', () => {
    expect(readLocalSettings({ SES_ENDPOINT: 'http://127.0.0.1:9005' }, [], '/repo').sesEndpoint).toBe('http://127.0.0.1:9005');
    expect(() => readLocalSettings({ SES_ENDPOINT: '127.0.0.1:9005' }, [])).toThrow('SES_ENDPOINT must be a URL such as http://127.0.0.1:8005 (got "127.0.0.1:9005").');
  });

  it('keeps no data folder with --in-memory, but still its state file in DATA_DIR for the CLIs', () => {
    expect(readLocalSettings({}, ['--in-memory'], '/repo')).toMatchObject({ dataDir: undefined, stateDir: '/repo/.data' });
  });

  it('refuses two engines on one port', () => {
    expect(() => readLocalSettings({ PORT: '8000' }, [])).toThrow('PORT and DYNAMODB_PORT are both 8000; give each its own port.');
    expect(() => readLocalSettings({ PORT: '9000', DYNAMODB_PORT: '9000', SES_PORT: '9000' }, [])).toThrow('PORT, DYNAMODB_PORT and SES_PORT are all 9000; give each its own port.');
    // An SES server given by SES_ENDPOINT leaves SES_PORT unused.
    expect(readLocalSettings({ SES_PORT: '3000', SES_ENDPOINT: 'http://127.0.0.1:9005' }, [], '/repo').port).toBe(3000);
  });

  it('names a bad value in one sentence', () => {
    expect(() => readLocalSettings({ DYNAMODB_PORT: 'eight' }, [])).toThrow(
      'DYNAMODB_PORT must be a port number from 1 to 65535 (got "eight").',
    );
    expect(() => readLocalSettings({ PORT: '70000' }, [])).toThrow('PORT must be a port number from 1 to 65535 (got "70000").');
    expect(() => readLocalSettings({ SES_PORT: '0' }, [])).toThrow('SES_PORT must be a port number from 1 to 65535 (got "0").');
    expect(() => readLocalSettings({ JOBS_INTERVAL_SECONDS: '1m' }, [])).toThrow(
      'JOBS_INTERVAL_SECONDS must be a whole number of seconds from 1 to 86400 (got "1m").',
    );
  });

  it('refuses unknown arguments', () => {
    expect(() => readLocalSettings({}, ['--inmemory'])).toThrow('Unknown argument "--inmemory"; the options are --in-memory and --demo.');
  });
});
