import { AppError } from '../../../shared/errors.js';
import type { BackupEntryItem, EntriesPage } from '../../../shared/schemas/toc.js';
import type { z } from 'zod';
import type { entriesInput } from '../../../shared/schemas/toc.js';
import type { Toc, TocTable } from '../../../shared/schemas/toc.js';
import { datasourceConfig } from '../catalog/datasources.js';
import { identitiesFor } from '../catalog/keys.js';
import { locateBackup, type LocatedBackup } from '../catalog/locate.js';
import { openSavedStorage } from '../catalog/storages.js';
import { Datasources } from '../db/entities.js';
import { backupEngineFor } from '../engines/index.js';
import type { ConnectionConfig } from '../../../shared/schemas/datasource.js';
import { fetchVerified } from '../executions/fetch.js';
import { readSettings, toolDirs } from '../kernel/settings.js';
import { scoped } from '../kernel/log.js';
import { loadToc, TocUnusable } from '../restore/contents.js';
import { serverArtifactOf, type ServerArtifact } from './server-contents.js';
import type { ServiceContext } from './context.js';

const log = scoped('contents');

/** What a backup holds, and where that knowledge came from. */
export interface KnownContents {
  toc: Toc;
  source: 'toc' | 'archive';
  message: string | null;
}

/** Tables of contents read lately: browsing pages through one many times in a minute. */
const CACHED = 8;

/** The database objects a user chooses among; the rest of a pg_restore list (data, constraints…) follows its table. */
const LISTED = new Set(['TABLE', 'VIEW', 'MATERIALIZED VIEW', 'FOREIGN TABLE', 'SEQUENCE', 'FUNCTION', 'PROCEDURE', 'TRIGGER', 'EVENT']);

