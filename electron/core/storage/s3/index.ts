// A bucket on an S3-compatible service: AWS S3 (and Wasabi & co), MinIO, Backblaze B2.
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { addAbortSignal, Readable } from 'node:stream';
import { AppError } from '../../../../shared/errors.js';
import type { StorageConfig } from '../../../../shared/schemas/storage.js';
import { abortError, checkKey, checkPrefix, conflict, isAbortError, missing } from '../keys.js';
import { probe } from '../probe.js';
import { copyObject } from './copy.js';
import { uploadStream } from './upload.js';
import type { GetOptions, PutOptions, Storage, StoredObject } from '../types.js';

export type S3Type = 's3' | 'minio' | 'backblaze';

/** Everything the three configs boil down to. */
export interface S3Settings {
  bucket: string;
  /** Folder inside the bucket, without slashes at either end; '' for the bucket's root. */
  prefix: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
  storageClass?: string;
  /**
   * Send checksums only where an operation requires them. Backblaze B2, MinIO and most other
   * S3-compatible servers reject or mishandle the SDK's newer default checksum headers.
   */
  checksumsWhenRequired: boolean;
}

const B2_HOST = /^s3\.([a-z0-9-]+)\.backblazeb2\.com$/i;

export function s3Settings<T extends S3Type>(type: T, config: StorageConfig<T>): S3Settings {
  const c = config as StorageConfig<S3Type>;
  const prefix = c.prefix.trim().replace(/^\/+|\/+$/g, '');
  if (prefix) checkKey(prefix);
  if (type === 's3') {
    const s = c as StorageConfig<'s3'>;
    return {
      bucket: s.bucket,
      prefix,
      region: s.region,
      ...(s.endpoint ? { endpoint: s.endpoint } : {}),
      forcePathStyle: s.force_path_style,
      accessKeyId: s.access_key_id,
      secretAccessKey: s.secret_access_key ?? '',
      ...(s.storage_class ? { storageClass: s.storage_class } : {}),
      checksumsWhenRequired: Boolean(s.endpoint),
    };
  }
  if (type === 'minio') {
    const m = c as StorageConfig<'minio'>;
    const endpoint = /^https?:\/\//i.test(m.endpoint) ? m.endpoint : `${m.use_ssl ? 'https' : 'http'}://${m.endpoint}`;
    return {
      bucket: m.bucket,
      prefix,
      region: m.region,
      endpoint: endpoint.replace(/\/+$/, ''),
      forcePathStyle: true,
      accessKeyId: m.access_key,
      secretAccessKey: m.secret_key ?? '',
      checksumsWhenRequired: true,
    };
  }
  const b = c as StorageConfig<'backblaze'>;
  // B2's S3 endpoint is found by its native API (b2_authorize_account); without network access
  // to it here, the region in the endpoint's name is enough.
  const endpoint = b.endpoint ?? (b.region ? `https://s3.${b.region}.backblazeb2.com` : undefined);
  if (!endpoint) {
    throw new AppError(
      'validation_error',
      "Backblaze needs the bucket's S3 endpoint (shown on the bucket's page, e.g. https://s3.us-west-004.backblazeb2.com) or its region (us-west-004).",
      [{ path: 'config.endpoint', message: 'Endpoint or region is required' }],
    );
  }
  const region = b.region ?? B2_HOST.exec(new URL(endpoint).hostname)?.[1] ?? 'us-east-1';
  return {
    bucket: b.bucket_name,
    prefix,
    region,
    endpoint,
    forcePathStyle: true,
    accessKeyId: b.application_key_id,
    secretAccessKey: b.application_key ?? '',
    checksumsWhenRequired: true,
  };
}

const CREDENTIAL_ERRORS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'InvalidSecurity',
  'InvalidClientTokenId',
  'Unauthorized',
]);
const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused: is the server running, and is the endpoint right?',
  ENOTFOUND: 'host not found: check the endpoint.',
  EAI_AGAIN: 'host not found: check the endpoint and the DNS.',
  ETIMEDOUT: 'no answer (timeout): check the endpoint and any firewall.',
  EHOSTUNREACH: 'host unreachable: check the endpoint and the network.',
  ENETUNREACH: 'network unreachable: check the network.',
  ECONNRESET: 'the connection was closed by the server.',
  EPROTO: 'the TLS handshake failed: check http:// versus https:// (use SSL).',
};

interface SdkError extends Error {
  code?: string;
  errors?: { code?: string }[];
  cause?: { code?: string };
  $metadata?: { httpStatusCode?: number };
}

