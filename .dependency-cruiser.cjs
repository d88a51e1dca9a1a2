// The layering rules of DataGuardian, checked by `npm run lint` (dependency-cruiser).
//
// electron/core is a stack of layers whose imports point one way, down:
//
//   app.ts                      composition root: may import everything in core
//   services/                   the use cases the UI calls
//   scheduler/  health/         timers and watchers that start executions and checks
//   executions/                 one run of a backup or a restore, from queue to report
//   catalog/    notify/         what backups exist where; the notification inbox
//   tray/                       the desktop tray as data (state, tooltip, menu); reads db only
//   backup/     restore/        the pure pipelines: stream, compress, split, hash / fetch, verify, import
//   engines/    storage/        database tools; disks, S3, SFTP
//   db/                         the app's own database (entities, migrations, data source)
//   kernel/                     what every layer may use: log, events, secrets, dispatch, version
//   shared/ (repo root)         the contract with the renderer: schemas, errors
//
// A module may import its own folder, the layers below it and shared/, never a layer above it.
// Each rule's `comment` is what a violation prints.

/** Matches a module in one of the given electron/core folders. */
const inCore = (...folders) => `^electron/core/(${folders.join('|')})/`;

/**
 * The layer rule: a module in one of `folders` may import, inside electron/core (and migrations/),
 * only its own folder and `below`. shared/ and npm packages are not this rule's business.
 */
const layer = (name, folders, below, comment, alsoAllowed = []) => ({
  name,
  severity: 'error',
  comment,
  from: { path: inCore(...folders) },
  to: {
    path: '^(electron/core|migrations)/',
    // $1 is the importer's own folder (the group in `from.path`).
    pathNot: ['^electron/core/$1/', ...(below.length ? [inCore(...below)] : []), ...alsoAllowed],
  },
});

