import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { CONNECTION_CONFIG, datasourceCreate, type Datasource } from '../../../shared/schemas/datasource.js';
import { DATASOURCE_TYPES, type DatasourceType } from '../../../shared/schemas/enums.js';
import { api, ApiError, errorMessage } from '../api.js';
import { ConfigFields } from '../components/ConfigFields.js';
import { ConnectionFailed, TestResult, type TestOutcome } from '../components/connection.js';
import { Checkbox, ChipsField, ChoiceCards, TextField } from '../components/fields.js';
import { ArrowLeftIcon } from '../components/icons.js';
import { Button, Card, ErrorBanner, Loading, PageHeader } from '../components/ui.js';
import { configFromValues, DATASOURCE_FIELDS, initialValues, valuesFromConfig, type ConfigValues } from '../config-fields.js';
import { useValidation } from '../forms.js';
import { DATASOURCE_TYPE_ICONS, DATASOURCE_TYPE_LABELS } from '../labels.js';
import { navigate } from '../router.js';
import { toast, useStore } from '../store.js';

interface Draft {
  type: DatasourceType;
  name: string;
  tags: string[];
  enabled: boolean;
  config: ConfigValues;
}

const freshDraft = (): Draft => ({
  type: 'postgres',
  name: '',
  tags: [],
  enabled: true,
  config: initialValues(DATASOURCE_FIELDS.postgres),
});

export function DatasourceFormPage({ id }: { id?: string }) {
  const [stored, setStored] = useState<Datasource | undefined>();
  const [loadError, setLoadError] = useState<string | null>(null);

  useEffect(() => {
    if (!id) return;
    api.run('datasources.get', { id }).then(setStored, (e) => setLoadError(errorMessage(e)));
  }, [id]);

  const back = (
    <a className="back-link" href="#/datasources">
      <ArrowLeftIcon size={16} /> Datasources
    </a>
  );
  if (id && loadError) {
    return (
      <>
        <PageHeader title="Edit datasource" back={back} />
        <ErrorBanner title="Could not open this datasource">{loadError}</ErrorBanner>
      </>
    );
  }
  if (id && !stored) {
    return (
      <>
        <PageHeader title="Edit datasource" back={back} />
        <Loading what="datasource" />
      </>
    );
  }
  return <DatasourceForm key={stored?.id ?? 'new'} stored={stored} back={back} />;
}

