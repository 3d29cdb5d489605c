/**
 * Pins this process and every process below it (all their threads) to one CPU, and back.
 * On these VMs a message to a process that sleeps on another CPU waits for that CPU to wake,
 * which takes longer than the round trip's own work, and the kernel places each pair anew:
 * in one run of bench:tiny the raw postMessage round trip's p50 was 25 µs in one round and
 * 84 µs in another (19.0–19.2 µs on one CPU). On one CPU, round trips measure what the
 * contenders do. Linux with taskset(1) only.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Pids of the processes below `root`, read from /proc. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid …": comm may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const out: number[] = [];
  const pending = [root];
  while (pending.length > 0) for (const pid of children.get(pending.pop()!) ?? []) out.push(pid), pending.push(pid);
  return out;
}

function setAffinity(pids: readonly number[], cpus: string): void {
  for (const pid of pids) {
    try {
      execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
    } catch {
      // A process that exited meanwhile needs no pinning.
    }
  }
}

/**
 * Pins the tree to the first CPU this process may use; returns what puts the tree back on
 * this process's CPUs, or undefined where it cannot pin (not Linux, no taskset).
 */
export function pinToOneCpu(): (() => void) | undefined {
  if (process.platform !== 'linux') return undefined;
  let cpus: string;
  try {
    // "pid 123's current affinity list: 0,1"
    cpus = execFileSync('taskset', ['-c', '-p', String(process.pid)], { encoding: 'utf8' }).trim().split(': ').at(-1)!;
  } catch {
    return undefined;
  }
  const first = cpus.split(/[,-]/)[0];
  setAffinity([process.pid, ...descendants(process.pid)], first);
  return () => setAffinity([process.pid, ...descendants(process.pid)], cpus);
}
