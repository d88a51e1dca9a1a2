import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../../../shared/errors.js';
import { runTool } from '../process.js';
import { headOf } from '../source.js';
import type { Dump, DumpResult, RestoreSource } from '../types.js';

const GB = 1024 ** 3;
const gb = (bytes: number) => `${(bytes / GB).toFixed(1)} GB`;

/** Refuses before writing when the folder's disk cannot hold `needed` bytes, saying what to do. */
export async function checkFreeSpace(dir: string, needed: number, what: string): Promise<void> {
  const s = await statfs(dir);
  const free = s.bavail * s.bsize;
  if (free >= needed) return;
  throw new AppError(
    'validation_error',
    `${what} needs about ${gb(needed)} in the temporary folder ${dir}, which has ${gb(free)} free: free some space, choose a temporary folder on a bigger disk in Settings → System, or set the job's parallel jobs to 1`,
  );
}

/** A tar (`ustar` at offset 257, read from the artifact's head), as a -j backup is; a custom-format dump starts with `PGDMP` (whatever its TOC holds further on). */
export function isTar(head: Buffer): boolean {
  return head.length >= 262 && head.toString('latin1', 0, 5) !== 'PGDMP' && head.toString('latin1', 257, 262) === 'ustar';
}

// The files of a pg_dump directory: toc.dat, <id>.dat[.gz|.lz4|.zst], blobs.toc, blob_<oid>.dat[.gz].
const DIRECTORY_FILE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;
// pg_dump -j -v, as each table's data file is closed: `pg_dump: finished item 3345 TABLE DATA orders`.
const FINISHED = /^pg_dump: finished item (\d+) TABLE DATA /;

export interface DirectoryDumpOptions {
  env: NodeJS.ProcessEnv;
  tempDir: string;
  signal: AbortSignal;
  cleanup: () => void;
}

/**
 * pg_dump -j N: the directory format (the only one pg_dump writes with several jobs) into a private
 * folder, streamed out as one tar of that folder's files, which the pipeline compresses like any
 * artifact. Each table's file joins the tar as soon as pg_dump says it is finished, so compressing
 * and storing run while the other tables are still being dumped; toc.dat (written last) and anything
 * else follow once pg_dump exits. The folder is removed on success, failure and cancel.
 *
 * `tar -x` and `pg_restore -j N` restore it by hand (README: Restore by hand).
 */
