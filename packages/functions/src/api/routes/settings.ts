import { Hono } from 'hono';
import { getAgency, updateSettings, SettingsPatchSchema, type Agency } from '@rapport/core';
import type { Deps } from '../../deps';
import type { ApiEnv } from '../env';
import { requireRole } from '../auth';
import { validate } from '../validate';
import { doc } from '../route-docs';
import { AgencySettingsOut, named } from '../schemas';
import { settingsExample, settingsPatchExample } from '../examples';

const present = ({ version: _version, ...agency }: Agency) => agency;

export const settingsRoutes = ({ db, now }: Deps) =>
  new Hono<ApiEnv>()
    .get(
      '/',
      doc({ summary: 'Read the agency settings', tags: ['Settings'], role: 'read', ok: [200, AgencySettingsOut, 'The settings'], example: settingsExample }),
      async (c) => c.json(present(await getAgency(db, c.get('principal').agencyId))),
    )
    .patch(
      '/',
      requireRole('admin'),
      doc({
        summary: 'Change agency settings',
        description: 'Send only what changes; nested groups (throttle, reminders, summary) merge key by key.',
        tags: ['Settings'],
        role: 'admin',
        ok: [200, AgencySettingsOut, 'The settings after the change'],
        example: { ...settingsExample, ...settingsPatchExample, reminders: { ...settingsExample.reminders, ...settingsPatchExample.reminders } },
        problems: ['unsupported-media-type'],
      }),
      validate('json', named('SettingsPatch', SettingsPatchSchema), settingsPatchExample),
      async (c) => c.json(present(await updateSettings(db, c.get('principal').agencyId, c.req.valid('json'), now()))),
    );
