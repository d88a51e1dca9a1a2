import { readFileSync } from 'node:fs';

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** Looks the user up in /etc/passwd; undefined when there is no such user. */
export function findOsUser(name: string): OsUser | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [user, , uid, gid, , home] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) {
      return { name, uid: Number(uid), gid: Number(gid), home: home ?? '/' };
    }
  }
  return undefined;
}

export function osUser(name: string): OsUser {
  const user = findOsUser(name);
  if (!user) {
    throw new Error(`The OS user "${name}" does not exist. Run scripts/install-test-deps.sh as root to install the test servers.`);
  }
  return user;
}
