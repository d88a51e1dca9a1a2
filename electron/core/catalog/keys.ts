import type { EntityManager } from 'typeorm';
import { AppError } from '../../../shared/errors.js';
import type { BackupEncryption, EncryptionState } from '../../../shared/schemas/encryption.js';
import { EncryptionKeys, type EncryptionKeyRow } from '../db/entities.js';
import { fingerprint, newKeyPair, parseIdentities, type KeyPair } from '../kernel/age.js';
import type { CoreContext } from '../kernel/context.js';
import { scoped } from '../kernel/log.js';

const log = scoped('keys');

type Ctx = Pick<CoreContext, 'db' | 'secrets' | 'clock'>;

const order = { app: 0, recovery: 1, extra: 2 } as const;

async function allKeys(ctx: Pick<CoreContext, 'db'>): Promise<EncryptionKeyRow[]> {
  const rows = await ctx.db.getRepository(EncryptionKeys).find({ order: { created_at: 'ASC' } });
  return rows.sort((a, b) => Number(b.active) - Number(a.active) || order[a.role] - order[b.role]);
}

/** The public keys a new backup is encrypted to: the app's (while it holds its identity), the recovery key, the extra ones. */
export function backupRecipientsOf(rows: EncryptionKeyRow[]): string[] {
  return rows.filter((r) => r.active && (r.role !== 'app' || r.sealed_identity !== null)).map((r) => r.recipient);
}

export async function encryptionState(ctx: Pick<CoreContext, 'db'>): Promise<Omit<EncryptionState, 'jobs_encrypted' | 'jobs_unencrypted'>> {
  const rows = await allKeys(ctx);
  const app = rows.find((r) => r.active && r.role === 'app');
  const recovery = rows.find((r) => r.active && r.role === 'recovery');
  return {
    set_up: Boolean(recovery),
    write_only: Boolean(recovery) && !rows.some((r) => r.role === 'app' && r.sealed_identity !== null),
    app_recipient: app?.sealed_identity ? app.recipient : null,
    recovery_recipient: recovery?.recipient ?? null,
    backup_recipients: backupRecipientsOf(rows),
    recipients: rows.filter((r) => r.active && r.role === 'extra').map((r) => ({ recipient: r.recipient, label: r.label })),
    keys: rows.map((r) => ({
      recipient: r.recipient,
      role: r.role,
      label: r.label,
      active: r.active,
      opens_backups: r.sealed_identity !== null,
      created_at: r.created_at.toISOString(),
      retired_at: r.retired_at?.toISOString() ?? null,
    })),
  };
}

/** What a job set to `age` encrypts to; refused (the backup fails, saying what to do) while encryption is not set up. */
export async function backupEncryptionFor(ctx: Pick<CoreContext, 'db'>): Promise<BackupEncryption> {
  const recipients = backupRecipientsOf(await allKeys(ctx));
  if (!recipients.length) {
    throw new AppError(
      'validation_error',
      'This job encrypts its backups, but encryption is not set up: open Settings → Encryption and set it up, or set the job to no encryption',
    );
  }
  return { format: 'age', recipients };
}

export async function encryptionIsSetUp(ctx: Pick<CoreContext, 'db'>): Promise<boolean> {
  return ctx.db.getRepository(EncryptionKeys).existsBy({ role: 'recovery', active: true });
}

/**
 * Every identity this app holds (its current key and the ones it replaced), unsealed, for one run. One sealed with
 * another secret.key (the file was lost or SECRET_KEY changed) is left out: a pasted recovery key still opens the backups.
 */
export async function appIdentities(ctx: Pick<CoreContext, 'db' | 'secrets'>): Promise<KeyPair[]> {
  const rows = await ctx.db.getRepository(EncryptionKeys).findBy({ role: 'app' });
  const out: KeyPair[] = [];
  for (const r of rows.filter((row) => row.sealed_identity)) {
    try {
      out.push({ recipient: r.recipient, identity: ctx.secrets.decrypt(r.sealed_identity!) });
    } catch (e) {
      log.warn(`this app's key ${fingerprint(r.recipient)} cannot be unsealed (${(e as Error).message}); only the recovery key opens its backups`);
    }
  }
  return out;
}

/**
 * New keys: the app's (its identity sealed like a password) and a recovery key whose identity is
 * answered once and kept nowhere. A second setup retires the current keys; the old app key stays to
 * open the backups made with it.
 */
