// The Electron shell's checks, without Electron: which page may call the core over IPC, and where the
// window may go.
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { isAppPage, isExternalLink, isTrustedSender } from '../../electron/main/guard.js';

const appPage = pathToFileURL(path.resolve('/opt/DataGuardian/resources/app.asar/dist/renderer/index.html')).href;
const top = (url: string) => ({ url, parent: null });

describe('IPC sender check', () => {
  it("accepts the app's own page in the top frame, whatever its hash or query", () => {
    assert.equal(isTrustedSender(top(appPage), appPage), true);
    assert.equal(isTrustedSender(top(`${appPage}#/datasources/new`), appPage), true);
    assert.equal(isTrustedSender(top(`${appPage}?tab=backups`), appPage), true);
  });

  it('refuses another file:// page, an http(s) page, a missing frame and an embedded frame', () => {
    assert.equal(isTrustedSender(top('file:///tmp/evil/index.html'), appPage), false);
    assert.equal(isTrustedSender(top('file:///opt/DataGuardian/resources/app.asar/dist/renderer/index.html.evil'), appPage), false);
    assert.equal(isTrustedSender(top('file:///opt/DataGuardian/resources/app.asar/dist/renderer/../../evil/index.html'), appPage), false);
    assert.equal(isTrustedSender(top('https://example.com/'), appPage), false);
    assert.equal(isTrustedSender(top('http://127.0.0.1:5151/'), appPage), false);
    assert.equal(isTrustedSender(top(''), appPage), false);
    assert.equal(isTrustedSender(top('not a url'), appPage), false);
    assert.equal(isTrustedSender(null, appPage), false, 'a frame already gone');
    assert.equal(isTrustedSender(undefined, appPage), false);
    assert.equal(isTrustedSender({ url: appPage, parent: top(appPage) }, appPage), false, 'an iframe, even of the same page');
  });
});

describe('navigation', () => {
  it('the window stays on the app page; only http(s) links go to the system browser', () => {
    assert.equal(isAppPage(`${appPage}#/settings`, appPage), true);
    assert.equal(isAppPage('file:///etc/passwd', appPage), false);
    assert.equal(isAppPage(undefined, appPage), false);
    assert.equal(isExternalLink('https://docs.aws.amazon.com/'), true);
    assert.equal(isExternalLink('http://nas.local:5000/'), true);
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'smb://server/share', 'ms-msdt:/id', 'nonsense']) {
      assert.equal(isExternalLink(url), false, url);
    }
  });
});
