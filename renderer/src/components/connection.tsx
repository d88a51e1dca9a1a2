import { useState, type ComponentProps } from 'react';
import type { Result } from '../../../shared/errors.js';
import { secretsToRetype } from '../../../shared/secrets.js';
import { ApiError } from '../api.js';
import { gigabytes } from '../../../shared/format.js';
import { isFolder } from '../../../shared/words.js';
import type { Validation } from '../forms.js';
import { ConfigFields } from './ConfigFields.js';
import { AlertIcon } from './icons.js';
import { Button, Card, StatusBadge } from './ui.js';

interface TestOutcome {
  ok: boolean;
  /** A datasource test's status (ok, timeout, auth_failed, unreachable, error). */
  status?: string;
  latency_ms: number | null;
  message: string;
  available_space_gb?: number | null;
  host_key_fingerprint?: string | undefined;
}

/** The answer of a "Test connection", in place under the button. */
function TestResult({ result, type }: { result: TestOutcome; type: string }) {
  const status = result.status ?? (result.ok ? 'ok' : 'error');
  return (
    <div className={`test-result ${result.ok ? 'test-result--ok' : 'test-result--fail'}`} role="status" aria-label="Connection test result">
      <div className="test-result__head">
        <StatusBadge status={status} label={result.ok ? 'OK' : undefined} />
        {/* A folder's test reads it and says what it holds: its time is no latency. */}
        {result.latency_ms !== null && !isFolder(type) && <span className="test-result__fact">{result.latency_ms} ms</span>}
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
export function ConnectionFailed({
  message,
  status,
  note,
  busy,
  onSaveAnyway,
}: {
  message: string;
  status?: string;
  note: string;
  busy: boolean;
  onSaveAnyway(): void;
}) {
  return (
    <div className="banner banner--warn" role="alert">
      <AlertIcon size={18} />
      <div className="banner__body">
        <strong>The connection test failed{status ? ` (${status.replace('_', ' ')})` : ''}, so nothing was saved.</strong>
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

/**
 * "Test connection" for a form: an incomplete connection is not sent (its errors show instead); a
 * refusal shows on its fields and as the result.
 */
export function useConnectionTest() {
  const [testing, setTesting] = useState(false);
  const [result, setResult] = useState<TestOutcome | null>(null);

  async function run(validation: Pick<Validation, 'submit' | 'serverError'>, complete: boolean, call: () => Promise<Result<TestOutcome>>) {
    if (!complete) {
      validation.submit();
      return;
    }
    setTesting(true);
    setResult(null);
    const answer = await call();
    setTesting(false);
    if (answer.ok) setResult(answer.data);
    else {
      validation.serverError(new ApiError(answer.error));
      setResult({ ok: false, latency_ms: null, message: answer.error.message });
    }
  }

  return { testing, result, run, forget: () => setResult(null) };
}

type ConnectionTest = ReturnType<typeof useConnectionTest>;

/**
 * When an edit points a saved connection at another host or user, the stored secrets stay behind
 * (the core does not send them there): the fields stop showing them as saved, and a note says why.
 */
function withoutWithheld(type: string, config: ComponentProps<typeof ConfigFields>) {
  const retype = secretsToRetype(type, config.values, config.stored);
  if (retype.length === 0) return { config, note: null };
  const stored = Object.fromEntries(Object.entries(config.stored ?? {}).filter(([key]) => !retype.some((secret) => key === `${secret}_set`)));
  const names = retype.map((key) => (config.fields.find((f) => f.key === key)?.label ?? key).toLowerCase()).join(' and ');
  const plural = retype.length > 1;
  return { config: { ...config, stored }, note: `The saved ${names} ${plural ? 'are' : 'is'} not sent to a new host: type ${plural ? 'them' : 'it'} again.` };
}

/** The connection settings of a datasource or storage, with the button that tries them. */
export function ConnectionCard({
  type,
  description,
  config,
  test,
  onTest,
  button,
  hint,
}: {
  /** The datasource or storage type: which fields say where the connection goes. */
  type: string;
  description: string;
  config: ComponentProps<typeof ConfigFields>;
  test: ConnectionTest;
  onTest(): void;
  button: string;
  /** What the test does, until it has run. */
  hint: string;
}) {
  const shown = withoutWithheld(type, config);
  return (
    <Card title="Connection" description={description}>
      <ConfigFields {...shown.config} />
      {shown.note && (
        <p className="field__hint" role="note">
          {shown.note}
        </p>
      )}
      <div className="test-row">
        <Button onClick={onTest} busy={test.testing}>
          {test.testing ? 'Testing…' : button}
        </Button>
        {!test.result && !test.testing && <span className="muted">{hint}</span>}
      </div>
      {test.result && <TestResult result={test.result} type={type} />}
    </Card>
  );
}
