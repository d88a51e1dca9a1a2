import { dateTime, duration } from '../../../shared/format.js';
import type { DrillMetadata } from '../../../shared/schemas/execution.js';

/** What the report is made of: the drill's row as recorded. */
export interface DrillRecord {
  id: string;
  status: string;
  started_at: Date | null;
  finished_at: Date | null;
  error_message: string | null;
  metadata: DrillMetadata;
}

/** Every name in the report comes from a user or a storage (a job called `<script>`): all text is escaped. */
const escapeHtml = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const verdict = (ok: boolean) => (ok ? '<td class="ok">passed</td>' : '<td class="bad">failed</td>');

function table(head: string[], rows: string[][]): string {
  if (rows.length === 0) return '<p class="muted">None.</p>';
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.join('')}</tr>`).join('')}</tbody></table>`;
}
const cell = (v: unknown) => `<td>${escapeHtml(v)}</td>`;

/**
 * One drill as a printable page for an auditor: the backup, each copy, each phase with its time, each check,
 * the measured RTO and RPO, and what ran. Self-contained: no script, no outside resource.
 */
export function drillReportHtml(d: DrillRecord): string {
  const m = d.metadata;
  const title = `Restore drill of ${m.job_name ?? 'a backup'}`;
  const passed = d.status === 'completed';
  const facts: [string, string][] = [
    ['Result', passed ? (m.write_only ? 'Passed (checksums only: write-only mode)' : 'Passed') : `Failed: ${d.error_message ?? d.status}`],
    ['Job', m.job_name ?? '—'],
    ['Datasource', `${m.datasource_name ?? '—'}${m.datasource_type ? ` (${m.datasource_type})` : ''}`],
    ['Backup', `${m.source_execution_id}${m.backup_taken_at ? `, taken ${dateTime(m.backup_taken_at)}` : ''}`],
    ['Chosen as', m.pick === 'backup' ? 'asked for' : `the job's ${m.pick} backup`],
    ['Drill', `${d.id}, ${dateTime(d.started_at)} to ${dateTime(d.finished_at)}`],
    ['Scratch target', m.scratch ?? '—'],
    ['Measured RTO', m.rto_seconds === undefined ? '—' : `${duration(m.rto_seconds)} (${m.rto_seconds} s, the sum of the phases)`],
    ['RPO', m.rpo_seconds === undefined ? '—' : `${duration(m.rpo_seconds)} (the backup's age when the drill ran)`],
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; color: #1d2530; max-width: 960px; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; } h2 { font-size: 1.1rem; margin-top: 1.75rem; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e3e6eb; vertical-align: top; }
th { background: #f5f6f8; } .ok { color: #17733f; font-weight: 600; } .bad { color: #b42318; font-weight: 600; } .muted { color: #636d7c; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; } dt { color: #566171; } dd { margin: 0; }
@media print { body { margin: 0; } }
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p class="${passed ? 'ok' : 'bad'}">${escapeHtml(facts[0]![1])}</p>
<dl>${facts
    .slice(1)
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`)
    .join('')}</dl>
<h2>Copies</h2>
${table(
  ['Storage', 'Type', 'Parts', 'Verdict', 'Detail'],
  (m.copies ?? []).map((c) => [cell(c.storage_name), cell(c.storage_type), cell(c.parts), verdict(c.ok), cell(c.error ?? 'every part matches its SHA-256')]),
)}
<h2>Phases</h2>
${table(
  ['Phase', 'Seconds', 'Verdict', 'Detail'],
  (m.phases ?? []).map((p) => [cell(p.name), cell(p.seconds.toFixed(2)), verdict(p.ok), cell(p.detail)]),
)}
<h2>Checks</h2>
${table(
  ['Check', 'Verdict', 'Detail'],
  (m.checks ?? []).map((c) => [cell(c.name), verdict(c.ok), cell(c.detail)]),
)}
<h2>Tool versions</h2>
${table(
  ['Tool', 'Version'],
  Object.entries(m.tool_versions ?? {}).map(([k, v]) => [cell(k), cell(v)]),
)}
</body></html>
`;
}

/** `drill-<job>-<date>.html`, safe as a file name on any system. */
export function drillReportName(d: DrillRecord): string {
  const job =
    (d.metadata.job_name ?? 'backup')
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[-.]+|-+$/g, '')
      .slice(0, 60) || 'backup';
  const at = (d.finished_at ?? d.started_at ?? new Date(0))
    .toISOString()
    .slice(0, 19)
    .replace(/[:T]/g, (c) => (c === 'T' ? '_' : ''));
  return `drill-${job}-${at}.html`;
}
