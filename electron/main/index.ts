import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  nativeImage,
  Notification,
  session,
  shell,
  Tray,
  type IpcMainEvent,
  type IpcMainInvokeEvent,
  type MenuItemConstructorOptions,
  type NativeImage,
} from 'electron';
import { AppError } from '../../shared/errors.js';
import { startCore, type Core } from '../core/app.js';
import { scoped } from '../core/kernel/log.js';
import type { TrayMenuItem, TrayState } from '../core/tray/model.js';
import { CONTENT_SECURITY_POLICY, isAppPage, isExternalLink, isTrustedSender } from './guard.js';

// The desktop shell: a window, a tray icon and the IPC transport. Everything else lives in core.
const log = scoped('shell');
const here = path.dirname(fileURLToPath(import.meta.url));
const resources = app.isPackaged ? process.resourcesPath : path.resolve(here, '../../resources');
const indexHtml = path.resolve(here, '../renderer/index.html');
/** The one page allowed to drive the core over IPC, and the only place the window may go. */
const appPage = pathToFileURL(indexHtml).href;

let core: Core | undefined;
let window: BrowserWindow | undefined;
let tray: Tray | undefined;
let quitting = false;
const pending: [string, unknown][] = [];
let windowReady = false;

function sendEvent(name: string, payload: unknown) {
  if (window && windowReady) window.webContents.send('dg:event', name, payload);
  else if (pending.length < 500) pending.push([name, payload]);
}

/** Shows the window, on a page of the app when one is named (`notifications`, `jobs`). */
function showWindow(route?: string) {
  if (window) {
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
    // The route is one of the shell's own words, never from outside: safe to put in the page's address.
    if (route) void window.webContents.executeJavaScript(`window.location.hash = ${JSON.stringify(`/${route}`)}`);
    return;
  }
  window = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 960,
    minHeight: 600,
    title: 'DataGuardian',
    icon: path.join(resources, 'icon.png'),
    webPreferences: {
      preload: path.join(here, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  });
  windowReady = false;
  // The window only ever shows the app: a link the UI shows opens in the browser, anything else goes nowhere.
  window.webContents.setWindowOpenHandler(({ url }) => {
    openOutside(url);
    return { action: 'deny' };
  });
  const stayHome = (e: { url: string; preventDefault(): void }) => {
    if (isAppPage(e.url, appPage)) return;
    e.preventDefault();
    openOutside(e.url);
  };
  window.webContents.on('will-navigate', stayHome);
  window.webContents.on('will-redirect', stayHome);
  window.webContents.on('will-attach-webview', (e) => e.preventDefault());
  void window.loadFile(indexHtml, route ? { hash: `/${route}` } : undefined);
  // Closing the window keeps backups running from the tray; where the desktop has no tray, it
  // minimises instead, or nothing would be left to bring it back.
  window.on('close', (e) => {
    if (!quitting) {
      e.preventDefault();
      if (tray) window?.hide();
      else window?.minimize();
    }
  });
  window.on('closed', () => (window = undefined));
}

// Held until closed: a notification that is garbage-collected no longer reports its click.
const notices = new Set<Notification>();

/** A desktop notification; clicking it opens what it is about in the window (`route` comes from the core: ids only). */
function showNotice({ title, body, route }: { title: string; body: string; route: string }) {
  if (!Notification.isSupported()) throw new Error('This desktop does not support notifications');
  const notice = new Notification({ title, body, icon: path.join(resources, 'icon.png') });
  notices.add(notice);
  notice.on('close', () => notices.delete(notice));
  notice.on('click', () => {
    notices.delete(notice);
    showWindow(route.replace(/^\//, ''));
  });
  notice.show();
}

function openOutside(url: string) {
  if (isExternalLink(url)) void shell.openExternal(url);
}

/** Every IPC message is checked: only the app's own page, in the window's top frame, drives the core. */
const trusted = (e: IpcMainEvent | IpcMainInvokeEvent) => isTrustedSender(e.senderFrame, appPage);
const refused = () => new AppError('unauthorized', 'This call does not come from the DataGuardian window.').toJSON();

/** The session adds the CSP header and grants no permission (camera, notifications, ...) to the page. */
function lockSession() {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
}

/** The tray maps the core's model (electron/core/tray) to icons and menu items; it decides nothing itself. */
function createTray() {
  try {
    tray = new Tray(trayIcon('idle'));
  } catch (e) {
    // Some Linux desktops have no tray: the window then minimises on close instead of hiding.
    log.warn(`No tray on this desktop (${(e as Error).message}); closing the window will minimise it.`);
    return;
  }
  tray.setToolTip('DataGuardian');
  tray.on('click', () => showWindow());
  // Progress says nothing the tray shows; every other event may change its state, tooltip or menu.
  core!.events.onAny((name) => {
    if (name !== 'execution.progress') refreshTraySoon();
  });
  // Ages in the tooltip ("4 min ago") move on even when nothing happens.
  setInterval(refreshTraySoon, 60_000).unref();
  void refreshTray();
}

const trayIcons = new Map<TrayState, NativeImage>();
function trayIcon(state: TrayState) {
  let icon = trayIcons.get(state);
  if (!icon) trayIcons.set(state, (icon = nativeImage.createFromPath(path.join(resources, `tray-${state}.png`))));
  return icon;
}

let refreshTimer: NodeJS.Timeout | undefined;
/** Events come in bursts (progress, status, notification): one refresh per burst. */
function refreshTraySoon() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = undefined;
    void refreshTray();
  }, 500);
}