export function contentsService(ctx: ServiceContext) {
  const cache = new Map<string, Promise<KnownContents>>();

  /**
   * The stored table of contents, proven; else the archive itself, read once (a backup made before them, or one not
   * to trust). Of a whole server's backup, one database's: its own artifact, read once.
   */
  async function contentsOf(backupId: string, database?: string): Promise<KnownContents> {
    const key = database === undefined ? backupId : `${backupId}\u0000${database}`;
    const hit = cache.get(key);
    if (hit) {
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    const job = find(backupId, database);
    cache.set(key, job);
    while (cache.size > CACHED) cache.delete(cache.keys().next().value!);
    job.catch(() => cache.delete(key));
    return job;
  }

  async function find(backupId: string, database?: string): Promise<KnownContents> {
    const backup = await locateBackup(ctx, backupId);
    const artifact = serverArtifactOf(backup, database);
    if (artifact) return readArchive(backup, null, artifact);
    const ref = backup.metadata.toc;
    if (!ref) return readArchive(backup, 'This backup was made before tables of contents: its archive was read once to list it');
    const { encryption } = backup.metadata;
    const identities = encryption ? (await identitiesFor(ctx, encryption, [])).map((k) => k.identity) : null;
    const reasons: string[] = [];
    for (const copy of backup.copies) {
      const storage = openSavedStorage(ctx, copy.storage);
      try {
        const folder = copy.chunks[0]!.file_path.split('/').slice(0, -1).join('/');
        const stored = copy.chunks.reduce((n, c) => n + Number(c.size_bytes), 0);
        const toc = await loadToc(storage, folder, ref, { identities, storedPayloadBytes: identities ? null : stored });
        return { toc, source: 'toc', message: null };
      } catch (e) {
        if (!(e instanceof TocUnusable)) throw e;
        reasons.push(`${copy.storage.name}: ${e.message}`);
      } finally {
        await storage.close().catch(() => undefined);
      }
    }
    log.warn(`[${backupId}] table of contents not used: ${reasons.join('; ')}`);
    return readArchive(backup, `The table of contents was not used (${reasons.join('; ')}): the archive was read instead`);
  }

  /** Reads the archive once (downloaded, every checksum checked) and makes its table of contents as a backup would. */
  async function readArchive(backup: LocatedBackup, message: string | null, artifact?: ServerArtifact): Promise<KnownContents> {
    const type = backup.metadata.datasource_type;
    if (!type) throw new AppError('unsupported', 'This backup does not say what it holds');
    const engine = backupEngineFor(type as Parameters<typeof backupEngineFor>[0]);
    const settings = await readSettings(ctx.db);
    const tempDir = await ctx.temp.dir(settings['system.temp_directory']);
    const signal = new AbortController().signal;
    const fetched = await fetchVerified(ctx, backup.execution.id, {
      tempDir,
      signal,
      say: () => undefined,
      progress: () => undefined,
      ...(artifact ? { artifact: { file: artifact.file, checksum: artifact.checksum } } : {}),
    });
    try {
      const datasource = backup.execution.datasource_id ? await ctx.db.getRepository(Datasources).findOneBy({ id: backup.execution.datasource_id }) : null;
      // The archive's own copy stands for the source where it can (an SQLite file is its tables).
      // SQLite opens its file; a folder's index reads the stream alone.
      const config: ConnectionConfig =
        type === 'sqlite'
          ? { file_path: await fetched.source.file() }
          : datasource
            ? { ...datasourceConfig(ctx, datasource), ...(artifact ? { database: artifact.database, all_databases: false } : {}) }
            : ({ source_path: '', include_patterns: [], exclude_patterns: [] } as ConnectionConfig);
      if (type !== 'files' && type !== 'sqlite' && !datasource)
        throw new AppError('unsupported', 'This backup has no table of contents, and its datasource is not configured here to read one');
      const recorder = engine.contents?.(config, {
        includeTables: [],
        excludeTables: [],
        parallelJobs: 1,
        compressedByPipeline: true,
        toolDirs: toolDirs(settings),
        tempDir,
        signal,
        log: () => undefined,
      });
      if (!recorder) throw new AppError('unsupported', 'This kind of backup has no table of contents');
      let raw = 0;
      for await (const chunk of fetched.source.open()) {
        raw += (chunk as Buffer).length;
        recorder.observe(chunk as Buffer);
      }
      return { toc: { version: 1, ...(await recorder.finish()), raw_bytes: raw }, source: 'archive', message };
    } finally {
      await fetched.cleanup();
    }
  }

  return {
    contentsOf,
    async entries(input: z.output<typeof entriesInput>): Promise<EntriesPage> {
      const known = await contentsOf(input.id, input.database);
      const all = known.toc.kind === 'files' ? fileItems(known.toc, input.path, input.q) : tableItems(known.toc.tables ?? [], input.path, input.q);
      const from = input.cursor ? Number(input.cursor) : 0;
      const page = all.slice(from, from + input.limit);
      return {
        kind: known.toc.kind,
        source: known.source,
        message: known.message,
        entries: page,
        total: all.length,
        next_cursor: from + input.limit < all.length ? String(from + input.limit) : null,
      };
    },
  };
}

const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** A folder's children (folders first, then by name), or every entry below it whose name holds `q`. */
function fileItems(toc: Toc, folder: string, q: string): BackupEntryItem[] {
  const prefix = folder ? `${folder}/` : '';
  const needle = q.toLowerCase();
  const out: BackupEntryItem[] = [];
  for (const f of toc.files ?? []) {
    if (!f.path.startsWith(prefix) || f.path === folder) continue;
    const rest = f.path.slice(prefix.length);
    if (needle ? !baseName(rest).toLowerCase().includes(needle) : rest.includes('/')) continue;
    out.push({ name: baseName(f.path), path: f.path, type: f.type, size: f.size, mtime: f.mtime, mode: f.mode, link: f.link, schema: null, rows: null });
  }
  if (!needle) out.sort((a, b) => Number(b.type === 'directory') - Number(a.type === 'directory') || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

/** The tables, views and routines (of one schema when `schema` is given), as the dump holds them. */
function tableItems(tables: TocTable[], schema: string, q: string): BackupEntryItem[] {
  const needle = q.toLowerCase();
  return tables
    .filter((t) => LISTED.has(t.kind) && (!schema || t.schema === schema) && (!needle || t.name.toLowerCase().includes(needle)))
    .map((t) => ({
      name: t.name,
      path: t.schema ? `${t.schema}.${t.name}` : t.name,
      type: t.kind,
      size: t.bytes,
      mtime: null,
      mode: null,
      link: null,
      schema: t.schema,
      rows: t.rows,
    }));
}