export async function setUpKeys(ctx: Ctx, replace: boolean): Promise<{ recovery: KeyPair; app: KeyPair; createdAt: Date }> {
  const [app, recovery] = await Promise.all([newKeyPair(), newKeyPair()]);
  const now = ctx.clock.now();
  await ctx.db.transaction(async (m) => {
    const repo = m.getRepository(EncryptionKeys);
    // Two clicks on "Set up" at once must not make two recovery keys.
    await m.query('LOCK TABLE encryption_keys IN EXCLUSIVE MODE');
    if (await repo.existsBy({ role: 'recovery', active: true })) {
      if (!replace)
        throw new AppError('conflict', 'Encryption is already set up. To make new keys, set it up again (the old app key still opens older backups)');
      await repo.update({ active: true, role: 'app' }, { active: false, retired_at: now });
      await repo.update({ active: true, role: 'recovery' }, { active: false, retired_at: now });
    }
    await repo.insert([
      { recipient: app.recipient, role: 'app', label: "This app's key", sealed_identity: ctx.secrets.encrypt(app.identity), active: true, created_at: now },
      { recipient: recovery.recipient, role: 'recovery', label: 'Recovery key', sealed_identity: null, active: true, created_at: now },
    ]);
  });
  return { recovery, app, createdAt: now };
}

/** The extra public keys, replaced as a list: a key left out is retired (older backups still name it). */
export async function setExtraRecipients(ctx: Ctx, list: { recipient: string; label?: string | null }[]): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction(async (m: EntityManager) => {
    const repo = m.getRepository(EncryptionKeys);
    const existing = await repo.find();
    for (const { recipient, label } of list) {
      const row = existing.find((r) => r.recipient === recipient);
      if (row && row.role !== 'extra') throw new AppError('conflict', `${fingerprint(recipient)} is already this app's ${row.role} key`);
      if (row) await repo.update({ recipient }, { active: true, retired_at: null, label: label ?? null });
      else await repo.insert({ recipient, role: 'extra', label: label ?? null, sealed_identity: null, active: true, created_at: now });
    }
    for (const row of existing)
      if (row.role === 'extra' && row.active && !list.some((l) => l.recipient === row.recipient))
        await repo.update({ recipient: row.recipient }, { active: false, retired_at: now });
  });
}

/** Write-only: every app identity deleted. Backups go on to the public keys; only a recovery key opens them from now on. */
export async function deleteAppIdentities(ctx: Pick<CoreContext, 'db'>): Promise<number> {
  if (!(await encryptionIsSetUp(ctx))) throw new AppError('validation_error', 'Encryption is not set up: there is no app key to delete');
  const result = await ctx.db.getRepository(EncryptionKeys).update({ role: 'app' }, { sealed_identity: null });
  return result.affected ?? 0;
}

/**
 * The identities one run may use: the app's own, plus those pasted for this run. Refused before anything
 * is read when none of them is one the backup was encrypted to, naming both sides' public keys.
 */
export async function identitiesFor(ctx: Pick<CoreContext, 'db' | 'secrets'>, encryption: BackupEncryption, given: KeyPair[]): Promise<KeyPair[]> {
  const own = await appIdentities(ctx);
  const usable = [...given, ...own].filter((k) => encryption.recipients.includes(k.recipient));
  if (usable.length > 0) return usable;
  throw keyRequired(encryption, given, own);
}

/** "encrypted to age1abc…, age1def…; this app's key is age1xyz…": what opens it, and what was tried. */
export function keyRequired(encryption: BackupEncryption, given: KeyPair[], own: KeyPair[]): AppError {
  const to = `This backup is encrypted to ${encryption.recipients.map(fingerprint).join(', ')}`;
  const tried = [
    given.length ? `the key given is ${given.map((k) => fingerprint(k.recipient)).join(', ')}` : null,
    own.length ? `this app's key is ${own.map((k) => fingerprint(k.recipient)).join(', ')}` : 'this app holds no key (write-only)',
  ].filter(Boolean);
  const ask = given.length ? 'Use the recovery key it was made with' : 'Paste the recovery key to open it';
  return new AppError('key_required', `${to}; ${tried.join('; ')}. ${ask}.`, undefined, { recipients: encryption.recipients });
}

/** The pasted key of one call, checked; none when nothing was pasted. */
export async function givenIdentities(text: string | undefined | null): Promise<KeyPair[]> {
  return text?.trim() ? parseIdentities(text) : [];
}
