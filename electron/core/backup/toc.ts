import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Toc, TocReference } from '../../../shared/schemas/toc.js';
import { createAgeEncrypter } from '../kernel/age.js';

/** Storing a backup's table of contents (its shape: shared/schemas/toc.ts). */
const gzip = promisify(zlib.gzip);

/** The stored name: gzip'd JSON, age-encrypted like the backup when it is. */
export const tocFileName = (encrypted: boolean) => `toc.json.gz${encrypted ? '.age' : ''}`;

/** Gzip'd JSON, then encrypted to the backup's recipients: one small file beside the parts. */
export async function packToc(toc: Toc, recipients: string[] | null): Promise<Buffer> {
  const packed = await gzip(Buffer.from(JSON.stringify(toc)), { level: 6 });
  if (!recipients) return packed;
  const encrypter = await createAgeEncrypter(recipients);
  const out: Buffer[] = [];
  encrypter.on('data', (d: Buffer) => out.push(d));
  const ended = new Promise<void>((resolve, reject) => {
    encrypter.once('end', resolve);
    encrypter.once('error', reject);
  });
  encrypter.end(packed);
  await ended;
  return Buffer.concat(out);
}

/** Writes the table of contents beside the parts; answers what the manifest records of it. */
export async function storeToc(toc: Toc, o: { recipients: string[] | null; put: (name: string, body: Readable) => Promise<unknown> }): Promise<TocReference> {
  const body = await packToc(toc, o.recipients);
  const file = tocFileName(Boolean(o.recipients));
  await o.put(file, Readable.from([body]));
  return { file, size_bytes: body.length, checksum: `sha256:${createHash('sha256').update(body).digest('hex')}` };
}

/** Records each compressed frame's start and SHA-256 as the compressor emits it: a frame read alone is checked against it. */
export function frameRecorder() {
  const frames: [number, number, string][] = [];
  let raw = 0;
  let stored = 0;
  return {
    frames,
    onFrame(rawBytes: number, frame: Buffer) {
      frames.push([raw, stored, createHash('sha256').update(frame).digest('hex')]);
      raw += rawBytes;
      stored += frame.length;
    },
  };
}
