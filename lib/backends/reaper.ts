/**
 * Ends this process's worker processes when it dies, however it dies (SIGKILL included), even
 * while they are busy in a CPU-bound task and cannot see their IPC channel close. One small
 * shell serves every pool of the process: it reads the workers' pids from a pipe whose other
 * end only this process holds, and when that pipe closes it gives the workers a moment to
 * run their teardown (their channel closed too), then SIGKILLs those still listed. A thread
 * in each worker process did this before, at about 9.4 MiB of RSS per worker; the shell
 * costs about 1.5 MiB once. Where there is no /bin/sh, workers keep their watchdog thread.
 *
 * Pids are ours (from fork), written as `+pid` when a worker starts and `-pid` when it has
 * exited, so a number the system hands out again later is not killed (but for the half
 * second after this process's death, when nobody is left to withdraw one).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { debug } from '../debug.js';

const SHELL = '/bin/sh';

/** A reaper that someone ends is started again, this many times at most. */
const MAX_STARTS = 5;

/** Seconds the workers get to run their teardown after this process is gone. */
const GRACE_S = 0.5;

/** The shell's program: `+pid` and `-pid` lines until the pipe closes, then the kill. */
export const REAPER_SCRIPT = `
pids=" "
while IFS= read -r line; do
  p=\${line#?}
  case "$line" in
    +*) pids="$pids$p " ;;
    -*) case "$pids" in *" $p "*) pids="\${pids%% $p *} \${pids#* $p }" ;; esac ;;
  esac
done
[ "$pids" = " " ] && exit 0
sleep ${GRACE_S} 2>/dev/null || sleep 1
kill -9 $pids 2>/dev/null
exit 0
`;

class Reaper {
  readonly available = process.platform !== 'win32' && existsSync(SHELL);
  readonly #pids = new Set<number>();
  #child: ChildProcess | undefined;
  /** Starts so far: a shell that keeps dying is not started again and again. */
  #starts = 0;

  /** Starts the shell if need be: whether it runs (a worker forked now may then go without its watchdog thread). */
  ensure(): boolean {
    return this.available && (this.#child ?? this.#start()) !== undefined;
  }

  /** Kill `pid` if this process dies first. */
  watch(pid: number): void {
    if (!this.available) return;
    this.#pids.add(pid);
    this.#write(`+${pid}\n`);
  }

  /** `pid` has exited: never kill it (the number may be reused). */
  forget(pid: number): void {
    if (this.#pids.delete(pid)) this.#write(`-${pid}\n`);
  }

  #write(line: string): void {
    const child = this.#child ?? this.#start();
    child?.stdin?.write(line);
  }

  #start(): ChildProcess | undefined {
    if (this.#starts >= MAX_STARTS) return undefined;
    this.#starts++;
    let child: ChildProcess;
    try {
      child = spawn(SHELL, ['-c', REAPER_SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'] });
    } catch (error) {
      debug('the reaper could not start: %s', (error as Error).message);
      return undefined;
    }
    this.#child = child;
    // Neither the shell nor its pipe keeps this process alive.
    child.unref();
    (child.stdin as Socket | null)?.unref();
    child.stdin?.on('error', (error) => debug('reaper pipe: %s', error.message));
    child.on('error', (error) => debug('reaper: %s', error.message));
    child.once('exit', () => {
      if (this.#child !== child) return;
      this.#child = undefined;
      // Someone ended it: a new one is told every worker still running.
      if (this.#pids.size > 0) this.#write([...this.#pids].map((pid) => `+${pid}\n`).join(''));
    });
    return child;
  }
}

/** The one reaper of this process. */
export const reaper = new Reaper();
