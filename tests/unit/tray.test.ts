import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trayModel, TRAY_MAX_JOBS, type TrayInput, type TrayMenuItem, type TrayState } from '../../electron/core/tray/model.js';

// The tray as one pure function: each situation below is what the core reads, and the row says the
// icon state, the tooltip and the menu the shell must show. No Electron is needed to check any of it.
const NOW = new Date('2026-03-10T14:30:00Z'); // a Tuesday

const calm: TrayInput = {
  jobs: [
    { id: 'j-shop', name: 'Shop nightly' },
    { id: 'j-crm', name: 'CRM hourly' },
  ],
  running: [],
  datasources: [
    { name: 'Shop', status: 'healthy', enabled: true },
    { name: 'CRM', status: 'healthy', enabled: true },
  ],
  storages: [{ name: 'NAS', status: 'healthy' }],
  unread: { critical: 0, warning: 0, info: 0 },
  paused: false,
  lastBackupAt: new Date('2026-03-10T14:26:00Z'),
  nextRunAt: new Date('2026-03-10T15:00:00Z'),
  startAtLogin: false,
  now: NOW,
  timeZone: 'UTC',
};

const situations: { name: string; input: Partial<TrayInput>; state: TrayState; tooltip: string }[] = [
  { name: 'all calm', input: {}, state: 'idle', tooltip: 'Last backup 4 min ago · next 15:00' },
  {
    name: 'a backup running',
    input: { running: [{ job_id: 'j-shop', job_name: 'Shop nightly' }] },
    state: 'running',
    tooltip: 'Running Shop nightly\nLast backup 4 min ago · next 15:00',
  },
  {
    name: 'two running, one of a deleted job',
    input: {
      running: [
        { job_id: 'j-shop', job_name: 'Shop nightly' },
        { job_id: null, job_name: null },
      ],
    },
    state: 'running',
    tooltip: '2 running\nLast backup 4 min ago · next 15:00',
  },
  {
    name: 'schedules paused',
    input: { paused: true, nextRunAt: null },
    state: 'paused',
    tooltip: 'Last backup 4 min ago · schedules paused',
  },
  {
    name: 'paused, but a manual backup runs',
    input: { paused: true, nextRunAt: null, running: [{ job_id: 'j-crm', job_name: 'CRM hourly' }] },
    state: 'running',
    tooltip: 'Running CRM hourly\nLast backup 4 min ago · schedules paused',
  },
  {
    name: 'a slow datasource',
    input: { datasources: [{ name: 'Shop', status: 'warning', enabled: true }] },
    state: 'warning',
    tooltip: 'Shop is slow\nLast backup 4 min ago · next 15:00',
  },
  {
    name: 'a full storage and an unread warning, while a backup runs',
    input: {
      storages: [{ name: 'NAS', status: 'full' }],
      unread: { critical: 0, warning: 1, info: 3 },
      running: [{ job_id: 'j-shop', job_name: 'Shop nightly' }],
    },
    state: 'warning',
    tooltip: 'NAS is full and 1 unread warning\nLast backup 4 min ago · next 15:00',
  },
  {
    name: 'a datasource down',
    input: { datasources: [{ name: 'Shop', status: 'critical', enabled: true }] },
    state: 'error',
    tooltip: 'Shop is down\nLast backup 4 min ago · next 15:00',
  },
  {
    name: 'a disabled datasource that is down is not watched',
    input: { datasources: [{ name: 'Old', status: 'critical', enabled: false }] },
    state: 'idle',
    tooltip: 'Last backup 4 min ago · next 15:00',
  },
  {
    name: 'an unread failure beats a warning and a pause',
    input: { unread: { critical: 2, warning: 1, info: 0 }, paused: true, nextRunAt: null, datasources: [{ name: 'Shop', status: 'warning', enabled: true }] },
    state: 'error',
    tooltip: '2 unread failures\nLast backup 4 min ago · schedules paused',
  },
  {
    name: 'many problems at once are counted',
    input: {
      datasources: [
        { name: 'Shop', status: 'critical', enabled: true },
        { name: 'CRM', status: 'critical', enabled: true },
      ],
      storages: [{ name: 'S3', status: 'unreachable' }],
      unread: { critical: 1, warning: 0, info: 0 },
    },
    state: 'error',
    tooltip: 'Shop is down, CRM is down and 2 more\nLast backup 4 min ago · next 15:00',
  },
  {
    name: 'a new install: no job, no backup',
    input: { jobs: [], datasources: [], storages: [], lastBackupAt: null, nextRunAt: null },
    state: 'idle',
    tooltip: 'No backup yet · nothing scheduled',
  },
  {
    name: 'last backup hours ago, next tomorrow',
    input: { lastBackupAt: new Date('2026-03-10T11:00:00Z'), nextRunAt: new Date('2026-03-11T03:00:00Z') },
    state: 'idle',
    tooltip: 'Last backup 3 h ago · next Wed 03:00',
  },
  {
    name: 'last backup days ago, next in two weeks',
    input: { lastBackupAt: new Date('2026-03-08T09:00:00Z'), nextRunAt: new Date('2026-03-24T03:00:00Z') },
    state: 'idle',
    tooltip: 'Last backup 2 days ago · next 24 Mar 03:00',
  },
  {
    name: 'a backup that just finished, times in the user\u2019s zone',
    input: { lastBackupAt: new Date('2026-03-10T14:29:40Z'), nextRunAt: new Date('2026-03-10T22:00:00Z'), timeZone: 'Europe/Berlin' },
    state: 'idle',
    // 22:00 UTC is 23:00 in Berlin, still the same day there.
    tooltip: 'Last backup just now · next 23:00',
  },
  {
    name: 'long names are cut to fit a Windows tooltip (127 characters), the times are kept',
    input: { datasources: [{ name: `Warehouse ${'x'.repeat(150)}`, status: 'critical', enabled: true }] },
    state: 'error',
    tooltip: `Warehouse ${'x'.repeat(81)}…\nLast backup 4 min ago · next 15:00`,
  },
];

