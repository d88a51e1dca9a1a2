import { createReadStream } from 'node:fs';
import type { RestoreSource } from './types.js';

/** An artifact that is a local file already (a staging file, a test's dump). */
export function fileSource(file: string): RestoreSource {
  return { open: () => createReadStream(file, { highWaterMark: 1 << 20 }), file: async () => file };
}

/** The first `bytes` of the artifact (fewer when it is shorter): what it is, without reading it all. */
export async function headOf(source: RestoreSource, bytes: number): Promise<Buffer> {
  const stream = source.open();
  const seen: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream) {
      seen.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length >= bytes) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(seen, length).subarray(0, bytes);
}
