import { z } from 'zod';
import { isoDate, uuid } from './common.js';

/** An age X25519 public key: `age1` and 58 bech32 characters. */
export const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;
export const ageRecipient = z.string().trim().regex(AGE_RECIPIENT, { message: 'An age public key starts with age1 and has 62 characters' });

/** How a job's backups are stored: age-encrypted (`.age`) or in the clear. */
export const ENCRYPTION_MODES = ['age', 'none'] as const;
export const encryptionMode = z.enum(ENCRYPTION_MODES, { message: 'Encryption is age or none' });

/**
 * How a backup was encrypted, in its manifest and its catalog row: public keys only, nothing secret.
 * Read from storages anyone may write to, so it is bounded.
 */
export const backupEncryption = z.object({
  format: z.literal('age'),
  recipients: z.array(z.string().regex(AGE_RECIPIENT)).min(1).max(64),
});
export type BackupEncryption = z.output<typeof backupEncryption>;

/**
 * A key pasted for one call (a restore, a restore test, a download, a check): the recovery key file's
 * text or its AGE-SECRET-KEY-1… line. Used for that call only: never stored, logged or written to a file.
 */
export const identityInput = z.string().max(8192, { message: 'A key file is a few lines' });

export const KEY_ROLES = ['app', 'recovery', 'extra'] as const;

export const encryptionKey = z.object({
  recipient: z.string(),
  role: z.enum(KEY_ROLES),
  label: z.string().nullable(),
  /** New backups are encrypted to it. */
  active: z.boolean(),
  /** Only an app key can: true while this app holds its identity. */
  opens_backups: z.boolean(),
  created_at: isoDate,
  retired_at: isoDate.nullable(),
});

/** `GET /api/encryption`: public keys and what the app can do with them; never an identity. */
export const encryptionState = z.object({
  set_up: z.boolean(),
  /** The app's identity was deleted: backups still run, on public keys, but only a recovery key opens them. */
  write_only: z.boolean(),
  app_recipient: z.string().nullable(),
  recovery_recipient: z.string().nullable(),
  /** Every public key a new backup is encrypted to, in order. */
  backup_recipients: z.array(z.string()),
  /** The extra public keys the user added. */
  recipients: z.array(z.object({ recipient: z.string(), label: z.string().nullable() })),
  /** Every key ever used, retired ones included. */
  keys: z.array(encryptionKey),
  /** How many jobs encrypt their backups, and how many do not. */
  jobs_encrypted: z.number().int(),
  jobs_unencrypted: z.number().int(),
});
export type EncryptionState = z.output<typeof encryptionState>;

export const setupInput = z.object({
  /** Set up again: new app and recovery keys for new backups; the old app key still opens the old ones. */
  replace: z.boolean().default(false),
});

/** The one answer that carries the recovery identity: shown once, never stored. */
export const setupResult = z.object({
  recovery_identity: z.string(),
  recovery_recipient: z.string(),
  app_recipient: z.string(),
  created_at: isoDate,
});

export const recipientsInput = z.object({
  recipients: z.array(z.object({ recipient: ageRecipient, label: z.string().trim().max(255).nullish() })).max(16, { message: 'At most 16 extra public keys' }),
});

export const checkRecoveryInput = z.object({ identity: identityInput });
export const checkRecoveryResult = z.object({
  recipient: z.string(),
  /** It is the recovery key new backups are encrypted to. */
  is_recovery_key: z.boolean(),
  /** The newest encrypted backup of each job, read from storage: does this key open it? */
  backups: z.array(
    z.object({
      execution_id: uuid,
      job_name: z.string().nullable(),
      created_at: isoDate,
      opens: z.boolean(),
      message: z.string(),
    }),
  ),
});

export const writeOnlyInput = z.object({
  confirm: z.literal(true, { message: 'Confirm that this app may no longer open its backups' }),
});

export const configExportInput = z.object({
  /** A second lock: the kit then opens with the recovery key AND this passphrase. */
  passphrase: z.string().min(10, { message: 'A passphrase of at least 10 characters' }).max(1000).optional(),
});
export const configExportResult = z.object({
  file_name: z.string(),
  /** The kit, an ASCII-armored age file (`age -d` reads it as it is). */
  content: z.string(),
  passphrase: z.boolean(),
  datasources: z.number().int(),
  storages: z.number().int(),
  jobs: z.number().int(),
});

export const configImportInput = z.object({
  kit: z.string().min(1).max(900_000),
  identity: identityInput,
  passphrase: z.string().max(1000).optional(),
});
export const configImportResult = z.object({
  datasources: z.number().int(),
  storages: z.number().int(),
  jobs: z.number().int(),
  settings: z.number().int(),
  encryption: z.boolean(),
});

/** A decrypted download (POST, so the key travels in a body, never in an address). */
export const downloadInput = z.object({ id: uuid, identity: identityInput.optional() });
