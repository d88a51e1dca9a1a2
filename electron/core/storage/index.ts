import { validationError } from '../../../shared/errors.js';
import type { StorageType } from '../../../shared/schemas/enums.js';
import { STORAGE_CONFIG, type StorageConfig } from '../../../shared/schemas/storage.js';
import { LocalStorage } from './local.js';
import { S3Storage, s3Settings } from './s3/index.js';
import { SftpStorage, type HostKeyOptions } from './sftp/index.js';
import type { Storage } from './types.js';

/**
 * A storage of the given type, ready to use; nothing connects until the first call. Secrets in
 * `config` are already decrypted. An invalid config throws a `validation_error` here.
 */
export function openStorage(type: StorageType, config: StorageConfig, options: HostKeyOptions = {}): Storage {
  const parsed = STORAGE_CONFIG[type].safeParse(config);
  if (!parsed.success) throw validationError(parsed.error);
  switch (type) {
    case 'local':
      return new LocalStorage(parsed.data as StorageConfig<'local'>);
    case 'ssh':
      return new SftpStorage(parsed.data as StorageConfig<'ssh'>, options);
    case 's3':
    case 'minio':
    case 'backblaze':
      return new S3Storage(type, s3Settings(type, parsed.data as StorageConfig<typeof type>));
  }
}
