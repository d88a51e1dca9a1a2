import { useMemo, useState, type FormEvent } from 'react';
import { CONNECTION_CONFIG, datasourceCreate, type Datasource } from '../../../shared/schemas/datasource.js';
import { DATASOURCE_TYPES, type DatasourceType } from '../../../shared/schemas/enums.js';
import { api } from '../api.js';
import { ConnectionCard, ConnectionFailed, useConnectionTest } from '../components/connection.js';
import { useConnectionDraft } from '../components/connection-draft.js';
import { EditPage, type FormProps } from '../components/EditPage.js';
import { Checkbox, ChipsField, TextField } from '../components/fields.js';
import { FormActions, FormProblems, TypeCard, useSave } from '../components/form-parts.js';
import { ServerDatabasesCard } from '../components/server-databases.js';
import { Card, PageHeader } from '../components/ui.js';
import { DATASOURCE_FIELDS, initialValues, valuesFromConfig, type ConfigValues } from '../config-fields.js';
import { useValidation } from '../forms.js';
import { DATASOURCE_TYPE_ICONS, DATASOURCE_TYPE_LABELS } from '../labels.js';

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

const getDatasource = (id: string) => api.run('datasources.get', { id });

export function DatasourceFormPage({ id }: { id?: string }) {
  return (
    <EditPage
      id={id}
      get={getDatasource}
      list={{ href: '#/datasources', label: 'Datasources' }}
      title="Edit datasource"
      what="datasource"
      form={DatasourceForm}
    />
  );
}

function DatasourceForm({ stored, back }: FormProps<Datasource>) {
  const editing = stored !== undefined;
  const test = useConnectionTest();
  const [failed, setFailed] = useState<{ message: string; status?: string } | null>(null);
  const {
    draft,
    setDraft,
    fields,
    config: connectionConfig,
    configChanged,
    setConfig,
    chooseType,
  } = useConnectionDraft<DatasourceType, Draft>(
    DATASOURCE_FIELDS,
    () =>
      stored
        ? {
            type: stored.type,
            name: stored.name,
            tags: stored.tags,
            enabled: stored.enabled,
            config: valuesFromConfig(DATASOURCE_FIELDS[stored.type], stored.connection_config),
          }
        : freshDraft(),
    () => {
      test.forget();
      setFailed(null);
    },
  );
  const payload = useMemo(
    () => ({ type: draft.type, name: draft.name, tags: draft.tags, enabled: draft.enabled, connection_config: connectionConfig }),
    [draft, connectionConfig],
  );
  const validation = useValidation(datasourceCreate, payload);
  const { saving, saveError, save } = useSave(validation, { resource: 'datasources', list: '/datasources', verb: editing ? 'Saved' : 'Added' });

  const update = (patch: Partial<Draft>) => {
    setDraft((d) => ({ ...d, ...patch }));
    setFailed(null);
  };

  const testConnection = () =>
    test.run(validation, CONNECTION_CONFIG[draft.type].safeParse(connectionConfig).success, () =>
      api.call('datasources.test', { type: draft.type, connection_config: connectionConfig, ...(stored ? { id: stored.id } : {}) }),
    );

  const submit = (saveAnyway: boolean) =>
    save(
      validation.parsed,
      (data) =>
        stored
          ? api.call('datasources.update', {
              id: stored.id,
              name: draft.name,
              tags: draft.tags,
              enabled: draft.enabled,
              ...(configChanged() ? { connection_config: connectionConfig } : {}),
              save_anyway: saveAnyway,
            })
          : api.call('datasources.create', { ...data, save_anyway: saveAnyway }),
      (error) => {
        if (error.code !== 'connection_failed') return false;
        const status = typeof error.details?.status === 'string' ? error.details.status : undefined;
        setFailed({ message: error.message, ...(status ? { status } : {}) });
        return true;
      },
    );

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit(false);
  };

  const known = ['name', 'tags', 'enabled', 'type', ...fields.map((f) => `connection_config.${f.key}`)];

  return (
    <>
      <PageHeader
        back={back}
        title={editing ? `Edit ${stored.name}` : 'Add datasource'}
        subtitle={editing ? `${DATASOURCE_TYPE_LABELS[stored.type]} datasource` : 'A database or folder to back up.'}
      />
      <form className="form" onSubmit={onSubmit} noValidate aria-label={editing ? 'Edit datasource' : 'Add datasource'}>
        {!editing && (
          <TypeCard
            name="datasource-type"
            legend="What do you want to back up?"
            value={draft.type}
            types={DATASOURCE_TYPES}
            labels={DATASOURCE_TYPE_LABELS}
            icons={DATASOURCE_TYPE_ICONS}
            onChange={chooseType}
          />
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

        <ConnectionCard
          type={draft.type}
          description={connectionHelp(draft.type)}
          config={{
            idPrefix: 'datasource',
            pathPrefix: 'connection_config',
            fields,
            values: draft.config,
            stored: stored?.connection_config,
            validation,
            onChange: setConfig,
          }}
          test={test}
          onTest={testConnection}
          button="Test connection"
          hint="Checks the connection without saving anything."
        />

        {draft.config.all_databases === true && <ServerDatabasesCard type={draft.type} config={connectionConfig} {...(stored ? { id: stored.id } : {})} />}

        <FormProblems errors={validation.formErrors(known)} saveError={saveError} />
        {failed && (
          <ConnectionFailed
            message={failed.message}
            {...(failed.status ? { status: failed.status } : {})}
            note="It will show as warning, and as critical once three checks in a row have failed, until it connects."
            busy={saving}
            onSaveAnyway={() => void submit(true)}
          />
        )}

        <FormActions cancelTo="/datasources" busy={saving && !failed} submit={editing ? 'Save changes' : 'Save datasource'} />
      </form>
    </>
  );
}

function connectionHelp(type: DatasourceType): string {
  if (type === 'sqlite') return 'The SQLite file on this machine. It is copied with SQLite’s online backup, so the app may keep writing.';
  if (type === 'files') return 'A folder on this machine, archived as a tar file.';
  return 'The user needs read access to every table. The password is encrypted at rest and never shown again.';
}
