import type { Readable } from 'node:stream';
import type { TocReference } from '../../../shared/schemas/toc.js';
import type { Toc } from '../../../shared/schemas/toc.js';
import { frameRecorder, storeToc } from '../backup/toc.js';
import type { WrittenArtifact } from '../backup/pipeline.js';
import type { BackupEngine, EngineOptions } from '../engines/types.js';
import type { ConnectionConfig } from '../../../shared/schemas/datasource.js';
import { scoped } from '../kernel/log.js';
import type { Say } from './report.js';

const log = scoped('toc');

/**
 * The table of contents of one attempt at a backup: fed the dump's raw bytes and the compressor's frames as they
 * stream, stored beside the parts once they are written. It is a help: failing to make one never fails the backup.
 */
export function backupContents(engine: BackupEngine, config: ConnectionConfig, options: EngineOptions) {
  let recorder;
  try {
    recorder = engine.contents?.(config, options) ?? null;
  } catch (e) {
    log.warn('no table of contents for this backup', e);
    recorder = null;
  }
  if (!recorder) return null;
  const frames = frameRecorder();
  let broken: Error | null = null;
  const watch = recorder;
  return {
    onSourceData(chunk: Buffer) {
      if (broken) return;
      try {
        watch.observe(chunk);
      } catch (e) {
        broken = e as Error;
      }
    },
    onFrame: frames.onFrame,
    /** Stores it beside the parts (encrypted to `recipients` when the backup is); undefined when it could not be made. */
    async store(
      written: WrittenArtifact,
      o: { compressed: boolean; recipients: string[] | null; put: (name: string, body: Readable) => Promise<unknown>; say: Say },
    ): Promise<TocReference | undefined> {
      try {
        if (broken) throw broken;
        const found = await watch.finish();
        const toc: Toc = { version: 1, ...found, raw_bytes: written.raw.bytes, ...(o.compressed ? { frames: frames.frames } : {}) };
        const ref = await storeToc(toc, o);
        const count = toc.files?.length ?? toc.tables?.length ?? 0;
        // A folder's words: its index lists files and folders, never "tables".
        const listed = toc.kind === 'files' ? `Index of the files and folders: ${count} entries` : `Table of contents: ${count} objects`;
        o.say('info', `${listed}${o.recipients ? ', encrypted' : ''}`);
        return ref;
      } catch (e) {
        o.say('warn', `No table of contents for this backup (it restores whole as usual): ${(e as Error).message}`);
        return undefined;
      }
    },
  };
}
