// Copies one object to another key inside a bucket, for a rename (S3 has no rename).
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { scoped } from '../../kernel/log.js';
import { MAX_PARTS, uploadStream } from './upload.js';

const log = scoped('storage');
const MiB = 1024 * 1024;
/** The largest object a single CopyObject may copy. */
export const COPY_OBJECT_LIMIT = 5 * 1024 * MiB;
/** Server-side copies move no bytes through here, so parts can be large: few requests. */
const COPY_PART_BYTES = 512 * MiB;
const COPIES_IN_FLIGHT = 4;

export interface CopyRequest {
  Bucket: string;
  /** Object keys, prefix included. */
  from: string;
  to: string;
  /** Size of `from`, in bytes. */
  size: number;
  StorageClass?: StorageClass;
}

export interface CopyTuning {
  /** Above this size, a multipart copy; tests lower it. */
  singleCopyLimit?: number;
  partBytes?: number;
}

/** x-amz-copy-source: bucket and key, each name URL-encoded but the '/' between them kept. */
const copySource = (bucket: string, key: string) => [bucket, ...key.split('/')].map(encodeURIComponent).join('/');

const notImplemented = (e: unknown) =>
  (e as Error | undefined)?.name === 'NotImplemented' || (e as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode === 501;

/**
 * Copies `from` to `to`; the caller made sure `to` is free. Without a StorageClass the copy would
 * fall back to STANDARD, so the storage's class is given again.
 */
export async function copyObject(client: S3Client, r: CopyRequest, tuning: CopyTuning = {}): Promise<void> {
  const storageClass = r.StorageClass ? { StorageClass: r.StorageClass } : {};
  if (r.size <= (tuning.singleCopyLimit ?? COPY_OBJECT_LIMIT)) {
    await client.send(new CopyObjectCommand({ Bucket: r.Bucket, Key: r.to, CopySource: copySource(r.Bucket, r.from), ...storageClass }));
    return;
  }
  try {
    await copyInParts(client, r, tuning.partBytes ?? COPY_PART_BYTES);
  } catch (error) {
    // Some S3-compatible servers lack UploadPartCopy: the bytes then go through this machine.
    if (!notImplemented(error)) throw error;
    log.info(`The server cannot copy ${r.from} in parts; copying it through this machine instead`);
    const answer = await client.send(new GetObjectCommand({ Bucket: r.Bucket, Key: r.from }));
    if (!(answer.Body instanceof Readable)) throw new Error('the answer carried no readable body');
    await uploadStream(client, { Bucket: r.Bucket, Key: r.to, ...storageClass }, answer.Body, { sizeHint: r.size });
  }
}

/** UploadPartCopy, a few ranges at once; on failure the multipart upload is aborted before this returns. */
async function copyInParts(client: S3Client, r: CopyRequest, minPartBytes: number): Promise<void> {
  const partBytes = Math.max(minPartBytes, Math.ceil(r.size / MAX_PARTS / MiB) * MiB);
  const created = await client.send(
    new CreateMultipartUploadCommand({ Bucket: r.Bucket, Key: r.to, ...(r.StorageClass ? { StorageClass: r.StorageClass } : {}) }),
  );
  const UploadId = created.UploadId;
  if (!UploadId) throw new Error('the server started a multipart upload without an upload id');
  const controller = new AbortController();
  const count = Math.ceil(r.size / partBytes);
  const parts: CompletedPart[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count && !controller.signal.aborted) {
      const index = next++;
      const start = index * partBytes;
      const end = Math.min(r.size, start + partBytes) - 1;
      const answer = await client.send(
        new UploadPartCopyCommand({
          Bucket: r.Bucket,
          Key: r.to,
          UploadId,
          PartNumber: index + 1,
          CopySource: copySource(r.Bucket, r.from),
          CopySourceRange: `bytes=${start}-${end}`,
        }),
        { abortSignal: controller.signal },
      );
      parts.push({ PartNumber: index + 1, ETag: answer.CopyPartResult?.ETag });
    }
  };
  try {
    let failure: { error: unknown } | undefined;
    // The first failure stops the other workers; all of them end before the upload is aborted.
    await Promise.all(
      Array.from({ length: Math.min(COPIES_IN_FLIGHT, count) }, () =>
        worker().catch((error: unknown) => {
          failure ??= { error };
          controller.abort(error);
        }),
      ),
    );
    if (failure) throw failure.error;
    parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
    await client.send(new CompleteMultipartUploadCommand({ Bucket: r.Bucket, Key: r.to, UploadId, MultipartUpload: { Parts: parts } }));
  } catch (error) {
    await client
      .send(new AbortMultipartUploadCommand({ Bucket: r.Bucket, Key: r.to, UploadId }))
      .catch((abortFailure: unknown) =>
        log.warn(`Could not abort the multipart copy to ${r.to}; a bucket lifecycle rule should clean it up: ${(abortFailure as Error).message}`),
      );
    throw error;
  }
}
