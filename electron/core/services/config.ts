import { z } from 'zod';
import { AppError } from '../../../shared/errors.js';
import { uuid } from '../../../shared/schemas/common.js';
import { datasourceCreate } from '../../../shared/schemas/datasource.js';
import { jobCreate } from '../../../shared/schemas/job.js';
import { SETTING_KEYS, SETTINGS, type SettingKey } from '../../../shared/schemas/settings.js';
import { storageCreate } from '../../../shared/schemas/storage.js';
import { AGE_RECIPIENT } from '../../../shared/schemas/encryption.js';
import { encryptionState, givenIdentities } from '../catalog/keys.js';
import { BackupJobs, BackupJobStorages, Datasources, EncryptionKeys, StorageLocations, type EncryptionKeyRow } from '../db/entities.js';
import { AgeError, armored, decryptSmall, encryptSmall, recipientOf, unarmored } from '../kernel/age.js';
import { appVersion } from '../kernel/app-version.js';
import { readSettings, writeSetting } from '../kernel/settings.js';
import { scoped } from '../kernel/log.js';
import { nextExecution } from '../scheduler/slots.js';
import type { ServiceContext } from './context.js';
import type { Handlers } from './handlers.js';
import { SMTP_KEY } from './settings.js';

const log = scoped('config');

const FORMAT = 'dataguardian-configuration';
const SCRYPT_STANZA = Buffer.from('age-encryption.org/v1\n-> scrypt ');

const row = z.record(z.string(), z.unknown());
/**
 * The recovery kit's contents once decrypted: what a fresh install needs to be this one again. Secrets are
 * in the clear in here, which is why the whole kit is an age file to the recovery key.
 */
const kitSchema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(1),
  exported_at: z.string(),
  app_version: z.string().optional(),
  datasources: z.array(row).max(10_000),
  storages: z.array(row).max(10_000),
  jobs: z.array(row.and(z.object({ storage_location_ids: z.array(z.string()) }))).max(10_000),
  settings: z.record(z.string(), z.unknown()),
  encryption_keys: z.array(
    z.object({
      recipient: z.string().regex(AGE_RECIPIENT),
      role: z.enum(['app', 'recovery', 'extra']),
      label: z.string().nullable(),
      identity: z.string().nullable(),
      active: z.boolean(),
      created_at: z.string(),
      retired_at: z.string().nullable(),
    }),
  ),
});
type Kit = z.output<typeof kitSchema>;

const dates = (r: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v])) as Record<string, unknown>;

function checked<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new AppError('validation_error', `The configuration file's ${what} is not valid: ${issue ? `${issue.path.join('.')} ${issue.message}` : 'unreadable'}`);
}
const idOf = (row: Record<string, unknown>, what: string) => checked(uuid, row.id, what);

