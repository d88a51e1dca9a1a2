import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { toolEnv } from './process.js';

const run = promisify(execFile);

/** The subfolder `sub` of every folder in `root` (e.g. /usr/lib/postgresql/<version>/bin). */
export function foldersUnder(root: string, sub: string): string[] {
  return existsSync(root)
    ? readdirSync(root)
        .map((v) => path.join(root, v, sub))
        .filter((d) => existsSync(d))
    : [];
}

/** Settings' folder first, then where the engine's tools usually live, then PATH. */
function candidateDirs(usual: string[], override?: string | null): string[] {
  return [...new Set([...(override ? [override] : []), ...usual, ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean)])];
}

export interface Tool {
  path: string;
  /** [major, minor] as the tool reports it. */
  version: [number, number];
  /** Its `--version` line: `mysqldump … Distrib 10.11.6-MariaDB` tells a MariaDB tool under MySQL's name. */
  banner: string;
}

async function versionOf(binary: string): Promise<Pick<Tool, 'version' | 'banner'> | null> {
  try {
    const { stdout } = await run(binary, ['--version'], { timeout: 10_000, env: toolEnv() });
    const m = /(\d+)\.(\d+)/.exec(stdout);
    return m ? { version: [Number(m[1]), Number(m[2])], banner: stdout.trim().split('\n')[0] ?? '' } : null;
  } catch {
    return null;
  }
}

// Installed tools rarely change while the app runs; asking each one its version costs a process start
// (Debian's /usr/bin/pg_dump is a Perl wrapper), so answers are kept for a minute.
const cache = new Map<string, { at: number; tools: Promise<Tool[]> }>();
const CACHE_MS = 60_000;

/** Every copy of a tool this machine has, newest first; `usual` lists the folders it is usually installed in. */
export function findTools(names: string[], usual: () => string[], override?: string | null): Promise<Tool[]> {
  const key = `${override ?? ''}|${names.join(',')}`;
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.tools;
  const tools = discover(names, candidateDirs(usual(), override));
  cache.set(key, { at: Date.now(), tools });
  tools.catch(() => cache.delete(key));
  return tools;
}

async function discover(names: string[], dirs: string[]): Promise<Tool[]> {
  const found: Tool[] = [];
  const seen = new Set<string>();
  for (const dir of dirs) {
    for (const name of names) {
      const candidate = path.join(dir, process.platform === 'win32' ? `${name}.exe` : name);
      if (!existsSync(candidate) || seen.has(candidate)) continue;
      seen.add(candidate);
      const known = await versionOf(candidate);
      if (known) found.push({ path: candidate, ...known });
    }
  }
  return found.sort((a, b) => b.version[0] - a.version[0] || b.version[1] - a.version[1]);
}