function DatasourceForm({ stored, back }: { stored?: Datasource; back: React.ReactNode }) {
  const editing = stored !== undefined;
  const [draft, setDraft] = useState<Draft>(() =>
    stored
      ? {
          type: stored.type,
          name: stored.name,
          tags: stored.tags,
          enabled: stored.enabled,
          config: valuesFromConfig(DATASOURCE_FIELDS[stored.type], stored.connection_config),
        }
      : freshDraft(),
  );
  const fields = DATASOURCE_FIELDS[draft.type];
  const connectionConfig = useMemo(() => configFromValues(fields, draft.config), [fields, draft.config]);
  const payload = useMemo(
    () => ({ type: draft.type, name: draft.name, tags: draft.tags, enabled: draft.enabled, connection_config: connectionConfig }),
    [draft, connectionConfig],
  );
  const validation = useValidation(datasourceCreate, payload);
  // Editing re-tests the connection only when the connection itself changed.
  const [initialConfig] = useState(() => JSON.stringify(connectionConfig));

  const [testing, setTesting] = useState(false);
  const [test, setTest] = useState<TestOutcome | null>(null);
  const [saving, setSaving] = useState(false);
  const [failed, setFailed] = useState<{ message: string; status?: string } | null>(null);
  const [saveError, setSaveError] = useState<string | null>(null);

  const update = (patch: Partial<Draft>) => {
    setDraft((d) => ({ ...d, ...patch }));
    setFailed(null);
  };
  const setConfig = (key: string, value: string | boolean) => {
    setDraft((d) => ({ ...d, config: { ...d.config, [key]: value } }));
    setTest(null);
    setFailed(null);
  };
  const chooseType = (type: DatasourceType) => {
    setDraft((d) => ({ ...d, type, config: initialValues(DATASOURCE_FIELDS[type], d.config, DATASOURCE_FIELDS[d.type]) }));
    setTest(null);
    setFailed(null);
  };

  async function testConnection() {
    const config = CONNECTION_CONFIG[draft.type].safeParse(connectionConfig);
    if (!config.success) {
      validation.submit();
      return;
    }
    setTesting(true);
    setTest(null);
    const result = await api.call('datasources.test', {
      type: draft.type,
      connection_config: connectionConfig,
      ...(stored ? { id: stored.id } : {}),
    });
    setTesting(false);
    if (result.ok) setTest(result.data);
    else {
      validation.serverError(new ApiError(result.error));
      setTest({ ok: false, status: 'error', latency_ms: null, message: result.error.message });
    }
  }

  async function save(saveAnyway = false) {
    validation.submit();
    setSaveError(null);
    const parsed = validation.parsed;
    if (!parsed.success) return;
    setSaving(true);
    const configChanged = JSON.stringify(connectionConfig) !== initialConfig;
    const result = stored
      ? await api.call('datasources.update', {
          id: stored.id,
          name: draft.name,
          tags: draft.tags,
          enabled: draft.enabled,
          ...(configChanged ? { connection_config: connectionConfig } : {}),
          save_anyway: saveAnyway,
        })
      : await api.call('datasources.create', { ...parsed.data, save_anyway: saveAnyway });
    setSaving(false);
    if (result.ok) {
      toast('success', editing ? `Saved “${result.data.name}”` : `Added “${result.data.name}”`);
      void useStore.getState().load('datasources');
      navigate('/datasources');
      return;
    }
    const { error } = result;
    if (error.code === 'connection_failed') {
      const status = typeof error.details?.status === 'string' ? error.details.status : undefined;
      setFailed({ message: error.message, ...(status ? { status } : {}) });
      return;
    }
    validation.serverError(new ApiError(error));
    setSaveError(error.message);
  }

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void save(false);
  };

  const known = ['name', 'tags', 'enabled', 'type', ...fields.map((f) => `connection_config.${f.key}`)];
  const otherErrors = validation.formErrors(known);

  return (
    <>
      <PageHeader
        back={back}
        title={editing ? `Edit ${stored.name}` : 'Add datasource'}
        subtitle={editing ? `${DATASOURCE_TYPE_LABELS[stored.type]} datasource` : 'A database or folder to back up.'}
      />
      <form className="form" onSubmit={onSubmit} noValidate aria-label={editing ? 'Edit datasource' : 'Add datasource'}>
        {!editing && (
          <Card title="Type">
            <ChoiceCards
              name="datasource-type"
              legend="What do you want to back up?"
              value={draft.type}
              onChange={chooseType}
              choices={DATASOURCE_TYPES.map((t) => ({ value: t, label: DATASOURCE_TYPE_LABELS[t], icon: DATASOURCE_TYPE_ICONS[t] }))}
            />
          </Card>
        )}

        <Card title="Details">
          <div className="form-grid">
            <TextField
              id="datasource-name"
              label="Name"
              required
              value={draft.name}
              placeholder="Production database"
              error={validation.errorFor('name')}
              onChange={(name) => {
                validation.edited('name');
                update({ name });
              }}
              onBlur={() => validation.touch('name')}
            />
            <ChipsField
              id="datasource-tags"
              label="Tags"
              values={draft.tags}
              placeholder="Type a tag and press Enter"
              error={validation.errorFor('tags')}
              hint="Group datasources, e.g. production or billing."
              onChange={(tags) => update({ tags })}
            />
            <div className="form-grid__wide">
              <Checkbox
                id="datasource-enabled"
                label="Enabled"
                hint="Disabled datasources are not health-checked and their jobs do not run."
                checked={draft.enabled}
                onChange={(enabled) => update({ enabled })}
              />
            </div>
          </div>
        </Card>

        <Card title="Connection" description={connectionHelp(draft.type)}>
          <ConfigFields
            idPrefix="datasource"
            pathPrefix="connection_config"
            fields={fields}
            values={draft.config}
            stored={stored?.connection_config}
            validation={validation}
            onChange={setConfig}
          />
          <div className="test-row">
            <Button onClick={testConnection} busy={testing}>
              {testing ? 'Testing…' : 'Test connection'}
            </Button>
            {!test && !testing && <span className="muted">Checks the connection without saving anything.</span>}
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
          <ConnectionFailed
            message={failed.message}
            {...(failed.status ? { status: failed.status } : {})}
            note="It will show as critical until it connects."
            busy={saving}
            onSaveAnyway={() => void save(true)}
          />
        )}

        <div className="form-actions">
          <Button onClick={() => navigate('/datasources')}>Cancel</Button>
          <Button type="submit" variant="primary" busy={saving && !failed}>
            {editing ? 'Save changes' : 'Save datasource'}
          </Button>
        </div>
      </form>
    </>
  );
}

function connectionHelp(type: DatasourceType): string {
  if (type === 'sqlite') return 'The SQLite file on this machine. It is copied with SQLite’s online backup, so the app may keep writing.';
  if (type === 'files') return 'A folder on this machine, archived as a tar file.';
  return 'The user needs read access to every table. The password is encrypted at rest and never shown again.';
}
