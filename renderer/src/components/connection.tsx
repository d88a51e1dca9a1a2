import { gigabytes } from '../format.js';
import { AlertIcon } from './icons.js';
import { Button, StatusBadge } from './ui.js';

export interface TestOutcome {
  ok: boolean;
  /** A datasource test's status (ok, timeout, auth_failed, unreachable, error). */
  status?: string;
  latency_ms: number | null;
  message: string;
  available_space_gb?: number | null;
  host_key_fingerprint?: string | undefined;
}

/** The answer of a "Test connection", in place under the button. */
export function TestResult({ result }: { result: TestOutcome }) {
  const status = result.status ?? (result.ok ? 'ok' : 'error');
  return (
    <div className={`test-result ${result.ok ? 'test-result--ok' : 'test-result--fail'}`} role="status" aria-label="Connection test result">
      <div className="test-result__head">
        <StatusBadge status={status} label={result.ok ? 'OK' : undefined} />
        {result.latency_ms !== null && <span className="test-result__fact">{result.latency_ms} ms</span>}
        {result.available_space_gb !== undefined && result.available_space_gb !== null && (
          <span className="test-result__fact">{gigabytes(result.available_space_gb)} free</span>
        )}
      </div>
      {result.message && <p className="test-result__message">{result.message}</p>}
      {result.host_key_fingerprint && (
        <p className="test-result__message">
          Host key: <code>{result.host_key_fingerprint}</code>
        </p>
      )}
    </div>
  );
}

/** A save refused because the connection test failed: the reason, and the way past it. */
export function ConnectionFailed({ message, status, note, busy, onSaveAnyway }: { message: string; status?: string; note: string; busy: boolean; onSaveAnyway(): void }) {
  return (
    <div className="banner banner--warn" role="alert">
      <AlertIcon size={18} />
      <div className="banner__body">
        <strong>
          The connection test failed{status ? ` (${status.replace('_', ' ')})` : ''}, so nothing was saved.
        </strong>
        <div className="banner__text">{message}</div>
        <div className="banner__actions">
          <Button variant="secondary" busy={busy} onClick={onSaveAnyway}>
            Save anyway
          </Button>
          <span className="muted">{note}</span>
        </div>
      </div>
    </div>
  );
}
