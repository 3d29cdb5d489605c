/**
 * CPU time and resident memory of this process and its descendants (worker processes,
 * an agent and its workers), read from /proc. Where /proc is missing (macOS, Windows) only
 * this process is counted, and `tree` says so.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat, 100 on every Linux build Node runs on. */
const TICK_MS = 10;

export interface TreeSample {
  /** CPU time (user + system) spent so far by the process and its living descendants, in ms. */
  cpuMs: number;
  /** Their resident set sizes added up, in bytes. */
  rssBytes: number;
  /** false when only this process could be measured. */
  tree: boolean;
}

interface ProcEntry {
  ppid: number;
  cpuMs: number;
}

function readStat(pid: number): ProcEntry | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) may hold spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS };
  } catch {
    return undefined; // the process exited while we looked
  }
}

function readRssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Every living descendant of `root`, from one scan of /proc; undefined without /proc. */
export function descendants(root = process.pid): number[] | undefined {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const children = new Map<number, number[]>();
  const stats = new Map<number, ProcEntry>();
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const entry = readStat(pid);
    if (!entry) continue;
    stats.set(pid, entry);
    const list = children.get(entry.ppid);
    if (list) list.push(pid);
    else children.set(entry.ppid, [pid]);
  }
  const out: number[] = [];
  const stack = [...(children.get(root) ?? [])];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** CPU and RSS of this process (all its threads) plus every descendant process. */
export function sampleTree(): TreeSample {
  const own = process.cpuUsage();
  let cpuMs = (own.user + own.system) / 1000;
  let rssBytes = process.memoryUsage.rss();
  const pids = descendants();
  for (const pid of pids ?? []) {
    cpuMs += readStat(pid)?.cpuMs ?? 0;
    rssBytes += readRssBytes(pid);
  }
  return { cpuMs, rssBytes, tree: pids !== undefined };
}

/** RSS of one process in bytes (0 if it is gone or /proc is missing). */
export const rssOf = readRssBytes;

/** CPU time of one process in ms (undefined if it is gone or /proc is missing). */
export const cpuMsOf = (pid: number): number | undefined => readStat(pid)?.cpuMs;
