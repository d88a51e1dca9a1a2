import type { Execution } from '../../shared/schemas/execution.js';

/** What Activity can be narrowed to; a drill is a test restore (a verification that restores into a scratch target). */
export const ACTIVITY_KINDS = ['backups', 'restores', 'verifications', 'cleanups', 'drills'] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

export const ACTIVITY_KIND_LABELS: Record<ActivityKind, string> = {
  backups: 'Backups',
  restores: 'Restores',
  verifications: 'Verifications',
  cleanups: 'Cleanups',
  drills: 'Drills (test restores)',
};

/** One line of Activity: a run and what followed from it (its verification and cleanup, a restore's safety backup). */
export interface ActivityGroup {
  run: Execution;
  followUps: Execution[];
}

export function kindOf(e: Pick<Execution, 'operation' | 'metadata'>): ActivityKind {
  if (e.operation === 'verify') return e.metadata?.method === 'restore-test' ? 'drills' : 'verifications';
  return ({ backup: 'backups', restore: 'restores', cleanup: 'cleanups', drill: 'drills' } as const)[e.operation];
}

const at = (iso: string | null) => (iso ? new Date(iso).getTime() : NaN);
/** A cleanup is queued as its backup ends: the job's backup that ended within this before it. */
const FOLLOWS_WITHIN_MS = 2 * 60_000;

/** The run `e` follows from, among `rows` (newest first), when it is a follow-up. */
function parentOf(e: Execution, rows: Execution[], byId: Map<string, Execution>): Execution | undefined {
  const m = e.metadata ?? {};
  if (e.operation === 'backup' && typeof m.safety_for === 'string') return byId.get(m.safety_for);
  if (e.trigger !== 'after_backup') return undefined;
  if ((e.operation === 'verify' || e.operation === 'drill') && typeof m.source_execution_id === 'string') return byId.get(m.source_execution_id);
  if (e.operation === 'cleanup') {
    const created = at(e.created_at);
    return rows.find(
      (b) =>
        b.operation === 'backup' &&
        b.job_id === e.job_id &&
        !b.metadata?.safety_for &&
        at(b.created_at) < created &&
        created - at(b.finished_at) < FOLLOWS_WITHIN_MS &&
        created - at(b.finished_at) >= -1000,
    );
  }
  return undefined;
}

/**
 * Runs newest first, each follow-up under the run it follows (oldest first). Pages of Activity are read
 * newest first and a follow-up is newer than its run, so a run on screen always has its follow-ups
 * loaded. A follow-up whose run is on a page not loaded yet (`complete` false) waits for that page, at
 * the end of the list, rather than showing on a line of its own first.
 */
function groupRuns(rows: Execution[], complete: boolean): ActivityGroup[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const children = new Map<string, Execution[]>();
  const top: Execution[] = [];
  for (const row of rows) {
    const parent = parentOf(row, rows, byId);
    if (parent) children.set(parent.id, [row, ...(children.get(parent.id) ?? [])]);
    else if (complete || !isFollowUp(row)) top.push(row);
  }
  return top.map((run) => ({ run, followUps: children.get(run.id) ?? [] }));
}

const isFollowUp = (e: Execution) => e.trigger === 'after_backup' || (e.operation === 'backup' && typeof e.metadata?.safety_for === 'string');

/**
 * What Activity shows for a kind: backups and restores as groups with their follow-ups; verifications,
 * drills and cleanups each on their own line, follow-ups included.
 */
export function activityLines(rows: Execution[], kind: ActivityKind | null, complete: boolean): ActivityGroup[] {
  if (kind === 'verifications' || kind === 'drills' || kind === 'cleanups') {
    return rows.filter((r) => kindOf(r) === kind).map((run) => ({ run, followUps: [] }));
  }
  const groups = groupRuns(rows, complete);
  return kind ? groups.filter((g) => kindOf(g.run) === kind) : groups;
}

/** A follow-up in a few words for its run's line: "verified", "pruned 2", "safety backup". */
export function followUpWords(e: Execution): { text: string; tone: 'good' | 'bad' | 'info' | 'neutral' } {
  const running = e.status === 'queued' || e.status === 'running';
  const failed = e.status === 'failed';
  if (e.operation === 'verify') {
    const drill = e.metadata?.method === 'restore-test';
    if (running) return { text: drill ? 'test restore…' : 'verifying…', tone: 'info' };
    if (failed) return { text: drill ? 'test restore failed' : 'verification failed', tone: 'bad' };
    if (e.status === 'completed') return { text: drill ? 'test restored ✓' : 'verified ✓', tone: 'good' };
    return { text: `verification ${e.status}`, tone: 'neutral' };
  }
  if (e.operation === 'cleanup') {
    if (running) return { text: 'pruning…', tone: 'info' };
    if (failed) return { text: 'cleanup failed', tone: 'bad' };
    const deleted = Array.isArray(e.metadata?.deleted) ? e.metadata.deleted.length : 0;
    const would = Array.isArray(e.metadata?.would_delete) ? e.metadata.would_delete.length : 0;
    if (would) return { text: `would prune ${would}`, tone: 'neutral' };
    return { text: deleted ? `pruned ${deleted}` : 'nothing pruned', tone: 'neutral' };
  }
  if (running) return { text: 'safety backup…', tone: 'info' };
  return {
    text: failed ? 'safety backup failed' : e.status === 'completed' ? 'safety backup ✓' : `safety backup ${e.status}`,
    tone: failed ? 'bad' : 'neutral',
  };
}
