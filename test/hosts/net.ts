/**
 * Hosts for the multi-host suite: one network namespace per host, each with a veth pair
 * whose other end sits on a bridge in a namespace of its own ("the switch"), so nothing of
 * the machine's own network is touched. Names carry the run's id; addresses come from
 * 10.213.0.0/24, which exists only inside these namespaces. `destroy()` kills every process
 * started here and deletes every namespace (and so every veth and the bridge).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pidAlive } from '../support/processes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const SUBNET = '10.213.0';

export interface Host {
  name: string;
  ns: string;
  address: string;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Processes started by this run (found by the marker in their environment), workers included. */
export function markedPids(marker: string): number[] {
  const needle = `TROUPE_HOSTS_RUN=${marker}`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'latin1');
      if (env.split('\0').includes(needle) && pidAlive(Number(entry))) pids.push(Number(entry));
    } catch {}
  }
  return pids;
}

/** Worker processes among the children of `pid`: not the reaper shell a primary or an agent also runs. */
export function workerPids(pid: number): number[] {
  return childPids(pid).filter((child) => {
    try {
      return readFileSync(`/proc/${child}/cmdline`, 'latin1').includes('process-entry');
    } catch {
      return false;
    }
  });
}

/** Children of `pid` (Linux: from /proc). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid && fields[0] !== 'Z') out.push(Number(entry));
    } catch {}
  }
  return out;
}

export class Network {
  readonly runId: string;
  readonly hosts = new Map<string, Host>();
  readonly #switch: string;
  #created: string[] = [];

  constructor(runId: string) {
    this.runId = runId;
    this.#switch = `trp${runId}sw`;
  }

  /** Namespace names of this run start with this; the outer script deletes leftovers by it. */
  static prefix(runId: string): string {
    return `trp${runId}`;
  }

  create(names: string[]): void {
    ip('netns', 'add', this.#switch);
    this.#created.push(this.#switch);
    ip('-n', this.#switch, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', this.#switch, 'link', 'set', 'br0', 'up');
    names.forEach((name, i) => {
      const ns = `trp${this.runId}${name}`;
      ip('netns', 'add', ns);
      this.#created.push(ns);
      const address = `${SUBNET}.${i + 1}`;
      // both ends are made inside the host's namespace, then one end moves to the switch
      ip('-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `p${name}`);
      ip('-n', ns, 'link', 'set', `p${name}`, 'netns', this.#switch);
      ip('-n', this.#switch, 'link', 'set', `p${name}`, 'master', 'br0');
      ip('-n', this.#switch, 'link', 'set', `p${name}`, 'up');
      ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      this.hosts.set(name, { name, ns, address });
    });
  }

  host(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  /** A second address for `name`, on the same cable (e.g. to be a second source of traffic). */
  addAddress(name: string, last: number): string {
    const address = `${SUBNET}.${last}`;
    ip('-n', this.host(name).ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    return address;
  }

  /** Cuts the host's cable (its switch port goes down): nothing in or out, no FIN, no RST. */
  unplug(name: string): void {
    ip('-n', this.#switch, 'link', 'set', `p${name}`, 'down');
  }

  plug(name: string): void {
    ip('-n', this.#switch, 'link', 'set', `p${name}`, 'up');
  }

  /** `node <args>` on a host, marked as this run's. */
  node(name: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const h = this.host(name);
    return spawn('ip', ['netns', 'exec', h.ns, process.execPath, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env, TROUPE_HOSTS_RUN: this.runId },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }

  /** Kills every process of this run, then deletes the namespaces. Never throws. */
  destroy(): void {
    for (let round = 0; round < 3; round++) {
      const pids = markedPids(this.runId);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
      execFileSync('sleep', ['0.2']);
    }
    for (const ns of this.#created.splice(0).reverse()) {
      try {
        ip('netns', 'del', ns);
      } catch {}
    }
  }
}

/** Deletes every namespace whose name starts with `prefix` (what a crashed run left). */
export function deleteNamespaces(prefix: string): string[] {
  const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  const names = out.split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(prefix));
  for (const n of names) {
    try {
      ip('netns', 'del', n);
    } catch {}
  }
  return names;
}
