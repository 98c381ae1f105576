// Users and groups by name or number, from /etc/passwd and /etc/group (what `getent` would say
// for local accounts; directory services such as LDAP are not consulted — give numeric ids for
// those). Read once per process, each file bounded in size.
import fs from 'node:fs';

export interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  /** In /etc/passwd (a bare uid is not: no name, no supplementary groups). */
  readonly known: boolean;
}

export interface Group {
  readonly name: string;
  readonly gid: number;
}

const MAX_BYTES = 4 * 1024 * 1024;
let cache: { users: Account[]; groups: Group[] } | null = null;

function table(file: string): string[][] {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(Math.min(fs.fstatSync(fd).size, MAX_BYTES));
      const read = fs.readSync(fd, buffer, 0, buffer.length, 0);
      return buffer
        .toString('utf8', 0, read)
        .split('\n')
        .filter((line) => line && !line.startsWith('#'))
        .map((line) => line.split(':'));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return [];
  }
}

function load(): { users: Account[]; groups: Group[] } {
  cache ??= {
    users: table('/etc/passwd').flatMap(([name = '', , uid = '', gid = '', , home = '']) =>
      /^\d+$/.test(uid) && /^\d+$/.test(gid) ? [{ name, uid: Number(uid), gid: Number(gid), home, known: true }] : [],
    ),
    groups: table('/etc/group').flatMap(([name = '', , gid = '']) => (/^\d+$/.test(gid) ? [{ name, gid: Number(gid) }] : [])),
  };
  return cache;
}

const isId = (value: string | number): boolean => typeof value === 'number' || /^\d+$/.test(value);

/** A user by name or uid; a uid with no entry is still a user (no name, home /). */
export function findUser(user: string | number): Account | null {
  const found = load().users.find((u) => (isId(user) ? u.uid === Number(user) : u.name === user));
  if (found) return found;
  return isId(user) ? { name: String(user), uid: Number(user), gid: Number(user), home: '/', known: false } : null;
}

/** A group by name or gid; a gid with no entry is still a group. */
export function findGroup(group: string | number): Group | null {
  const found = load().groups.find((g) => (isId(group) ? g.gid === Number(group) : g.name === group));
  if (found) return found;
  return isId(group) ? { name: String(group), gid: Number(group) } : null;
}