describe('tray model: icon state and tooltip', () => {
  for (const s of situations) {
    it(s.name, () => {
      const model = trayModel({ ...calm, ...s.input });
      assert.equal(model.state, s.state);
      assert.equal(model.tooltip, s.tooltip);
      assert.ok(model.tooltip.length <= 127, `${model.tooltip.length} characters`);
    });
  }
});

const labels = (menu: TrayMenuItem[]) => menu.map((i) => (i.kind === 'separator' ? '---' : i.label));

describe('tray model: menu', () => {
  it('Open, a Back up now per job (by name), Pause, Notifications, Start at login, Quit', () => {
    const { menu } = trayModel(calm);
    assert.deepEqual(labels(menu), [
      'Open DataGuardian',
      '---',
      'Back up now',
      'Pause schedules',
      'Notifications',
      '---',
      'Start at login',
      'Quit DataGuardian',
    ]);
    const backUp = menu.find((i) => i.kind === 'backUpNow');
    assert.deepEqual(backUp?.kind === 'backUpNow' && backUp.jobs, [
      { jobId: 'j-crm', label: 'CRM hourly', enabled: true },
      { jobId: 'j-shop', label: 'Shop nightly', enabled: true },
    ]);
    assert.deepEqual(
      menu.find((i) => i.kind === 'startAtLogin'),
      { kind: 'startAtLogin', label: 'Start at login', checked: false },
    );
  });

  it('a running job cannot be started twice; paused offers Resume; unread are counted; the login item is checked', () => {
    const { menu } = trayModel({
      ...calm,
      running: [{ job_id: 'j-shop', job_name: 'Shop nightly' }],
      paused: true,
      unread: { critical: 1, warning: 2, info: 4 },
      startAtLogin: true,
    });
    const backUp = menu.find((i) => i.kind === 'backUpNow');
    assert.deepEqual(backUp?.kind === 'backUpNow' && backUp.jobs[1], { jobId: 'j-shop', label: 'Shop nightly (running)', enabled: false });
    assert.ok(menu.some((i) => i.kind === 'resume' && i.label === 'Resume schedules'));
    assert.ok(!menu.some((i) => i.kind === 'pause'));
    assert.ok(menu.some((i) => i.kind === 'notifications' && i.label === 'Notifications (7 unread)'));
    assert.ok(menu.some((i) => i.kind === 'startAtLogin' && i.checked));
  });

  it('no job: no Back up now', () => {
    assert.ok(!trayModel({ ...calm, jobs: [] }).menu.some((i) => i.kind === 'backUpNow'));
  });

  it(`more than ${TRAY_MAX_JOBS} jobs: the first ${TRAY_MAX_JOBS} by name, then one item for all of them`, () => {
    const jobs = Array.from({ length: 13 }, (_, n) => ({ id: `j${n}`, name: `Job ${String(n).padStart(2, '0')}` })).reverse();
    const { menu } = trayModel({ ...calm, jobs });
    const backUp = menu.find((i) => i.kind === 'backUpNow');
    assert.deepEqual(
      backUp?.kind === 'backUpNow' && backUp.jobs.map((j) => j.label),
      Array.from({ length: TRAY_MAX_JOBS }, (_, n) => `Job ${String(n).padStart(2, '0')}`),
    );
    assert.ok(menu.some((i) => i.kind === 'allJobs' && i.label === 'All 13 jobs…'));
  });
});
