import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
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

/**
 * What is installed, as a fingerprint: every candidate file with its inode, size and modification time.
 * Installing, upgrading or removing a tool (or changing the folder set in Settings) changes it; nothing
 * else does, so a tool's version is asked once (a process start each: Debian's /usr/bin/pg_dump is a
 * Perl wrapper taking a quarter of a second) and not again until the fingerprint moves.
 */
function installed(names: string[], dirs: string[]): { candidates: string[]; fingerprint: string } {
  const candidates: string[] = [];
  const parts: string[] = [];
  for (const dir of dirs) {
    for (const name of names) {
      const candidate = path.join(dir, process.platform === 'win32' ? `${name}.exe` : name);
      const st = statSync(candidate, { throwIfNoEntry: false });
      if (!st?.isFile() || candidates.includes(candidate)) continue;
      candidates.push(candidate);
      parts.push(`${candidate}:${st.ino}:${st.size}:${st.mtimeMs}`);
    }
  }
  return { candidates, fingerprint: parts.join('|') };
}

interface Known {
  fingerprint: string;
  tools: Tool[];
}

// Kept in the data directory too, so the first backup after a restart does not ask again.
const known = new Map<string, Known>();
const asking = new Map<string, Promise<Tool[]>>();
let rememberIn: string | null = null;

/** Where discovered tools are remembered across restarts (the app's data directory). */
export function rememberToolsIn(file: string): void {
  rememberIn = file;
  known.clear();
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Known>;
    for (const [key, value] of Object.entries(saved)) if (typeof value?.fingerprint === 'string' && Array.isArray(value.tools)) known.set(key, value);
  } catch {
    // None yet, or unreadable: asked again.
  }
}

function remember(): void {
  if (!rememberIn) return;
  try {
    const tmp = `${rememberIn}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(known)), { mode: 0o600 });
    renameSync(tmp, rememberIn);
  } catch {
    // Only a cache: the next start asks again.
  }
}

/** Every copy of a tool this machine has, newest first; `usual` lists the folders it is usually installed in. */
export async function findTools(names: string[], usual: () => string[], override?: string | null): Promise<Tool[]> {
  const dirs = candidateDirs(usual(), override);
  const key = `${names.join(',')}@${dirs.join(path.delimiter)}`;
  const { candidates, fingerprint } = installed(names, dirs);
  const hit = known.get(key);
  // Only tools among today's candidates: a cache can never name another binary.
  if (hit?.fingerprint === fingerprint && hit.tools.every((t) => candidates.includes(t.path))) return hit.tools;
  const pending = asking.get(key);
  if (pending) return pending;
  const tools = discover(candidates).finally(() => asking.delete(key));
  asking.set(key, tools);
  const found = await tools;
  // A tool that did not answer (a timeout on a busy machine) is asked again next time.
  if (found.length === candidates.length) {
    known.set(key, { fingerprint, tools: found });
    remember();
  }
  return found;
}

/** Each candidate asked its version at once: they are independent processes. */
async function discover(candidates: string[]): Promise<Tool[]> {
  const answers = await Promise.all(candidates.map(async (candidate) => ({ candidate, known: await versionOf(candidate) })));
  return answers
    .flatMap(({ candidate, known }) => (known ? [{ path: candidate, ...known }] : []))
    .sort((a, b) => b.version[0] - a.version[0] || b.version[1] - a.version[1]);
}