async function refreshTray() {
  if (!tray || !core || quitting) return;
  try {
    const model = await core.tray({ startAtLogin: app.getLoginItemSettings().openAtLogin });
    tray.setImage(trayIcon(model.state));
    tray.setToolTip(model.tooltip);
    tray.setContextMenu(Menu.buildFromTemplate(model.menu.map(trayMenuItem)));
  } catch (e) {
    log.warn(`The tray could not be updated: ${(e as Error).message}`);
  }
}

function trayMenuItem(item: TrayMenuItem): MenuItemConstructorOptions {
  switch (item.kind) {
    case 'separator':
      return { type: 'separator' };
    case 'open':
      return { label: item.label, click: () => showWindow() };
    case 'backUpNow':
      return {
        label: item.label,
        submenu: item.jobs.map((j) => ({ label: j.label, enabled: j.enabled, click: () => void act('jobs.run', { id: j.jobId }) })),
      };
    case 'allJobs':
      return { label: item.label, click: () => showWindow('jobs') };
    case 'pause':
    case 'resume':
      return { label: item.label, click: () => void act('settings.update', { 'schedules.paused': item.kind === 'pause' }) };
    case 'notifications':
      return { label: item.label, click: () => showWindow('notifications') };
    case 'startAtLogin':
      return {
        label: item.label,
        type: 'checkbox',
        checked: item.checked,
        click: (menuItem) => {
          app.setLoginItemSettings({ openAtLogin: menuItem.checked });
          void refreshTray();
        },
      };
    case 'quit':
      return { label: item.label, click: () => app.quit() };
  }
}

/** A tray action goes through the contract like any call from the window; a refusal is told on the desktop. */
async function act(name: 'jobs.run' | 'settings.update', input: unknown) {
  const result = await core!.dispatch(name, input);
  if (!result.ok && Notification.isSupported()) new Notification({ title: 'DataGuardian', body: result.error.message }).show();
  await refreshTray();
}

if (!app.requestSingleInstanceLock()) app.quit();
app.on('second-instance', () => showWindow());

app.whenReady().then(async () => {
  try {
    core = await startCore({ mode: 'desktop' });
  } catch (e) {
    // Another DataGuardian (the headless server, another user session) holds the data folder: exit 3, as the server does.
    const running = e instanceof AppError && e.code === 'already_running';
    dialog.showErrorBox(running ? 'DataGuardian is already running' : 'DataGuardian could not start', (e as Error).message);
    app.exit(running ? 3 : 1);
    return;
  }
  lockSession();
  ipcMain.handle('dg:call', (e, name: string, input: unknown) => (trusted(e) ? core!.dispatch(name, input) : { ok: false, error: refused() }));
  ipcMain.handle('dg:pick-path', async (e, options: { kind: 'folder' | 'file' | 'save'; title?: string; defaultName?: string }) => {
    if (!trusted(e)) return null;
    if (options.kind === 'save') {
      const saved = await dialog.showSaveDialog({ title: options.title, defaultPath: options.defaultName });
      return saved.canceled ? null : (saved.filePath ?? null);
    }
    const result = await dialog.showOpenDialog({
      title: options.title,
      properties: [options.kind === 'folder' ? 'openDirectory' : 'openFile', 'createDirectory'],
    });
    return result.canceled ? null : (result.filePaths[0] ?? null);
  });
  ipcMain.on('dg:ready', (e) => {
    if (!trusted(e)) return;
    windowReady = true;
    for (const [name, payload] of pending.splice(0)) window?.webContents.send('dg:event', name, payload);
  });
  core.events.onAny(sendEvent);
  core.showDesktopNotifications(showNotice);
  createTray();
  showWindow();
});

app.on('window-all-closed', () => {
  // Stay in the tray.
});

app.on('before-quit', (e) => {
  if (quitting || !core) return;
  quitting = true;
  e.preventDefault();
  core.close().finally(() => app.exit(0));
});