export class S3Storage implements Storage {
  private readonly client: S3Client;
  private readonly where: string;
  private readonly root: string;

  constructor(
    readonly type: S3Type,
    private readonly settings: S3Settings,
  ) {
    const config: S3ClientConfig = {
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
      maxAttempts: 3,
      // A dead endpoint fails a test in seconds, and a stalled transfer does not hang a backup forever.
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      ...(settings.checksumsWhenRequired ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
    };
    this.client = new S3Client(config);
    this.where = settings.endpoint ?? `AWS S3 (${settings.region})`;
    this.root = settings.prefix ? `${settings.prefix}/` : '';
  }

  private objectKey(key: string): string {
    return this.root + checkKey(key);
  }

  /**
   * S3 has no create-if-absent we can rely on across providers, so "never overwrite" is a check
   * before the upload: two writers racing for one key could both pass it. Keys carry the backup's
   * timestamp, so that race does not happen in practice. A one-key listing rather than HeadObject:
   * HEAD errors have no body, so a missing bucket or a bad key would all read as "404/403".
   */
  async put(key: string, body: Readable, options: PutOptions = {}): Promise<{ size: number }> {
    const Key = this.objectKey(key);
    let uploaded = false;
    try {
      const found = await this.client.send(new ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix: Key, MaxKeys: 1 }), this.request(options.signal));
      if (found.Contents?.[0]?.Key === Key) throw conflict(key);
      const size = await uploadStream(
        this.client,
        { Bucket: this.settings.bucket, Key, ...(this.settings.storageClass ? { StorageClass: this.settings.storageClass as StorageClass } : {}) },
        body,
        options,
      );
      uploaded = true;
      if (options.signal?.aborted) throw abortError(options.signal);
      // Some servers store what they did not understand as data (aws-chunked framing): the size tells.
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key }));
      if (head.ContentLength !== size) {
        throw new AppError(
          'connection_failed',
          `${this.where} stored ${head.ContentLength ?? 0} of the ${size} bytes sent for '${key}': the object was removed.`,
        );
      }
      return { size };
    } catch (error) {
      body.destroy();
      if (uploaded) await this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key })).catch(() => undefined);
      throw this.explain(error);
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const Key = this.objectKey(key);
    try {
      const answer = await this.client.send(
        new GetObjectCommand({ Bucket: this.settings.bucket, Key, Range: options.range ? `bytes=${options.range.start}-${options.range.end - 1}` : undefined }),
        this.request(options.signal),
      );
      if (!(answer.Body instanceof Readable)) throw new Error('the answer carried no readable body');
      return options.signal ? addAbortSignal(options.signal, answer.Body) : answer.Body;
    } catch (error) {
      if ((error as Error).name === 'NoSuchKey') throw missing(key);
      throw this.explain(error);
    }
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: this.objectKey(key) }));
      return { key, size: head.ContentLength ?? 0, modified: (head.LastModified ?? new Date(0)).toISOString() };
    } catch (error) {
      if ((error as SdkError).name === 'NotFound' || (error as SdkError).$metadata?.httpStatusCode === 404) return null;
      throw this.explain(error);
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    checkPrefix(prefix);
    const found: StoredObject[] = [];
    let ContinuationToken: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix: this.root + prefix, ...(ContinuationToken ? { ContinuationToken } : {}) }),
        );
        for (const o of page.Contents ?? []) {
          if (!o.Key?.startsWith(this.root) || o.Key.endsWith('/')) continue;
          found.push({ key: o.Key.slice(this.root.length), size: o.Size ?? 0, modified: (o.LastModified ?? new Date(0)).toISOString() });
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
    } catch (error) {
      throw this.explain(error);
    }
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /**
   * A copy, then the source's delete. "Never overwrite" is a check before the copy, as in put. When
   * the source cannot be deleted, the copy is deleted again, so a failed rename leaves one key.
   */
  async rename(from: string, to: string): Promise<void> {
    const source = this.objectKey(from);
    const target = this.objectKey(to);
    const Bucket = this.settings.bucket;
    let copied = false;
    try {
      const found = await this.stat(from);
      if (!found) throw missing(from);
      if (await this.stat(to)) throw conflict(to);
      await copyObject(this.client, {
        Bucket,
        from: source,
        to: target,
        size: found.size,
        ...(this.settings.storageClass ? { StorageClass: this.settings.storageClass as StorageClass } : {}),
      }).catch((error: unknown) => {
        throw (error as Error).name === 'NoSuchKey' ? missing(from) : error;
      });
      copied = true;
      const head = await this.client.send(new HeadObjectCommand({ Bucket, Key: target }));
      if (head.ContentLength !== found.size) {
        throw new AppError(
          'connection_failed',
          `${this.where} copied ${head.ContentLength ?? 0} of the ${found.size} bytes of '${from}' to '${to}': the copy was removed.`,
        );
      }
      await this.client.send(new DeleteObjectCommand({ Bucket, Key: source }));
    } catch (error) {
      // Only while the source is seen to be there: a delete whose answer was lost may have removed it.
      if (copied && (await this.stat(from).catch(() => null))) {
        await this.client.send(new DeleteObjectCommand({ Bucket, Key: target })).catch(() => undefined);
      }
      throw this.explain(error);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: this.objectKey(key) }));
    } catch (error) {
      if ((error as Error).name === 'NoSuchKey') return;
      throw this.explain(error);
    }
  }

  /**
   * S3 has no append: the log is read, extended and put back whole. A PUT replaces an object
   * atomically, so a reader sees the old log or the new one, never half of one.
   */
  async append(key: string, text: string): Promise<void> {
    const Key = this.objectKey(key);
    let before = '';
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key }));
      before = (await answer.Body?.transformToString('utf8')) ?? '';
    } catch (error) {
      if ((error as Error).name !== 'NoSuchKey') throw this.explain(error);
    }
    const Body = Buffer.from(before + text, 'utf8');
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.settings.bucket, Key, Body, ContentLength: Body.length, ContentType: 'text/plain' }));
    } catch (error) {
      throw this.explain(error);
    }
  }

  async abortUnfinishedUploads(prefix: string): Promise<number> {
    checkPrefix(prefix);
    const Bucket = this.settings.bucket;
    let aborted = 0;
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListMultipartUploadsCommand({ Bucket, Prefix: this.root + prefix, ...(KeyMarker ? { KeyMarker, UploadIdMarker } : {}) }),
        );
        for (const upload of page.Uploads ?? []) {
          if (!upload.Key || !upload.UploadId) continue;
          await this.client.send(new AbortMultipartUploadCommand({ Bucket, Key: upload.Key, UploadId: upload.UploadId }));
          aborted += 1;
        }
        KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
        UploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
      } while (KeyMarker);
    } catch (error) {
      throw this.explain(error);
    }
    return aborted;
  }

  /** Buckets have no size limit to report. */
  async freeSpaceBytes(): Promise<number | null> {
    return null;
  }

  test() {
    return probe(this);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private request(signal: AbortSignal | undefined) {
    return signal ? { abortSignal: signal } : {};
  }

  private explain(error: unknown): unknown {
    if (error instanceof AppError || isAbortError(error)) return error;
    const e = error as SdkError;
    const bucket = `'${this.settings.bucket}'`;
    if (e.name === 'NoSuchBucket') {
      return new AppError('connection_failed', `Bucket ${bucket} does not exist on ${this.where}: create it, or correct the bucket name.`);
    }
    if (CREDENTIAL_ERRORS.has(e.name)) {
      return new AppError('connection_failed', `The access key or secret was refused by ${this.where}: check both in the storage settings.`);
    }
    if (e.name === 'AccessDenied' || e.name === 'AllAccessDisabled') {
      return new AppError(
        'connection_failed',
        `Access denied to bucket ${bucket} on ${this.where}: the key needs permission to list, read, write and delete objects${this.root ? ` under ${this.root}` : ''}.`,
      );
    }
    if (e.name === 'AuthorizationHeaderMalformed' || e.name === 'PermanentRedirect' || e.$metadata?.httpStatusCode === 301) {
      return new AppError('connection_failed', `Bucket ${bucket} is in another region than '${this.settings.region}': set the bucket's region.`);
    }
    if (e.$metadata?.httpStatusCode === 403) {
      // A HEAD answer has no body to say which.
      return new AppError(
        'connection_failed',
        `${this.where} refused the request (403): the access key or secret was refused, or the key may not read bucket ${bucket}.`,
      );
    }
    const code = e.code ?? e.errors?.find((x) => x.code)?.code ?? e.cause?.code;
    const network = code ? NETWORK_ERRORS[code] : e.name === 'TimeoutError' ? NETWORK_ERRORS.ETIMEDOUT : undefined;
    if (network) return new AppError('connection_failed', `Cannot reach ${this.where}: ${network}`);
    return new AppError('connection_failed', `${this.where} failed (${e.name}): ${e.message}`);
  }
}
