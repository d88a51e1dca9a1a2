// Streams a body of unknown length into one S3 object with bounded memory.
//
// Not lib-storage's Upload: its done() rejects on abort while requests are still
// running (a single PUT can still land afterwards), it cannot cancel a part in
// flight, and after one part fails the other worker keeps reading and uploading
// the rest of the stream. Here every request shares one AbortSignal, and an
// upload ends only after its multipart upload is aborted.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
  type StorageClass,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { scoped } from '../../kernel/log.js';
import { abortError } from '../keys.js';

const log = scoped('storage');
const MiB = 1024 * 1024;
export const MIN_PART_BYTES = 8 * MiB;
/** S3's own limits. */
export const MAX_PARTS = 10_000;
const MAX_PART_BYTES = 5 * 1024 * MiB;
/** Parts sent at once; memory is about (QUEUE_SIZE + 1) parts. */
const QUEUE_SIZE = 2;

/**
 * Size of part `n` (from 1). Parts may differ in size, so the first 5,000 share a size that fits
 * the hint in 5,000 parts; later parts double every 1,000. A stream with no hint (or a low one)
 * still fits in 10,000 parts up to 67,000 times the first size (over 500 GB at 8 MiB), and memory
 * only grows for streams that outrun their hint.
 */
export function partSizeFor(n: number, sizeHint?: number): number {
  const base = Math.max(MIN_PART_BYTES, Math.ceil((sizeHint ?? 0) / 5_000 / MiB) * MiB);
  const doublings = n <= 5_000 ? 0 : Math.floor((n - 5_001) / 1_000) + 1;
  return Math.min(MAX_PART_BYTES, base * 2 ** doublings);
}

export interface UploadTarget {
  Bucket: string;
  Key: string;
  StorageClass?: StorageClass;
}

export interface UploadOptions {
  sizeHint?: number;
  signal?: AbortSignal;
  onProgress?: (bytes: number) => void;
}

/** Uploads `body` to `target`; returns the bytes sent. On failure or abort no object and no multipart upload remain. */
export async function uploadStream(client: S3Client, target: UploadTarget, body: Readable, o: UploadOptions = {}): Promise<number> {
  const controller = new AbortController();
  const fail = (error: unknown) => {
    controller.abort(error);
    body.destroy(error instanceof Error ? error : new Error(String(error)));
  };
  const onAbort = () => fail(abortError(o.signal!));
  if (o.signal?.aborted) onAbort();
  o.signal?.addEventListener('abort', onAbort, { once: true });

  const request = { abortSignal: controller.signal };
  // With the SDK's default (AWS), parts carry CRC32s that CompleteMultipartUpload must repeat.
  const withChecksums = (await client.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED';
  const inFlight = new Set<Promise<void>>();
  const parts: CompletedPart[] = [];
  let uploadId: string | undefined;
  let bytes = 0;
  try {
    let n = 0;
    for await (const { data, last } of cutParts(
      body,
      (k) => partSizeFor(k, o.sizeHint),
      (b) => {
        bytes += b;
        o.onProgress?.(bytes);
      },
    )) {
      n += 1;
      if (n === 1 && last) {
        await client.send(new PutObjectCommand({ ...target, Body: data, ContentLength: data.length }), request);
        return bytes;
      }
      if (!uploadId) {
        const created = await client.send(new CreateMultipartUploadCommand({ ...target, ...(withChecksums ? { ChecksumAlgorithm: 'CRC32' } : {}) }), request);
        uploadId = created.UploadId;
        if (!uploadId) throw new Error('the server started a multipart upload without an upload id');
      }
      const PartNumber = n;
      const part = client
        .send(
          new UploadPartCommand({ Bucket: target.Bucket, Key: target.Key, UploadId: uploadId, PartNumber, Body: data, ContentLength: data.length }),
          request,
        )
        .then((answer) => {
          parts.push({ PartNumber, ETag: answer.ETag, ...(answer.ChecksumCRC32 ? { ChecksumCRC32: answer.ChecksumCRC32 } : {}) });
        });
      const tracked: Promise<void> = part.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      // Wakes the loop even while it waits for the body.
      tracked.catch(fail);
      while (inFlight.size >= QUEUE_SIZE) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
    await client.send(
      new CompleteMultipartUploadCommand({ Bucket: target.Bucket, Key: target.Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
      request,
    );
    return bytes;
  } catch (error) {
    controller.abort(error);
    body.destroy();
    await Promise.allSettled(inFlight);
    if (uploadId) {
      await client
        .send(new AbortMultipartUploadCommand({ Bucket: target.Bucket, Key: target.Key, UploadId: uploadId }))
        .catch((abortFailure: unknown) =>
          log.warn(`Could not abort the multipart upload of ${target.Key}; a bucket lifecycle rule should clean it up: ${(abortFailure as Error).message}`),
        );
    }
    throw o.signal?.aborted ? abortError(o.signal) : error;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Cuts a stream into parts of `sizeOf(n)` bytes. A full part is held until one more byte arrives,
 * so the last part is known as such and a small body goes up as one plain PUT.
 */
async function* cutParts(body: Readable, sizeOf: (n: number) => number, onBytes: (bytes: number) => void): AsyncGenerator<{ data: Buffer; last: boolean }> {
  let n = 1;
  let want = sizeOf(n);
  let chunks: Buffer[] = [];
  let have = 0;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    onBytes(buffer.length);
    chunks.push(buffer);
    have += buffer.length;
    while (have > want) {
      const all = Buffer.concat(chunks, have);
      // Copied, so the part sent and the bytes kept do not pin each other's memory.
      const rest = Buffer.from(all.subarray(want));
      yield { data: all.subarray(0, want), last: false };
      chunks = [rest];
      have = rest.length;
      n += 1;
      want = sizeOf(n);
    }
  }
  yield { data: Buffer.concat(chunks, have), last: true };
}
