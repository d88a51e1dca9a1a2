// What the window may do, as pure functions of URLs: the shell applies them, a unit test checks them
// without Electron. Never imports 'electron'.

/**
 * The policy the shell adds to every response of its session. The built page carries the same in a
 * <meta> (vite.config.ts), which is what Chromium applies to a page read from file://; this header
 * covers any http(s) load and carries what a <meta> cannot (frame-ancestors).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Whether `url` is the app's own page (`appPage`, its file:// URL), whatever its hash or query. */
export function isAppPage(url: string | null | undefined, appPage: string): boolean {
  if (!url) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const page = new URL(appPage);
  return parsed.protocol === page.protocol && parsed.host === page.host && parsed.pathname === page.pathname;
}

/** The part of Electron's WebFrameMain the check reads. */
export interface SenderFrame {
  url: string;
  parent: unknown;
}

/**
 * An IPC call runs only when it comes from the app's page in the window's top frame: not from a page
 * the window was navigated to, an embedded frame, or a frame already gone (null).
 */
export function isTrustedSender(frame: SenderFrame | null | undefined, appPage: string): boolean {
  if (!frame) return false;
  return frame.parent === null && isAppPage(frame.url, appPage);
}

/** Links the UI shows (a provider's console, the docs) open in the user's browser, never in the window. */
export function isExternalLink(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}
