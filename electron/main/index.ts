import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeImage, Tray } from 'electron';
import { startCore, type Core } from '../core/app.js';

// The desktop shell: a window, a tray icon and the IPC transport. Everything else lives in core.
const here = path.dirname(fileURLToPath(import.meta.url));
const resources = app.isPackaged ? process.resourcesPath : path.resolve(here, '../../resources');

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

function showWindow() {
  if (window) {
    window.show();
    window.focus();
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
  window.loadFile(path.resolve(here, '../renderer/index.html'));
  // Closing the window keeps backups running from the tray.
  window.on('close', (e) => {
    if (!quitting) {
      e.preventDefault();
      window?.hide();
    }
  });
  window.on('closed', () => (window = undefined));
}

function createTray() {
  tray = new Tray(nativeImage.createFromPath(path.join(resources, 'tray.png')));
  tray.setToolTip('DataGuardian');
  tray.setContextMenu(
    Menu.buildFromTemplate([{ label: 'Open DataGuardian', click: showWindow }, { type: 'separator' }, { label: 'Quit', click: () => app.quit() }]),
  );
  tray.on('click', showWindow);
}

if (!app.requestSingleInstanceLock()) app.quit();
app.on('second-instance', showWindow);

app.whenReady().then(async () => {
  try {
    core = await startCore({ mode: 'desktop' });
  } catch (e) {
    dialog.showErrorBox('DataGuardian could not start', (e as Error).message);
    app.exit(1);
    return;
  }
  ipcMain.handle('dg:call', (_e, name: string, input: unknown) => core!.dispatch(name, input));
  ipcMain.handle('dg:pick-path', async (_e, options: { kind: 'folder' | 'file' | 'save'; title?: string; defaultName?: string }) => {
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
  ipcMain.on('dg:ready', () => {
    windowReady = true;
    for (const [name, payload] of pending.splice(0)) window?.webContents.send('dg:event', name, payload);
  });
  core.events.onAny(sendEvent);
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
