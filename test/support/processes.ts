import { readFileSync } from 'node:fs';

/**
 * Whether a process is still running. A zombie (exited, not yet reaped: orphans wait for
 * init to collect them) is not running, but `kill(pid, 0)` still finds it, so on Linux
 * its state is read from /proc.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}
