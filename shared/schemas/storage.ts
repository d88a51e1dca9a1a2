import { z } from 'zod';
import { isoDate, name, nonEmpty, port, secretInput, uuid } from './common.js';
import { maskedConfig } from './datasource.js';
import { storageStatus, storageType, type StorageType } from './enums.js';

const httpUrl = z.url({ protocol: /^https?$/, message: 'Endpoint must be an http(s) URL' });

/** The seed's storage `config` per type (architecture-original.md), plus what the storages need. */
export const STORAGE_CONFIG = {
  local: z.object({
    path: nonEmpty('Folder').refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), {
      message: 'Folder must be an absolute path',
    }),
    max_size_gb: z.coerce.number().positive().optional(),
  }),
  ssh: z.object({
    host: nonEmpty('Host'),
    port: port(22),
    username: nonEmpty('Username'),
    password: secretInput,
    private_key: secretInput,
    passphrase: secretInput,
    remote_path: nonEmpty('Remote folder'),
    /** SHA-256 of the server's host key, remembered on first use; a changed key is refused. */
    host_key_fingerprint: z.string().optional(),
  }),
  s3: z.object({
    endpoint: httpUrl.optional(),
    bucket: nonEmpty('Bucket'),
    region: nonEmpty('Region').default('us-east-1'),
    access_key_id: nonEmpty('Access key id'),
    secret_access_key: secretInput,
    storage_class: z.string().trim().min(1).optional(),
    force_path_style: z.boolean().default(false),
    prefix: z.string().default(''),
  }),
  minio: z.object({
    endpoint: nonEmpty('Endpoint'),
    bucket: nonEmpty('Bucket'),
    access_key: nonEmpty('Access key'),
    secret_key: secretInput,
    use_ssl: z.boolean().default(false),
    region: z.string().trim().min(1).default('us-east-1'),
    prefix: z.string().default(''),
  }),
  backblaze: z.object({
    bucket_id: z.string().trim().default(''),
    bucket_name: nonEmpty('Bucket name'),
    application_key_id: nonEmpty('Application key id'),
    application_key: secretInput,
    /** B2's S3-compatible endpoint, e.g. https://s3.us-west-004.backblazeb2.com; discovered when empty. */
    endpoint: httpUrl.optional(),
    region: z.string().trim().min(1).optional(),
    prefix: z.string().default(''),
  }),
} satisfies Record<StorageType, z.ZodObject>;

export type StorageConfig<T extends StorageType = StorageType> = z.output<(typeof STORAGE_CONFIG)[T]>;

const storageBase = z.object({
  name,
  is_default: z.boolean().default(false),
  save_anyway: z.boolean().default(false),
});
const variant = <T extends StorageType>(type: T) => storageBase.extend({ type: z.literal(type), config: STORAGE_CONFIG[type] });

/** `POST /api/storage-locations`, as the seed writes it: `{ name, type, config }`. */
export const storageCreate = z.discriminatedUnion('type', [variant('local'), variant('ssh'), variant('s3'), variant('minio'), variant('backblaze')]);

export const storageUpdate = z.object({
  id: uuid,
  name: name.optional(),
  is_default: z.boolean().optional(),
  config: z.record(z.string(), z.unknown()).optional(),
  save_anyway: z.boolean().default(false),
});

export const storageTestInput = z
  .object({
    id: uuid.optional(),
    type: storageType.optional(),
    config: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((v) => v.id || (v.type && v.config), { message: 'Give a storage id, or a type and its config' });

export const storageLocation = z.object({
  id: uuid,
  name: z.string(),
  type: storageType,
  config: maskedConfig,
  is_default: z.boolean(),
  available_space_gb: z.number().nullable(),
  status: storageStatus,
  /** What DataGuardian's backups take there: the stored size and number of its completed copies. */
  used_bytes: z.number(),
  backups_count: z.number().int(),
  created_at: isoDate,
  updated_at: isoDate,
});
export type StorageLocation = z.output<typeof storageLocation>;

export const storageTestResult = z.object({
  ok: z.boolean(),
  latency_ms: z.number().int().nullable(),
  available_space_gb: z.number().nullable(),
  message: z.string(),
  /** SSH: the host key fingerprint seen, for the user to compare. */
  host_key_fingerprint: z.string().optional(),
});
export type StorageTestResult = z.output<typeof storageTestResult>;
