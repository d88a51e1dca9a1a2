import type { Compression } from '../../../shared/schemas/enums.js';

const EXTENSIONS: Record<Compression, string> = { gzip: '.gz', zstd: '.zst', lz4: '.lz4', none: '' };

/** `YYYY-MM-DD_HHmmss` in UTC. */
export function executionFolder(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getUTCFullYear()}-${p(date.getUTCMonth() + 1)}-${p(date.getUTCDate())}_${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`;
}

/**
 * `backup.<format>.<compression>` (seed: monitoring-layout-rollback.md §2–3), e.g. backup.dump.gz, backup.tar;
 * `.age` after it when the compressed stream is encrypted (backup.dump.zst.age).
 */
export function artifactBaseName(format: string, compression: Compression, encrypted = false, stem = 'backup'): string {
  return `${stem}.${format}${EXTENSIONS[compression]}${encrypted ? '.age' : ''}`;
}

/** Whether a stored file (`shop.dump.zst`, `shop.dump.zst.part-002`) belongs to the artifact of that name. */
export const isPartOf = (file: string, artifact: string): boolean =>
  file === artifact || (/^\.part-\d{3,}$/.test(file.slice(artifact.length)) && file.startsWith(artifact));

/** `.part-001`, `.part-002`, ...: three digits from 001, as the seed names them. */
export function partName(baseName: string, n: number): string {
  return `${baseName}.part-${String(n).padStart(3, '0')}`;
}
