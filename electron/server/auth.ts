import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { cookieValue } from './token.js';

const COOKIE = 'dg_session';
const SESSION_HOURS = 12;
const hash = promisify(scrypt) as (password: string, salt: Buffer, length: number) => Promise<Buffer>;

/**
 * Single-user password login for a server reachable from other machines (seed: cookie `dg_session`).
 * scrypt runs on libuv's thread pool: a flood of wrong passwords never stalls the event loop.
 */
export class Login {
  private readonly sessions = new Map<string, number>();

  private constructor(
    private readonly salt: Buffer,
    private readonly hash: Buffer,
    private readonly secure: boolean,
  ) {}

  static async create(password: string, options: { secure: boolean }): Promise<Login> {
    const salt = randomBytes(16);
    return new Login(salt, await hash(password, salt, 32), options.secure);
  }

  async check(password: string): Promise<boolean> {
    return timingSafeEqual(await hash(password, this.salt, 32), this.hash);
  }

  open(): { cookie: string } {
    const now = Date.now();
    for (const [token, expires] of this.sessions) if (expires <= now) this.sessions.delete(token);
    const token = randomBytes(32).toString('base64url');
    this.sessions.set(token, now + SESSION_HOURS * 3600_000);
    return { cookie: `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_HOURS * 3600}${this.secure ? '; Secure' : ''}` };
  }

  isSignedIn(req: IncomingMessage): boolean {
    const token = cookieValue(req, COOKIE);
    const expires = token ? this.sessions.get(token) : undefined;
    return expires !== undefined && expires > Date.now();
  }
}

// The app's own look (renderer/src/styles.css: its colours, font, card and button), light or dark as
// the system is, with its shield: inline, as the page is served before any file of the app may be.
const STYLE = `:root{color-scheme:light dark;--bg:#f5f6f8;--surface:#fff;--border:#e3e6eb;--border-strong:#cfd4dc;--text:#1d2530;--text-2:#566171;
--accent:#2f6fdb;--accent-strong:#2358b8;--on-accent:#fff;--bad:#b42318}
@media (prefers-color-scheme:dark){:root{--bg:#14171c;--surface:#1c2027;--border:#2c323c;--border-strong:#3a414d;--text:#e6e9ee;--text-2:#a3acb9;
--accent:#5b93ee;--accent-strong:#8db4f4;--on-accent:#0d1117;--bad:#f1786d}}
*{box-sizing:border-box}body{margin:0;min-height:100vh;display:grid;place-items:center;background:var(--bg);color:var(--text);
font:14px/1.5 -apple-system,BlinkMacSystemFont,'Segoe UI','Inter','Noto Sans','Helvetica Neue',Arial,sans-serif;-webkit-font-smoothing:antialiased}
main{width:min(380px,calc(100vw - 32px));background:var(--surface);border:1px solid var(--border);border-radius:12px;padding:28px;display:grid;gap:14px;
box-shadow:0 12px 32px rgba(16,24,40,.12)}
.brand{display:flex;align-items:center;gap:10px;font-weight:650;font-size:16px}.mark{display:grid;place-items:center;width:34px;height:34px;
border-radius:9px;background:var(--accent);color:var(--on-accent)}h1{margin:0;font-size:18px}p{margin:0;color:var(--text-2)}form{display:grid;gap:10px}
label{font-weight:550;font-size:13px}input{font:inherit;min-height:38px;padding:7px 11px;border:1px solid var(--border-strong);border-radius:7px;
background:var(--surface);color:var(--text)}button{font:inherit;font-weight:550;height:38px;border:0;border-radius:7px;background:var(--accent);
color:var(--on-accent);cursor:pointer}button:hover{background:var(--accent-strong)}:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
#e{color:var(--bad);min-height:1.2em;font-weight:500}code{font-size:.9em}`;

const BRAND = `<div class="brand"><span class="mark"><svg width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor"
stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M12 3l7 3v5c0 4.6-3 8.4-7 10-4-1.6-7-5.4-7-10V6l7-3z"/>
<path d="M9 12l2 2 4-4"/></svg></span>DataGuardian</div>`;

const PASSWORD_FORM = `<main>${BRAND}<h1>Sign in</h1><form id="f"><label for="p">Password</label>
<input id="p" type="password" autocomplete="current-password" autofocus required><button>Sign in</button><p id="e" role="alert"></p></form></main>
<script>f.onsubmit=async(ev)=>{ev.preventDefault();const r=await fetch('/api/auth/login',{method:'POST',
headers:{'Content-Type':'application/json'},body:JSON.stringify({password:p.value})});
if(r.ok)location.href='/';else e.textContent=r.status===429?'Too many attempts: wait a moment':'Wrong password';}</script>`;

// A plain GET form: it lands on `/?token=...`, which sets the cookie and redirects like the printed address does.
const TOKEN_FORM = `<main>${BRAND}<h1>Sign in</h1><p>Open the address DataGuardian printed when it started (it ends in <code>?token=</code>),
or paste its token (in <code>api-token</code> in the data directory):</p><form method="get" action="/"><label for="t">Token</label>
<input id="t" name="token" type="password" autocomplete="off" autofocus required><button>Sign in</button><p id="e" role="alert">MESSAGE</p></form></main>`;

/** The page every unauthenticated browser gets: the password form where a password is set, else the token form. */
export function signInPage(options: { password: boolean; message?: string }): string {
  const body = options.password ? PASSWORD_FORM : TOKEN_FORM.replace('MESSAGE', options.message ?? '');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>DataGuardian — sign in</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><style>${STYLE}</style></head><body>${body}</body></html>`;
}
