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

const STYLE = `body{font-family:system-ui,sans-serif;background:#f4f6f8;display:grid;place-items:center;height:100vh;margin:0}
form{background:#fff;padding:32px;border-radius:12px;box-shadow:0 2px 12px #0001;display:grid;gap:12px;width:320px}
input,button{font:inherit;padding:10px;border-radius:8px;border:1px solid #ccd}button{background:#2458d6;color:#fff;border:0}
p{margin:0}#e{color:#b42318;min-height:1.2em}code{font-size:.9em}`;

const PASSWORD_FORM = `<form id="f"><h2 style="margin:0">DataGuardian</h2><label for="p">Password</label>
<input id="p" type="password" autocomplete="current-password" autofocus required><button>Sign in</button><p id="e"></p></form>
<script>f.onsubmit=async(ev)=>{ev.preventDefault();const r=await fetch('/api/auth/login',{method:'POST',
headers:{'Content-Type':'application/json'},body:JSON.stringify({password:p.value})});
if(r.ok)location.href='/';else e.textContent=r.status===429?'Too many attempts: wait a moment':'Wrong password';}</script>`;

// A plain GET form: it lands on `/?token=...`, which sets the cookie and redirects like the printed address does.
const TOKEN_FORM = `<form method="get" action="/"><h2 style="margin:0">DataGuardian</h2>
<p>Open the address DataGuardian printed when it started (it ends in <code>?token=</code>), or paste its token
(in <code>api-token</code> in the data directory):</p><label for="t">Token</label>
<input id="t" name="token" type="password" autocomplete="off" autofocus required><button>Sign in</button><p id="e">MESSAGE</p></form>`;

/** The page every unauthenticated browser gets: the password form where a password is set, else the token form. */
export function signInPage(options: { password: boolean; message?: string }): string {
  const body = options.password ? PASSWORD_FORM : TOKEN_FORM.replace('MESSAGE', options.message ?? '');
  return `<!doctype html><html><head><meta charset="utf-8"><title>DataGuardian — sign in</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><style>${STYLE}</style></head><body>${body}</body></html>`;
}
