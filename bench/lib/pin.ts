/**
 * Pins this process and every process below it (all their threads) to one CPU, and back.
 * On these VMs a message to a process that sleeps on another CPU waits for that CPU to wake,
 * which takes longer than the round trip's own work, and the kernel places each pair anew:
 * in one run of bench:tiny the raw postMessage round trip's p50 was 25 µs in one round and
 * 84 µs in another (19.0–19.2 µs on one CPU). On one CPU, round trips measure what the
 * contenders do. Linux with taskset(1) only.
 */
import { execFileSync } from 'node:child_process';
import { descendants } from '../../dist/bench/proc-stats.js';

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
  const tree = () => [process.pid, ...(descendants() ?? [])];
  setAffinity(tree(), first);
  return () => setAffinity(tree(), cpus);
}
