/** A program on one of the suite's hosts, spoken to in JSON lines (see scheduler.ts, hostile.ts). */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Event {
  ev: string;
  t: number;
  [key: string]: unknown;
}

export class Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly events: Event[] = [];
  readonly exit: Promise<void>;
  stderr = '';
  #waiters = new Set<() => void>();

  constructor(child: ChildProcess) {
    this.child = child;
    this.pid = child.pid!;
    child.stdin!.on('error', () => {});
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.stderr = (this.stderr + s).slice(-20_000)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as Event);
      } catch {
        return; // not one of ours (e.g. a CLI agent's log line)
      }
      for (const w of this.#waiters) w();
    });
    // 'exit', not 'close': workers that outlive it may hold its pipes open
    this.exit = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.exit.then(() => {
      for (const w of this.#waiters) w();
    });
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  send(command: Record<string, unknown>): void {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  /** The first event from index `from` on that matches; rejects after `ms` or if the process exits. */
  wait(match: (e: Event) => boolean, ms: number, what: string, from = 0): Promise<Event> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.slice(from).find(match);
        if (found) done(() => resolve(found));
        else if (this.exited) done(() => reject(new Error(`process ${this.pid} exited while waiting for ${what}\n${this.stderr.slice(-2000)}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`))), ms);
      const done = (fn: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        fn();
      };
      this.#waiters.add(check);
      check();
    });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    try {
      process.kill(this.pid, signal);
    } catch {}
  }
}