export function configService(ctx: ServiceContext): Handlers['config'] {
  async function collect(): Promise<Kit> {
    const [datasources, storages, jobs, links, settings, keys] = await Promise.all([
      ctx.db.getRepository(Datasources).find(),
      ctx.db.getRepository(StorageLocations).find(),
      ctx.db.getRepository(BackupJobs).find(),
      ctx.db.getRepository(BackupJobStorages).find({ order: { position: 'ASC' } }),
      readSettings(ctx.db),
      ctx.db.getRepository(EncryptionKeys).find(),
    ]);
    return {
      format: FORMAT,
      version: 1,
      exported_at: ctx.clock.now().toISOString(),
      app_version: appVersion(),
      datasources: datasources.map((d) => dates({ ...d, connection_config: ctx.secrets.openConfig(d.connection_config) })),
      storages: storages.map((s) => dates({ ...s, config: ctx.secrets.openConfig(s.config), status: 'healthy', available_space_gb: null })),
      jobs: jobs.map((j) => ({
        ...dates({ ...j, next_execution_at: null, last_execution_at: null }),
        storage_location_ids: links.filter((l) => l.job_id === j.id).map((l) => l.storage_location_id),
      })),
      settings: { ...settings, [SMTP_KEY]: ctx.secrets.openConfig(settings[SMTP_KEY]) },
      encryption_keys: keys.map((k) => ({
        recipient: k.recipient,
        role: k.role,
        label: k.label,
        identity: k.sealed_identity ? ctx.secrets.decrypt(k.sealed_identity) : null,
        active: k.active,
        created_at: k.created_at.toISOString(),
        retired_at: k.retired_at?.toISOString() ?? null,
      })),
    };
  }

  /** Opens a kit: the passphrase layer first when there is one, then the recovery key's. */
  async function open(text: string, identityText: string, passphrase: string | undefined): Promise<Kit> {
    let file: Uint8Array;
    try {
      file = await unarmored(text.trim());
    } catch {
      throw new AppError('validation_error', 'This is not a DataGuardian configuration file (an armored age file, "-----BEGIN AGE ENCRYPTED FILE-----")');
    }
    const identities = (await givenIdentities(identityText)).map((k) => k.identity);
    if (identities.length === 0) throw new AppError('validation_error', 'Paste the recovery key: the configuration file is encrypted to it');
    const locked = Buffer.from(file.subarray(0, SCRYPT_STANZA.length)).equals(SCRYPT_STANZA);
    try {
      if (locked) {
        if (!passphrase) throw new AppError('validation_error', 'This configuration file is also locked with a passphrase: type it');
        file = await decryptSmall(file, { passphrase });
      }
      const plain = await decryptSmall(file, { identities });
      const parsed = kitSchema.safeParse(JSON.parse(Buffer.from(plain).toString('utf8')));
      if (!parsed.success) throw new AppError('validation_error', 'The configuration file opens, but its contents are not a DataGuardian configuration');
      return parsed.data;
    } catch (e) {
      if (e instanceof AgeError && e.reason === 'key')
        throw new AppError(
          'key_required',
          locked ? 'The passphrase opens it, but this recovery key does not' : 'This recovery key does not open this configuration file',
        );
      if (e instanceof AgeError && /passphrase|scrypt|no identity/i.test(e.message)) throw new AppError('validation_error', 'Wrong passphrase');
      if (e instanceof AgeError) throw new AppError('damaged', e.message);
      throw e;
    }
  }

  return {
    async export({ passphrase }) {
      const { recovery_recipient } = await encryptionState(ctx);
      if (!recovery_recipient) throw new AppError('validation_error', 'Set up encryption first: the configuration file is encrypted to the recovery key');
      const kit = await collect();
      let file = await encryptSmall(Buffer.from(JSON.stringify(kit)), { recipients: [recovery_recipient] });
      // age puts a passphrase in a file of its own (its scrypt stanza stands alone): the passphrase wraps the recovery key's file.
      if (passphrase) file = await encryptSmall(file, { passphrase });
      log.info(`configuration exported (${kit.datasources.length} datasources, ${kit.storages.length} storages, ${kit.jobs.length} jobs)`);
      return {
        file_name: `dataguardian-configuration-${kit.exported_at.slice(0, 10)}.age`,
        content: await armored(file),
        passphrase: Boolean(passphrase),
        datasources: kit.datasources.length,
        storages: kit.storages.length,
        jobs: kit.jobs.length,
      };
    },

    async import({ kit: text, identity, passphrase }) {
      const kit = await open(text, identity, passphrase);
      const [datasources, storages, jobs, keys] = await Promise.all([
        ctx.db.getRepository(Datasources).count(),
        ctx.db.getRepository(StorageLocations).count(),
        ctx.db.getRepository(BackupJobs).count(),
        ctx.db.getRepository(EncryptionKeys).count(),
      ]);
      if (datasources + storages + jobs > 0 || (keys > 0 && kit.encryption_keys.length > 0)) {
        throw new AppError(
          'conflict',
          `A configuration is imported into a fresh install only: this one already has ${datasources} datasource(s), ${storages} storage(s), ${jobs} job(s)${keys ? ' and encryption keys' : ''}`,
        );
      }
      const paused = (await readSettings(ctx.db))['schedules.paused'];
      const settingKeys = Object.keys(kit.settings).filter((k): k is SettingKey => SETTING_KEYS.includes(k as SettingKey));
      // Anyone can encrypt a file to a public key: the kit's rows are checked as a form's would be, before anything is written.
      const datasourceRows = kit.datasources.map((d, i) => ({ id: idOf(d, `datasource ${i + 1}`), ...checked(datasourceCreate, d, `datasource ${i + 1}`) }));
      const storageRows = kit.storages.map((s, i) => ({ id: idOf(s, `storage ${i + 1}`), ...checked(storageCreate, s, `storage ${i + 1}`) }));
      const jobRows = kit.jobs.map((j, i) => ({ id: idOf(j, `job ${i + 1}`), ...checked(jobCreate, j, `job ${i + 1}`) }));
      for (const j of jobRows) {
        if (!datasourceRows.some((d) => d.id === j.datasource_id) || !j.storage_location_ids.every((id) => storageRows.some((s) => s.id === id)))
          throw new AppError('validation_error', `The configuration file's job "${j.name}" names a datasource or storage it does not hold`);
      }
      for (const k of kit.encryption_keys) {
        if (k.identity && (k.role !== 'app' || (await recipientOf(k.identity)) !== k.recipient))
          throw new AppError('validation_error', "The configuration file's app key does not match its public key");
      }
      await ctx.db.transaction(async (m) => {
        for (const d of datasourceRows) {
          await m.getRepository(Datasources).save({
            id: d.id,
            name: d.name,
            type: d.type,
            connection_config: ctx.secrets.sealConfig(d.connection_config),
            enabled: d.enabled,
            tags: d.tags,
            status: 'unknown',
          });
        }
        for (const s of storageRows) {
          const config = s.config as Record<string, unknown>;
          await m
            .getRepository(StorageLocations)
            .save({ id: s.id, name: s.name, type: s.type, config: ctx.secrets.sealConfig(config), is_default: s.is_default, status: 'healthy' });
        }
        for (const { storage_location_ids, ...j } of jobRows) {
          const job = m.getRepository(BackupJobs).create({ ...j, storage_location_id: storage_location_ids[0]! });
          job.next_execution_at = nextExecution(job, ctx.clock.now(), paused);
          await m.getRepository(BackupJobs).save(job);
          await m
            .getRepository(BackupJobStorages)
            .insert(storage_location_ids.map((storage_location_id, position) => ({ job_id: j.id, storage_location_id, position })));
        }
        for (const key of settingKeys) {
          const parsed = SETTINGS[key].schema.safeParse(kit.settings[key]);
          if (!parsed.success) continue;
          await writeSetting(m, key, key === SMTP_KEY ? ctx.secrets.sealConfig(parsed.data as Record<string, unknown>) : parsed.data);
        }
        for (const k of kit.encryption_keys) {
          const key: EncryptionKeyRow = {
            recipient: k.recipient,
            role: k.role,
            label: k.label,
            sealed_identity: k.role === 'app' && k.identity ? ctx.secrets.encrypt(k.identity) : null,
            active: k.active,
            created_at: new Date(k.created_at),
            retired_at: k.retired_at ? new Date(k.retired_at) : null,
          };
          await m.getRepository(EncryptionKeys).insert(key);
        }
      });
      log.info(`configuration imported (${kit.datasources.length} datasources, ${kit.storages.length} storages, ${kit.jobs.length} jobs)`);
      for (const entity of ['datasource', 'storage', 'job', 'settings'] as const) ctx.events.emit('entity.changed', { entity, id: null, action: 'created' });
      return {
        datasources: kit.datasources.length,
        storages: kit.storages.length,
        jobs: kit.jobs.length,
        settings: settingKeys.length,
        encryption: kit.encryption_keys.length > 0,
      };
    },
  };
}