export async function dumpDirectory(tool: string, args: string[], o: DirectoryDumpOptions): Promise<Dump> {
  const dir = await mkdtemp(path.join(o.tempDir, 'pg-dump-'));
  const out = path.join(dir, 'dump');
  const stop = new AbortController();
  const signal = AbortSignal.any([o.signal, stop.signal]);
  const { default: tar } = await import('tar-stream');
  const pack = tar.pack();
  // A storage that fails or a cancel ends the tar early: pg_dump must not run on for nothing.
  pack.on('close', () => stop.abort());

  const ready: string[] = [];
  let wake: (() => void) | undefined;
  let partial = '';
  const heard = (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const m = FINISHED.exec(line);
      if (m) ready.push(`${m[1]}.dat`);
    }
    wake?.();
  };

  const packed = new Map<string, number>();
  const packFile = async (name: string) => {
    const file = path.join(out, name);
    const s = await stat(file);
    packed.set(name, s.size);
    const header = { name, size: s.size, mode: 0o600, mtime: s.mtime };
    if (s.size === 0) {
      await new Promise<void>((resolve, reject) => pack.entry(header, Buffer.alloc(0), (e) => (e ? reject(e) : resolve())));
      return;
    }
    // Exactly the bytes the header announces: a file still growing fails the entry instead of corrupting the tar.
    // The signal: a tar closed by a failing storage or a cancel leaves no entry waiting forever.
    await pipeline(createReadStream(file, { end: s.size - 1, highWaterMark: 1 << 20 }), pack.entry(header), { signal });
  };

  // With the job's compression none, pg_dump compresses each file itself (<id>.dat.gz).
  const dataFile = async (name: string) => {
    for (const f of [name, `${name}.gz`, `${name}.lz4`, `${name}.zst`]) if (await stat(path.join(out, f)).catch(() => null)) return f;
    return null;
  };

  let exited = false;
  const dumping = runTool(tool, [...args, '--format=directory', `--file=${out}`, '--verbose'], { env: o.env, signal, onStderr: heard }).finally(() => {
    exited = true;
    wake?.();
  });
  dumping.catch(() => undefined);

  const finished: Promise<DumpResult> = (async () => {
    try {
      // Tables as pg_dump finishes them, while it works on the rest.
      while (!exited || ready.length) {
        const name = ready.shift();
        if (name === undefined) {
          await new Promise<void>((r) => (wake = r));
          continue;
        }
        const found = await dataFile(name);
        if (found && !packed.has(found)) await packFile(found);
      }
      const engineOutput = await dumping;
      // A table name holding a newline could imitate pg_dump's line: a file packed early must not have grown since.
      for (const [name, size] of packed) {
        if ((await stat(path.join(out, name))).size !== size) throw new AppError('validation_error', `pg_dump was still writing ${name} when it was packed`);
      }
      const rest = (await readdir(out)).filter((f) => !packed.has(f)).sort();
      for (const name of rest) await packFile(name);
      pack.finalize();
      return { engine_output: engineOutput };
    } catch (e) {
      stop.abort();
      pack.destroy(e as Error);
      await dumping.catch(() => undefined);
      throw e;
    } finally {
      o.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  })();
  finished.catch(() => undefined);
  return { stream: pack as unknown as Readable, finished };
}

/** A -j backup (a tar of pg_dump's folder) unpacked, and checked, before the target is touched; null for an archive file. */
export async function unpackedIfDirectory(source: RestoreSource, tempDir: string, signal: AbortSignal) {
  return isTar(await headOf(source, 262)) ? unpackDirectory(await source.file(), tempDir, signal) : null;
}

/**
 * Unpacks a tar of a pg_dump directory into a new private folder before pg_restore reads it. The tar
 * may come from a shared bucket, so only plain files with plain names (no `/`, no `..`, no links,
 * devices or folders) are written, each as a new file (`wx`): nothing lands outside that folder.
 */
export async function unpackDirectory(tarPath: string, tempDir: string, signal: AbortSignal): Promise<{ dir: string; remove: () => Promise<void> }> {
  await checkFreeSpace(tempDir, (await stat(tarPath)).size, 'Unpacking this backup (a pg_dump directory)');
  const root = await mkdtemp(path.join(tempDir, 'pg-restore-dir-'));
  const remove = () => rm(root, { recursive: true, force: true });
  try {
    const { default: tar } = await import('tar-stream');
    const extract = tar.extract();
    const feeding = pipeline(createReadStream(tarPath, { highWaterMark: 1 << 20 }), extract, { signal });
    feeding.catch(() => undefined);
    let toc = false;
    for await (const entry of extract) {
      const { type, name: raw } = entry.header;
      const name = raw.replace(/^(\.\/)+/, '');
      // `tar -cf - -C dump .` by hand adds the folder itself as `./`.
      if (type === 'directory' && (name === '' || name === '.')) {
        entry.resume();
        continue;
      }
      if (type !== 'file' || !DIRECTORY_FILE.test(name)) {
        throw new AppError(
          'validation_error',
          `Refused: the backup's entry “${raw.slice(0, 200)}” is not a file of a pg_dump directory. Nothing was restored.`,
        );
      }
      toc ||= name === 'toc.dat';
      await pipeline(entry, createWriteStream(path.join(root, name), { flags: 'wx', mode: 0o600 }));
    }
    await feeding;
    if (!toc) throw new AppError('validation_error', 'Refused: the backup holds no toc.dat, so it is not a pg_dump directory. Nothing was restored.');
    return { dir: root, remove };
  } catch (e) {
    await remove();
    throw e;
  }
}
