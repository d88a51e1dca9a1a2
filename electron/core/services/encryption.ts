import type { Readable } from 'node:stream';
import { AppError } from '../../../shared/errors.js';
import type { EncryptionState } from '../../../shared/schemas/encryption.js';
import { deleteAppIdentities, encryptionState, givenIdentities, setExtraRecipients, setUpKeys } from '../catalog/keys.js';
import { locateCopies } from '../catalog/locate.js';
import { openSavedStorage } from '../catalog/storages.js';
import { BackupExecutions } from '../db/entities.js';
import { metadataOf } from '../db/metadata.js';
import { checkRecipient, opensWith } from '../kernel/age.js';
import { scoped } from '../kernel/log.js';
import type { ServiceContext } from './context.js';
import type { Handlers } from './handlers.js';

const log = scoped('encryption');

/** An age header is a few hundred bytes; this reads enough of a first part for any we write. */
const HEAD_BYTES = 64 * 1024;
/** "Check a recovery key" reads the header of the newest encrypted backup of each job, up to this many. */
const CHECKED_BACKUPS = 20;

async function readHead(stream: Readable, max: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      parts.push(chunk);
      size += chunk.length;
      if (size >= max) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(parts).subarray(0, max);
}

export function encryptionService(ctx: ServiceContext): Handlers['encryption'] {
  async function state(): Promise<EncryptionState> {
    const [keys, [jobs]] = await Promise.all([
      encryptionState(ctx),
      ctx.db.query(
        `SELECT count(*) FILTER (WHERE backup_options->>'encryption' = 'age')::int AS encrypted,
                count(*) FILTER (WHERE backup_options->>'encryption' IS DISTINCT FROM 'age')::int AS unencrypted FROM backup_jobs`,
      ) as Promise<{ encrypted: number; unencrypted: number }[]>,
    ]);
    return { ...keys, jobs_encrypted: jobs?.encrypted ?? 0, jobs_unencrypted: jobs?.unencrypted ?? 0 };
  }

  const changed = () => ctx.events.emit('entity.changed', { entity: 'settings', id: null, action: 'updated' });

  return {
    get: state,

    async setup({ replace }) {
      const { recovery, app, createdAt } = await setUpKeys(ctx, replace);
      log.info(`encryption ${replace ? 'set up again' : 'set up'}: app key ${app.recipient}, recovery key ${recovery.recipient}`);
      changed();
      return {
        recovery_identity: recovery.identity,
        recovery_recipient: recovery.recipient,
        app_recipient: app.recipient,
        created_at: createdAt.toISOString(),
      };
    },

    async recipients({ recipients }) {
      if (!(await state()).set_up) throw new AppError('validation_error', 'Set up encryption first: extra public keys come on top of the recovery key');
      const checked = [];
      for (const r of recipients) checked.push({ recipient: await checkRecipient(r.recipient), label: r.label ?? null });
      if (new Set(checked.map((r) => r.recipient)).size !== checked.length) throw new AppError('validation_error', 'The same public key is listed twice');
      await setExtraRecipients(ctx, checked);
      changed();
      return state();
    },

    async checkRecovery({ identity }) {
      const [key] = await givenIdentities(identity);
      if (!key) throw new AppError('validation_error', 'Paste the recovery key (a line starting with AGE-SECRET-KEY-1)');
      const current = await state();
      // The newest encrypted backup of each job, read from a storage: the key is proven on what is stored.
      const rows = (await ctx.db.query(
        `SELECT DISTINCT ON (COALESCE(job_id::text, backup_group)) id FROM backup_executions
         WHERE backup_group IS NOT NULL AND metadata ? 'encryption'
         ORDER BY COALESCE(job_id::text, backup_group), created_at DESC LIMIT ${CHECKED_BACKUPS}`,
      )) as { id: string }[];
      const executions = rows.length ? await ctx.db.getRepository(BackupExecutions).findByIds(rows.map((r) => r.id)) : [];
      const where = await locateCopies(
        ctx,
        executions.map((e) => e.id),
      );
      const backups = [];
      for (const execution of executions.sort((a, b) => b.created_at.getTime() - a.created_at.getTime())) {
        const metadata = metadataOf(execution);
        const base = { execution_id: execution.id, job_name: metadata.job_name ?? null, created_at: execution.created_at.toISOString() };
        let outcome = { opens: false, message: 'No copy of it could be read' };
        for (const copy of where.get(execution.id) ?? []) {
          const storage = openSavedStorage(ctx, copy.storage);
          try {
            const head = await readHead(await storage.get(copy.chunks[0]!.file_path), HEAD_BYTES);
            const opens = await opensWith(head, [key.identity]);
            outcome = { opens, message: opens ? `Opens it (read from ${copy.storage.name})` : 'Does not open it: it was encrypted to other keys' };
            break;
          } catch (e) {
            outcome = { opens: false, message: `${copy.storage.name}: ${(e as Error).message}` };
          } finally {
            await storage.close().catch(() => undefined);
          }
        }
        backups.push({ ...base, ...outcome });
      }
      return { recipient: key.recipient, is_recovery_key: key.recipient === current.recovery_recipient, backups };
    },

    async writeOnly() {
      const deleted = await deleteAppIdentities(ctx);
      log.warn(`write-only mode: ${deleted} app key(s) deleted; only a recovery key opens the backups from now on`);
      changed();
      return state();
    },
  };
}