module.exports = {
  forbidden: [
    // ---------------------------------------------------------------- the layers of electron/core
    {
      name: 'core-root-is-app-only',
      severity: 'error',
      comment:
        'electron/core/ holds app.ts (the composition root) and the layer folders, nothing else: a module at the root of core belongs to no layer, ' +
        'so no layer may import it. Move it into the layer it belongs to (log, events, secrets, dispatch, app version: kernel/).',
      module: { path: '^electron/core/[^/]+$', pathNot: '^electron/core/app\\.ts$', numberOfDependentsMoreThan: 0 },
      from: {},
    },
    layer(
      'layer-services',
      ['services'],
      ['scheduler', 'health', 'executions', 'catalog', 'notify', 'backup', 'restore', 'engines', 'storage', 'db', 'kernel'],
      'services/ is the top layer under app.ts: it may import scheduler, health, executions, catalog, notify, backup, restore, engines, storage, db, kernel and shared, ' +
        'but not app.ts (the composition root imports services, not the other way round).',
    ),
    layer(
      'layer-scheduler-health',
      ['scheduler', 'health'],
      ['executions', 'catalog', 'notify', 'backup', 'restore', 'engines', 'storage', 'db', 'kernel'],
      'scheduler/ and health/ may import executions and below (catalog, notify, backup, restore, engines, storage, db, kernel, shared), ' +
        'never services/ or app.ts above them, nor each other.',
    ),
    layer(
      'layer-executions',
      ['executions'],
      ['catalog', 'notify', 'backup', 'restore', 'engines', 'storage', 'db', 'kernel'],
      'executions/ may import catalog, notify, backup, restore, engines, storage, db, kernel and shared; ' +
        'it is driven by scheduler/, health/ and services/ and must not import them ("upward" imports are forbidden).',
    ),
    layer(
      'layer-catalog-notify',
      ['catalog', 'notify'],
      ['backup', 'restore', 'engines', 'storage', 'db', 'kernel'],
      'catalog/ and notify/ may import backup, restore, engines, storage, db, kernel and shared; ' +
        'never executions/, scheduler/, health/, services/ or app.ts above them, nor each other.',
    ),
    layer(
      'layer-tray',
      ['tray'],
      ['db', 'kernel'],
      'tray/ is the desktop tray as data (state, tooltip, menu) read from the metadata database: it may import db, kernel and shared, ' +
        'never the layers that run work (executions, scheduler, services); the shell acts on its menu through the contract.',
    ),
    layer(
      'layer-backup-restore',
      ['backup', 'restore'],
      ['backup', 'restore', 'kernel'],
      "backup/ and restore/ are the pure pipelines: they may import ONLY shared/, kernel/, their own folder, each other's pure stages " +
        '(restore may import backup/compress.ts, backup/layout.ts, ...) and the TYPES of engines and storage ' +
        '(electron/core/engines/types.ts, electron/core/storage/types.ts). No db, no services, no engine or storage implementation: ' +
        'whoever runs a pipeline hands it what it needs.',
      ['^electron/core/engines/types\\.ts$', '^electron/core/storage/types\\.ts$'],
    ),
    layer(
      'layer-engines-storage',
      ['engines', 'storage'],
      ['kernel'],
      'engines/ and storage/ may import only kernel and shared (and their own folder): engines may not import storage and vice versa, ' +
        'and neither may import db or anything above.',
    ),
    layer(
      'layer-db',
      ['db'],
      ['kernel'],
      'db/ may import only kernel, shared and migrations/ (the schema history it runs): the database layer knows no engine, storage or service.',
      ['^migrations/'],
    ),
    layer('layer-kernel', ['kernel'], [], 'kernel/ is the bottom of core: it may import shared only (e.g. kernel -> db is an upward import).'),

    // ---------------------------------------------------------------- sides of the app
    {
      name: 'core-is-shell-free',
      severity: 'error',
      comment:
        "electron/core/ is the same core for the desktop app and the headless server: it never imports 'electron', electron/main, " +
        'electron/server, electron/preload or renderer/. The shells import the core, not the other way round.',
      from: { path: '^electron/core/' },
      to: { path: ['^electron/(main|server|preload)/', '^renderer/', '(^|/)node_modules/electron/', '^electron$'] },
    },
    {
      name: 'server-not-main',
      severity: 'error',
      comment: 'electron/server (headless) may import core but not electron/main: the headless server must run where no Electron is installed.',
      from: { path: '^electron/server/' },
      to: { path: '^electron/main/' },
    },
    {
      name: 'renderer-not-node-side',
      severity: 'error',
      comment: 'renderer/ never imports electron/: the page talks to the app only through the bridge (shared/bridge.ts), over IPC or HTTP.',
      from: { path: '^renderer/' },
      to: { path: '^electron/' },
    },
    {
      name: 'shared-imports-no-app-code',
      severity: 'error',
      comment: 'shared/ is the contract both sides compile: it imports nothing from electron/ or renderer/.',
      from: { path: '^shared/' },
      to: { path: ['^electron/', '^renderer/'] },
    },
    {
      name: 'shared-imports-no-node-builtins',
      severity: 'error',
      comment: 'shared/ runs in the page too: it does not import node builtins (node:fs, crypto, path, ...).',
      from: { path: '^shared/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'migrations-only-shared-typeorm',
      severity: 'error',
      comment: 'migrations/ may import only shared/ and typeorm: a migration is frozen history and must not change when app code changes.',
      from: { path: '^migrations/' },
      to: { pathNot: ['^shared/', '(^|/)node_modules/typeorm/'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No circular dependencies anywhere in electron/, renderer/, shared/: a cycle makes two modules one, and breaks the one-way layering.',
      from: { path: '^(electron|renderer|shared)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // See `import type` too: a type import is a dependency for the layering.
    tsPreCompilationDeps: true,
    // node_modules may be a symlink to another checkout: report it as node_modules/..., not by its real path.
    preserveSymlinks: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
