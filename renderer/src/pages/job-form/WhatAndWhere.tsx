import { SelectField, TextField } from '../../components/fields.js';
import { Card } from '../../components/ui.js';
import { DATASOURCE_TYPE_LABELS } from '../../labels.js';
import { useStore } from '../../store.js';
import type { SectionProps } from './draft.js';
import { Storages } from './Storages.js';

/** The job's name, the datasource it backs up, and the storages it writes to. */
export function WhatAndWhere(props: SectionProps) {
  const { draft, set, bind, validation } = props;
  const datasources = useStore((s) => s.datasources.data) ?? [];
  const chosen = validation.errorFor('datasource_id');
  // Nothing chosen reads better as an instruction than as the schema's words for an empty id.
  const datasourceError = draft.datasource_id === '' ? (chosen ? 'Choose a datasource' : undefined) : chosen;

  return (
    <Card title="What and where">
      <div className="form-grid">
        <TextField id="job-name" label="Name" required placeholder="Nightly production backup" {...bind('name', 'name')} />
        <SelectField
          id="job-datasource"
          label="Datasource"
          required
          value={draft.datasource_id}
          placeholder={datasources.length ? 'Choose a datasource' : 'Add a datasource first'}
          options={datasources.map((d) => ({ value: d.id, label: `${d.name} (${DATASOURCE_TYPE_LABELS[d.type]})` }))}
          error={datasourceError}
          onChange={set('datasource_id', 'datasource_id')}
          onBlur={() => validation.touch('datasource_id')}
        />
        <Storages {...props} />
      </div>
    </Card>
  );
}
