import { useMemo, useState, type FormEvent } from 'react';
import { STORAGE_CONFIG, storageCreate, type StorageLocation } from '../../../shared/schemas/storage.js';
import { STORAGE_TYPES, type StorageType } from '../../../shared/schemas/enums.js';
import { api } from '../api.js';
import { ConnectionCard, ConnectionFailed, useConnectionTest } from '../components/connection.js';
import { useConnectionDraft } from '../components/connection-draft.js';
import { EditPage, type FormProps } from '../components/EditPage.js';
import { Checkbox, TextField } from '../components/fields.js';
import { FormActions, FormProblems, TypeCard, useSave } from '../components/form-parts.js';
import { Card, PageHeader } from '../components/ui.js';
import { initialValues, STORAGE_FIELDS, valuesFromConfig, type ConfigValues } from '../config-fields.js';
import { useValidation } from '../forms.js';
import { STORAGE_TYPE_ICONS, STORAGE_TYPE_LABELS } from '../labels.js';
import { useStore } from '../store.js';

interface Draft {
  type: StorageType;
  name: string;
  is_default: boolean;
  config: ConfigValues;
}

const getStorage = (id: string) => api.run('storages.get', { id });

export function StorageFormPage({ id }: { id?: string }) {
  return <EditPage id={id} get={getStorage} list={{ href: '#/storages', label: 'Storage' }} title="Edit storage" what="storage" form={StorageForm} />;
}

function StorageForm({ stored, back }: FormProps<StorageLocation>) {
  const editing = stored !== undefined;
  const isFirst = (useStore((s) => s.storages.data?.length) ?? 0) === 0;
  const test = useConnectionTest();
  const [failed, setFailed] = useState<string | null>(null);
  const { draft, setDraft, fields, config, configChanged, setConfig, chooseType } = useConnectionDraft<StorageType, Draft>(
    STORAGE_FIELDS,
    () =>
      stored
        ? { type: stored.type, name: stored.name, is_default: stored.is_default, config: valuesFromConfig(STORAGE_FIELDS[stored.type], stored.config) }
        : { type: 'local', name: '', is_default: false, config: initialValues(STORAGE_FIELDS.local) },
    () => {
      test.forget();
      setFailed(null);
    },
  );
  const payload = useMemo(() => ({ type: draft.type, name: draft.name, is_default: draft.is_default, config }), [draft, config]);
  const validation = useValidation(storageCreate, payload);
  const { saving, saveError, save } = useSave(validation, { resource: 'storages', list: '/storages', verb: editing ? 'Saved' : 'Added' });

  const testStorage = () =>
    test.run(validation, STORAGE_CONFIG[draft.type].safeParse(config).success, () =>
      api.call('storages.test', { type: draft.type, config, ...(stored ? { id: stored.id } : {}) }),
    );

  const submit = (saveAnyway: boolean) =>
    save(
      validation.parsed,
      (data) =>
        stored
          ? api.call('storages.update', {
              id: stored.id,
              name: draft.name,
              is_default: draft.is_default,
              ...(configChanged() ? { config } : {}),
              save_anyway: saveAnyway,
            })
          : api.call('storages.create', { ...data, save_anyway: saveAnyway }),
      (error) => {
        if (error.code !== 'connection_failed') return false;
        setFailed(error.message);
        return true;
      },
    );

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit(false);
  };

  return (
    <>
      <PageHeader
        back={back}
        title={editing ? `Edit ${stored.name}` : 'Add storage'}
        subtitle={editing ? STORAGE_TYPE_LABELS[stored.type] : 'Where backups are kept: a folder, an SFTP server or an S3-compatible bucket.'}
      />
      <form className="form" onSubmit={onSubmit} noValidate aria-label={editing ? 'Edit storage' : 'Add storage'}>
        {!editing && (
          <TypeCard
            name="storage-type"
            legend="Where should backups go?"
            value={draft.type}
            types={STORAGE_TYPES}
            labels={STORAGE_TYPE_LABELS}
            icons={STORAGE_TYPE_ICONS}
            onChange={chooseType}
          />
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
        <ConnectionCard
          type={draft.type}
          description={storageHelp(draft.type)}
          config={{ idPrefix: 'storage', pathPrefix: 'config', fields, values: draft.config, stored: stored?.config, validation, onChange: setConfig }}
          test={test}
          onTest={testStorage}
          button="Test storage"
          hint="Writes, reads back and deletes a small probe file."
        />

        <FormProblems errors={validation.formErrors(['name', 'type', 'is_default', ...fields.map((f) => `config.${f.key}`)])} saveError={saveError} />
        {failed && (
          <ConnectionFailed message={failed} note="It will show as unreachable until the test passes." busy={saving} onSaveAnyway={() => void submit(true)} />
        )}
        <FormActions cancelTo="/storages" busy={saving && !failed} submit={editing ? 'Save changes' : 'Save storage'} />
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
