import { COMPRESSIONS, type Compression } from '../../../../shared/schemas/enums.js';
import { VERIFY_MODES } from '../../../../shared/schemas/job.js';
import { SelectField, TextArea, TextField } from '../../components/fields.js';
import type { EncryptionState } from '../../../../shared/schemas/encryption.js';
import { Card } from '../../components/ui.js';
import { shortKey, useEncryption } from '../../encryption.js';
import { useStore } from '../../store.js';
import { backupOptionsFor } from '../../../../shared/words.js';
import { isCompression, isVerifyMode, type SectionProps, type VerifyMode } from './draft.js';

/** Valid levels per algorithm and the default used when none is given (as shared/schemas/job.ts checks them). */
const LEVELS: Record<Compression, { min: number; max: number; fallback: number } | null> = {
  gzip: { min: 1, max: 9, fallback: 6 },
  zstd: { min: 1, max: 19, fallback: 3 },
  lz4: { min: 1, max: 12, fallback: 1 },
  none: null,
};

const COMPRESSION_LABELS: Record<Compression, string> = { gzip: 'gzip', zstd: 'zstd', lz4: 'lz4', none: 'None' };

const VERIFY_LABELS: Record<VerifyMode, string> = {
  none: 'Do not verify',
  checksum: 'Verify checksums',
  'restore-test': 'Test restore',
};

/** Which keys will open the job's backups, in people's words. */
function EncryptionHint({ on, keys }: { on: boolean; keys: EncryptionState | null }) {
  if (!on) return <>Stored as they are: whoever reads the storage reads the backups.</>;
  if (!keys?.set_up) return <>Set up encryption in Settings → Encryption first.</>;
  const names = keys.backup_recipients.map((r) => {
    const known = keys.keys.find((k) => k.recipient === r);
    const who = known?.role === 'app' ? "this app's key" : known?.role === 'recovery' ? 'the recovery key' : (known?.label ?? 'an extra key');
    return `${who} (${shortKey(r)})`;
  });
  return <>New backups open with {names.join(', ')}.</>;
}

/**
 * How the job backs up: compression, verification afterwards, encryption, parts, and what only some engines know:
 * dump threads (PostgreSQL) and which tables (PostgreSQL, MySQL, MariaDB).
 */
export function BackupOptions({ draft, set, bind, validation }: SectionProps) {
  const level = LEVELS[draft.compression];
  const levelField = bind('level', 'backup_options.compression_level');
  const datasource = useStore((s) => s.datasources.data?.find((d) => d.id === draft.datasource_id));
  const applies = backupOptionsFor(datasource?.type);
  const wholeServer = datasource?.connection_config.all_databases === true;
  const { state: keys } = useEncryption();
  const encryption = draft.encryption || (keys?.set_up ? 'age' : 'none');

  return (
    <Card title="Backup options">
      <div className="form-grid form-grid--3">
        <SelectField
          id="job-compression"
          label="Compression"
          value={draft.compression}
          options={COMPRESSIONS.map((c) => ({ value: c, label: COMPRESSION_LABELS[c] }))}
          hint="Standard formats: gzip, zstd and lz4 files open with their usual tools."
          // Another algorithm has other levels: the level's server error no longer applies.
          onChange={(v) => {
            if (isCompression(v)) set('compression', 'backup_options.compression_level')(v);
          }}
        />
        <TextField
          id="job-compression-level"
          label="Compression level"
          type="number"
          min={level?.min}
          max={level?.max}
          disabled={!level}
          {...levelField}
          value={level ? draft.level : ''}
          placeholder={level ? String(level.fallback) : '—'}
          hint={level ? `${level.min}–${level.max}; empty uses ${level.fallback}.` : 'No compression.'}
        />
        <SelectField
          id="job-verify"
          label="After each backup"
          value={draft.verify}
          options={VERIFY_MODES.map((m) => ({ value: m, label: VERIFY_LABELS[m] }))}
          hint="Checksums re-read every part; a test restore also loads it."
          onChange={(v) => {
            if (isVerifyMode(v)) set('verify')(v);
          }}
        />
        <SelectField
          id="job-encryption"
          label="Encryption"
          value={encryption}
          options={[
            { value: 'age', label: keys?.set_up ? 'Encrypted (age)' : 'Encrypted (set up encryption first)' },
            { value: 'none', label: 'None' },
          ]}
          error={validation.errorFor('backup_options.encryption')}
          hint={<EncryptionHint on={encryption === 'age'} keys={keys} />}
          onChange={(v) => {
            if (v === 'age' || v === 'none') set('encryption', 'backup_options.encryption')(v);
          }}
        />
        <TextField
          id="job-max-file-size"
          label="Split into parts of (MB)"
          type="number"
          min={1}
          placeholder="No split"
          hint="Parts join back with cat."
          {...bind('max_file_size_mb', 'backup_options.max_file_size_mb')}
        />
        {applies.parallel && (
          <TextField
            id="job-parallel-jobs"
            label="Parallel jobs"
            type="number"
            min={1}
            max={32}
            hint="pg_dump threads (more than 1 dumps tables side by side)."
            {...bind('parallel_jobs', 'backup_options.parallel_jobs')}
          />
        )}
        {wholeServer && (
          <TextField
            id="job-parallel-databases"
            label="Databases at a time"
            type="number"
            min={1}
            max={16}
            hint="1 backs up the server's databases one after another; more go side by side (more load on the server)."
            {...bind('parallel_databases', 'backup_options.parallel_databases')}
          />
        )}
        {applies.tables && (
          <>
            <TextArea
              id="job-include-tables"
              label="Only these tables"
              rows={3}
              monospace
              value={draft.include_tables}
              placeholder="public.orders"
              hint="One per line. Empty backs up every table."
              onChange={set('include_tables')}
            />
            <TextArea
              id="job-exclude-tables"
              label="Skip these tables"
              rows={3}
              monospace
              value={draft.exclude_tables}
              placeholder="public.sessions"
              hint="One per line."
              onChange={set('exclude_tables')}
            />
          </>
        )}
      </div>
    </Card>
  );
}
