import { useEffect, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { STORAGE_CONFIG, storageCreate, type StorageLocation } from '../../../shared/schemas/storage.js';
import { STORAGE_TYPES, type StorageType } from '../../../shared/schemas/enums.js';
import { api, ApiError, errorMessage } from '../api.js';
import { ConfigFields } from '../components/ConfigFields.js';
import { ConnectionFailed, TestResult, type TestOutcome } from '../components/connection.js';
import { Checkbox, ChoiceCards, TextField } from '../components/fields.js';
import { ArrowLeftIcon } from '../components/icons.js';
import { Button, Card, ErrorBanner, Loading, PageHeader } from '../components/ui.js';
import { configFromValues, initialValues, STORAGE_FIELDS, valuesFromConfig, type ConfigValues } from '../config-fields.js';
import { useValidation } from '../forms.js';
import { STORAGE_TYPE_ICONS, STORAGE_TYPE_LABELS } from '../labels.js';
import { navigate } from '../router.js';
import { toast, useStore } from '../store.js';

interface Draft {
  type: StorageType;
  name: string;
  is_default: boolean;
  config: ConfigValues;
}

export function StorageFormPage({ id }: { id?: string }) {
  const [stored, setStored] = useState<StorageLocation | undefined>();
  const [loadError, setLoadError] = useState<string | null>(null);

  useEffect(() => {
    if (!id) return;
    api.run('storages.get', { id }).then(setStored, (e) => setLoadError(errorMessage(e)));
  }, [id]);

  const back = (
    <a className="back-link" href="#/storages">
      <ArrowLeftIcon size={16} /> Storage
    </a>
  );
  if (id && loadError) {
    return (
      <>
        <PageHeader title="Edit storage" back={back} />
        <ErrorBanner title="Could not open this storage">{loadError}</ErrorBanner>
      </>
    );
  }
  if (id && !stored) {
    return (
      <>
        <PageHeader title="Edit storage" back={back} />
        <Loading what="storage" />
      </>
    );
  }
  return <StorageForm key={stored?.id ?? 'new'} stored={stored} back={back} />;
}

function StorageForm({ stored, back }: { stored?: StorageLocation; back: ReactNode }) {
  const editing = stored !== undefined;
  const isFirst = (useStore((s) => s.storages.data?.length) ?? 0) === 0;
  const [draft, setDraft] = useState<Draft>(() =>
    stored
      ? { type: stored.type, name: stored.name, is_default: stored.is_default, config: valuesFromConfig(STORAGE_FIELDS[stored.type], stored.config) }
      : { type: 'local', name: '', is_default: false, config: initialValues(STORAGE_FIELDS.local) },
  );
  const fields = STORAGE_FIELDS[draft.type];
  const config = useMemo(() => configFromValues(fields, draft.config), [fields, draft.config]);
  const payload = useMemo(() => ({ type: draft.type, name: draft.name, is_default: draft.is_default, config }), [draft, config]);
  const validation = useValidation(storageCreate, payload);
  const [initialConfig] = useState(() => JSON.stringify(config));

  const [testing, setTesting] = useState(false);
  const [test, setTest] = useState<TestOutcome | null>(null);
  const [saving, setSaving] = useState(false);
  const [failed, setFailed] = useState<string | null>(null);
  const [saveError, setSaveError] = useState<string | null>(null);

  const setConfig = (key: string, value: string | boolean) => {
    setDraft((d) => ({ ...d, config: { ...d.config, [key]: value } }));
    setTest(null);
    setFailed(null);
  };
  const chooseType = (type: StorageType) => {
    setDraft((d) => ({ ...d, type, config: initialValues(STORAGE_FIELDS[type], d.config, STORAGE_FIELDS[d.type]) }));
    setTest(null);
    setFailed(null);
  };

  async function testStorage() {
    if (!STORAGE_CONFIG[draft.type].safeParse(config).success) {
      validation.submit();
      return;
    }
    setTesting(true);
    setTest(null);
    const result = await api.call('storages.test', { type: draft.type, config, ...(stored ? { id: stored.id } : {}) });
    setTesting(false);
    if (result.ok) setTest(result.data);
    else {
      validation.serverError(new ApiError(result.error));
      setTest({ ok: false, latency_ms: null, message: result.error.message });
    }
  }

  async function save(saveAnyway = false) {
    validation.submit();
    setSaveError(null);
    const parsed = validation.parsed;
    if (!parsed.success) return;
    setSaving(true);
    const configChanged = JSON.stringify(config) !== initialConfig;
    const result = stored
      ? await api.call('storages.update', {
          id: stored.id,
          name: draft.name,
          is_default: draft.is_default,
          ...(configChanged ? { config } : {}),
          save_anyway: saveAnyway,
        })
      : await api.call('storages.create', { ...parsed.data, save_anyway: saveAnyway });
    setSaving(false);
    if (result.ok) {
      toast('success', editing ? `Saved “${result.data.name}”` : `Added “${result.data.name}”`);
      void useStore.getState().load('storages');
      navigate('/storages');
      return;
    }
    if (result.error.code === 'connection_failed') return setFailed(result.error.message);
    validation.serverError(new ApiError(result.error));
    setSaveError(result.error.message);
  }

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void save(false);
  };
  const otherErrors = validation.formErrors(['name', 'type', 'is_default', ...fields.map((f) => `config.${f.key}`)]);

  return (
    <>
      <PageHeader
        back={back}
        title={editing ? `Edit ${stored.name}` : 'Add storage'}
        subtitle={editing ? STORAGE_TYPE_LABELS[stored.type] : 'Where backups are kept: a folder, an SFTP server or an S3-compatible bucket.'}
      />
      <form className="form" onSubmit={onSubmit} noValidate aria-label={editing ? 'Edit storage' : 'Add storage'}>
        {!editing && (
          <Card title="Type">
            <ChoiceCards
              name="storage-type"
              legend="Where should backups go?"
              value={draft.type}
              onChange={chooseType}
              choices={STORAGE_TYPES.map((t) => ({ value: t, label: STORAGE_TYPE_LABELS[t], icon: STORAGE_TYPE_ICONS[t] }))}
            />
          </Card>
        )}
        <Card title="Details">
          <div className="form-grid">
            <TextField
              id="storage-name"
              label="Name"
              required
              value={draft.name}
              placeholder="NAS backups"
              error={validation.errorFor('name')}
              onChange={(name) => {
                validation.edited('name');
                setDraft((d) => ({ ...d, name }));
              }}
              onBlur={() => validation.touch('name')}
            />
            <div className="form-grid__wide">
              <Checkbox
                id="storage-default"
                label="Default storage"
                hint={isFirst && !editing ? 'The first storage becomes the default anyway.' : 'New backup jobs start with this storage selected.'}
                checked={draft.is_default}
                onChange={(is_default) => setDraft((d) => ({ ...d, is_default }))}
              />
            </div>
          </div>
        </Card>
        <Card title="Connection" description={storageHelp(draft.type)}>
          <ConfigFields
            idPrefix="storage"
            pathPrefix="config"
            fields={fields}
            values={draft.config}
            stored={stored?.config}
            validation={validation}
            onChange={setConfig}
          />
          <div className="test-row">
            <Button onClick={testStorage} busy={testing}>
              {testing ? 'Testing…' : 'Test storage'}
            </Button>
            {!test && !testing && <span className="muted">Writes, reads back and deletes a small probe file.</span>}
          </div>
          {test && <TestResult result={test} />}
        </Card>

        {otherErrors.length > 0 && (
          <ErrorBanner title="Please fix these first">
            <ul className="plain-list">
              {otherErrors.map((m) => (
                <li key={m}>{m}</li>
              ))}
            </ul>
          </ErrorBanner>
        )}
        {saveError && <ErrorBanner title="Could not save">{saveError}</ErrorBanner>}
        {failed && (
          <ConnectionFailed message={failed} note="It will show as unreachable until the test passes." busy={saving} onSaveAnyway={() => void save(true)} />
        )}
        <div className="form-actions">
          <Button onClick={() => navigate('/storages')}>Cancel</Button>
          <Button type="submit" variant="primary" busy={saving && !failed}>
            {editing ? 'Save changes' : 'Save storage'}
          </Button>
        </div>
      </form>
    </>
  );
}

function storageHelp(type: StorageType): string {
  switch (type) {
    case 'local':
      return 'A folder on this machine or a mounted network share. DataGuardian needs write access.';
    case 'ssh':
      return 'Any server with SSH. Use a password or a private key; both are encrypted at rest.';
    case 's3':
      return 'Amazon S3 or any S3-compatible service. Large backups are sent as multipart uploads.';
    case 'minio':
      return 'A MinIO server, self-hosted or on your NAS.';
    case 'backblaze':
      return 'Backblaze B2 through its S3-compatible API.';
  }
}
