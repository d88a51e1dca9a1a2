// The storage test behind "Test connection": a real write, read-back and delete,
// so a green result means backups will actually land there.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { AppError } from '../../../shared/errors.js';
import type { StorageTestResult } from '../../../shared/schemas/storage.js';
import { scoped } from '../kernel/log.js';
import type { Storage } from './types.js';

const log = scoped('storage');
const GB = 1024 ** 3;

export async function probe(storage: Storage): Promise<StorageTestResult> {
  const key = `_system/probe-${Date.now()}-${randomBytes(4).toString('hex')}`;
  const payload = Buffer.concat([Buffer.from('DataGuardian storage test\n'), randomBytes(1024)]);
  const started = performance.now();
  let written = false;
  try {
    await storage.put(key, Readable.from([payload]));
    written = true;
    const back = await readAll(await storage.get(key));
    if (!back.equals(payload)) {
      return failed(`The storage gave back different bytes than were written (${back.length} of ${payload.length}): it cannot be trusted with backups.`);
    }
    await storage.delete(key);
    written = false;
    const latency = Math.round(performance.now() - started);
    const free = await storage.freeSpaceBytes();
    const space = free === null ? null : Math.round((free / GB) * 100) / 100;
    return {
      ok: true,
      latency_ms: latency,
      available_space_gb: space,
      message: `Wrote, read back and deleted a test file in ${latency} ms${space === null ? '' : `; ${space} GB free`}.`,
    };
  } catch (error) {
    if (!(error instanceof AppError)) log.error('storage test failed unexpectedly', error);
    return failed(error instanceof Error ? error.message : String(error));
  } finally {
    if (written) await storage.delete(key).catch(() => undefined);
  }
}

function failed(message: string): StorageTestResult {
  return { ok: false, latency_ms: null, available_space_gb: null, message };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
