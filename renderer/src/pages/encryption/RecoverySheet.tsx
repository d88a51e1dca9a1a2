import { useMemo, useState } from 'react';
import { encode } from 'uqr';
import type { OutputOf } from '../../../../shared/contract.js';
import { saveText } from '../../encryption.js';
import { dateTime } from '../../../../shared/format.js';
import { Button, Modal } from '../../components/ui.js';

type Setup = OutputOf<'encryption.setup'>;

export const KEY_FILE_NAME = 'dataguardian-recovery-key.txt';

/** The key file as age-keygen writes one: `age -d -i dataguardian-recovery-key.txt` reads it as it is. */
const keyFileText = (s: Setup) => `# DataGuardian recovery key, created ${s.created_at}\n# public key: ${s.recovery_recipient}\n${s.recovery_identity}\n`;

/** The key as a QR code, drawn here from the text (no image leaves the page). */
function QrCode({ text, label }: { text: string; label: string }) {
  const { path, size } = useMemo(() => {
    const qr = encode(text, { ecc: 'M', border: 2 });
    let d = '';
    qr.data.forEach((row, y) => row.forEach((dark, x) => dark && (d += `M${x} ${y}h1v1h-1z`)));
    return { path: d, size: qr.size };
  }, [text]);
  return (
    <svg className="qr" viewBox={`0 0 ${size} ${size}`} role="img" aria-label={label} shapeRendering="crispEdges">
      <rect width={size} height={size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}

/**
 * The recovery key, shown this once: copy it, download it as a key file, or print a one-page sheet with
 * a QR code and the commands that restore without DataGuardian. Nothing of it is kept by the page.
 */
export function RecoverySheet({ setup, onClose }: { setup: Setup; onClose(): void }) {
  const [saved, setSaved] = useState(false);
  const [copied, setCopied] = useState(false);
  const done = () => setSaved(true);
  async function copy() {
    await navigator.clipboard?.writeText(setup.recovery_identity).catch(() => undefined);
    setCopied(true);
    done();
  }
  return (
    <Modal
      title="Your recovery key"
      onClose={onClose}
      footer={
        <>
          <Button onClick={() => void copy()}>{copied ? 'Copied' : 'Copy key'}</Button>
          <Button
            onClick={() => {
              saveText(KEY_FILE_NAME, keyFileText(setup));
              done();
            }}
          >
            Download key file
          </Button>
          <Button
            onClick={() => {
              window.print();
              done();
            }}
          >
            Print sheet
          </Button>
          <Button variant="primary" disabled={!saved} onClick={onClose} title={saved ? undefined : 'Copy, download or print it first'}>
            I have saved it
          </Button>
        </>
      }
    >
      <div className="recovery-sheet" data-testid="recovery-sheet">
        <p className="recovery-sheet__title">DataGuardian recovery key</p>
        <p>
          This key opens every encrypted backup, on any machine, with the standard <code>age</code> tool. DataGuardian does not keep it:{' '}
          <strong>this is the only time it is shown.</strong> Keep it away from this computer — printed in a safe, or the file on another device.
        </p>
        <div className="recovery-sheet__key">
          <code className="recovery-sheet__identity" aria-label="Recovery key">
            {setup.recovery_identity}
          </code>
          <QrCode text={setup.recovery_identity} label="The recovery key as a QR code" />
        </div>
        <dl className="kv">
          <div className="kv__row">
            <dt>Its public key</dt>
            <dd className="mono">{setup.recovery_recipient}</dd>
          </div>
          <div className="kv__row">
            <dt>Created</dt>
            <dd>{dateTime(setup.created_at)}</dd>
          </div>
        </dl>
        <p className="recovery-sheet__heading">Restore by hand</p>
        <p>
          Save the key as <code>{KEY_FILE_NAME}</code> beside the backup’s files (one folder per backup, with its <code>manifest.json</code>), then:
        </p>
        <pre className="recovery-sheet__commands">{`# PostgreSQL (a .dump backup)
createdb newdb
cat backup.dump.zst.age.part-* | age -d -i ${KEY_FILE_NAME} | zstd -d > backup.dump
pg_restore --no-owner -d newdb backup.dump
# MySQL / MariaDB (.sql)
cat backup.sql.zst.age.part-* | age -d -i ${KEY_FILE_NAME} | zstd -d | mariadb newdb
# SQLite (.db)
cat backup.db.zst.age.part-* | age -d -i ${KEY_FILE_NAME} | zstd -d > restored.db
# A folder (.tar)
mkdir restored && cat backup.tar.zst.age.part-* | age -d -i ${KEY_FILE_NAME} | zstd -d | tar -x -C restored
# gzip backups (.gz): gzip -d instead of zstd -d; lz4 (.lz4): lz4 -d; none: leave it out.
# A backup in one file: age -d -i ${KEY_FILE_NAME} backup.dump.zst.age | zstd -d > backup.dump`}</pre>
      </div>
    </Modal>
  );
}
