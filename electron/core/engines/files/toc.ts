import type { TocFileEntry } from '../../../../shared/schemas/toc.js';
import type { TocRecorder } from '../types.js';
import { tarReader } from './tar-read.js';

/**
 * Reads a tar's headers as its bytes stream past, without holding its data: each entry's path, type, size, mode, mtime,
 * link and where it starts in the uncompressed tar. pax (`x`) and GNU long names (`L`, `K`) are followed, as tar reads them.
 */
export function tarIndex(): TocRecorder & { entries: TocFileEntry[] } {
  const entries: TocFileEntry[] = [];
  const reader = tarReader({
    entry(e) {
      if (!e.type) return;
      entries.push({
        path: e.type === 'directory' ? e.name.replace(/\/+$/, '') : e.name,
        type: e.type,
        size: e.size,
        mode: e.mode,
        mtime: new Date(Math.floor(e.mtime * 1000)).toISOString(),
        link: e.linkname,
        offset: e.offset,
        data: e.data,
      });
    },
  });
  return {
    entries,
    observe: (chunk: Buffer) => reader.observe(chunk),
    async finish() {
      return { kind: 'files' as const, files: entries };
    },
  };
}
