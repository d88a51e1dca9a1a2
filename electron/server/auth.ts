import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const COOKIE = 'dg_session';
const SESSION_HOURS = 12;

/**
 * Single-user login for a server reachable from other machines (seed: cookie `dg_session`).
 * On 127.0.0.1 only this machine's users reach it, so no login is asked there.
 */
export class Login {
  private readonly salt = randomBytes(16);
  private readonly hash: Buffer;
  private readonly sessions = new Map<string, number>();

  constructor(password: string) {
    this.hash = scryptSync(password, this.salt, 32);
  }

  check(password: string): boolean {
    return timingSafeEqual(scryptSync(password, this.salt, 32), this.hash);
  }

  open(): { cookie: string } {
    const token = randomBytes(32).toString('base64url');
    this.sessions.set(token, Date.now() + SESSION_HOURS * 3600_000);
    return { cookie: `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_HOURS * 3600}` };
  }

  isSignedIn(req: IncomingMessage): boolean {
    const token = /(?:^|;\s*)dg_session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    const expires = token ? this.sessions.get(token) : undefined;
    return expires !== undefined && expires > Date.now();
  }
}

export const LOGIN_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>DataGuardian — sign in</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font-family:system-ui,sans-serif;background:#f4f6f8;display:grid;place-items:center;height:100vh;margin:0}
form{background:#fff;padding:32px;border-radius:12px;box-shadow:0 2px 12px #0001;display:grid;gap:12px;width:300px}
input,button{font:inherit;padding:10px;border-radius:8px;border:1px solid #ccd}button{background:#2458d6;color:#fff;border:0}
p{color:#b42318;margin:0;min-height:1.2em}</style></head><body>
<form id="f"><h2 style="margin:0">DataGuardian</h2><label for="p">Password</label>
<input id="p" type="password" autocomplete="current-password" autofocus required><button>Sign in</button><p id="e"></p></form>
<script>f.onsubmit=async(ev)=>{ev.preventDefault();const r=await fetch('/api/auth/login',{method:'POST',
headers:{'Content-Type':'application/json'},body:JSON.stringify({password:p.value})});
if(r.ok)location.href='/';else e.textContent='Wrong password';}</script></body></html>`;
