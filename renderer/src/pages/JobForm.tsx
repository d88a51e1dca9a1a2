import { useMemo, useState, type FormEvent } from 'react';
import { jobCreate, type Job } from '../../../shared/schemas/job.js';
import { api } from '../api.js';
import { EditPage, type FormProps } from '../components/EditPage.js';
import { FormActions, FormProblems, useSave } from '../components/form-parts.js';
import { PageHeader } from '../components/ui.js';
import { useValidation } from '../forms.js';
import { useStore } from '../store.js';
import { BackupOptions } from './job-form/BackupOptions.js';
import { Drills } from './job-form/Drills.js';
import { draftFromJob, freshDraft, payloadOf, type Bind, type Draft, type SetDraft } from './job-form/draft.js';
import { Retention } from './job-form/Retention.js';
import { Schedule } from './job-form/Schedule.js';
import { WhatAndWhere } from './job-form/WhatAndWhere.js';

/** The schema paths the sections show errors at; any other problem is listed above the buttons. */
const SHOWN_IN_PLACE = [
  'name',
  'datasource_id',
  'storage_location_ids',
  'schedule_cron',
  'schedule_timezone',
  'catch_up',
  'max_retries',
  'retry_delay_minutes',
  'jitter_minutes',
  'retention_policy',
  'retention_policy.max_backups',
  'retention_policy.keep_daily',
  'retention_policy.keep_weekly',
  'retention_policy.keep_monthly',
  'retention_policy.keep_yearly',
  'retention_policy.min_keep',
  'backup_options.compression_level',
  'backup_options.parallel_jobs',
  'backup_options.max_file_size_mb',
  'drill_cron',
];

const getJob = (id: string) => api.run('jobs.get', { id });

export function JobFormPage({ id }: { id?: string }) {
  const datasources = useStore((s) => s.datasources.data);
  const storages = useStore((s) => s.storages.data);
  return (
    <EditPage
      id={id}
      get={getJob}
      list={{ href: '#/jobs', label: 'Backup jobs' }}
      title={id ? 'Edit backup job' : 'Add backup job'}
      what="job"
      // A new job starts from the only datasource and the default storage.
      waitingFor={datasources && storages ? undefined : 'datasources and storages'}
      form={JobForm}
    />
  );
}

function JobForm({ stored, back }: FormProps<Job>) {
  const editing = stored !== undefined;
  const datasources = useStore((s) => s.datasources.data) ?? [];
  const storages = useStore((s) => s.storages.data) ?? [];
  const [draft, setDraft] = useState<Draft>(() =>
    stored ? draftFromJob(stored) : freshDraft(storages.find((s) => s.is_default)?.id, datasources.length === 1 ? datasources[0]!.id : undefined),
  );
  const payload = useMemo(() => payloadOf(draft), [draft]);
  const validation = useValidation(jobCreate, payload);
  const { saving, saveError, save } = useSave(validation, { resource: 'jobs', list: '/jobs', verb: editing ? 'Saved' : 'Created' });

  const set: SetDraft = (key, path) => (value) => {
    if (path) validation.edited(path);
    setDraft((d) => ({ ...d, [key]: value }));
  };
  const bind: Bind = (key, path) => ({
    value: draft[key],
    error: validation.errorFor(path),
    onChange: set(key, path),
    onBlur: () => validation.touch(path),
  });

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void save(validation.parsed, () => (stored ? api.call('jobs.update', { ...payload, id: stored.id }) : api.call('jobs.create', payload)));
  };

  const sections = { draft, set, bind, validation };
  return (
    <>
      <PageHeader back={back} title={editing ? `Edit ${stored.name}` : 'Add backup job'} subtitle="What to back up, where to keep it, and when." />
      <form className="form" onSubmit={onSubmit} noValidate aria-label={editing ? 'Edit backup job' : 'Add backup job'}>
        <WhatAndWhere {...sections} />
        <Schedule {...sections} />
        <Retention {...sections} jobId={stored?.id} />
        <BackupOptions {...sections} />
        <Drills {...sections} />
        <FormProblems errors={validation.formErrors(SHOWN_IN_PLACE)} saveError={saveError} />
        <FormActions cancelTo="/jobs" busy={saving} submit={editing ? 'Save changes' : 'Save job'} />
      </form>
    </>
  );
}
