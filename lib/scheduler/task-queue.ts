import { Deque } from './deque.js';
import { QUEUED, type Task } from './task.js';

/** How many waiting tasks a backend looks through for ones it exports. */
const LOOKAHEAD = 1024;

/** What a backend makes of a waiting task: take it, take it and no more, pass it over, or stop. */
export type Pick = 'take' | 'last' | 'skip' | 'stop';

/**
 * The tasks waiting for a backend: a FIFO that a backend may look past for tasks it can
 * run, and a parking lot for tasks no attached backend exports. Tasks cancelled while
 * waiting, or taken from further in, leave holes that are skipped and swept out.
 */
export class TaskQueue {
  readonly #deque = new Deque<Task>();
  readonly #parked = new Map<string, Task[]>();
  #size = 0;

  /** Waiting tasks, parked ones included. */
  get size(): number {
    return this.#size;
  }

  push(task: Task): void {
    this.#deque.push(task);
    this.#size++;
  }

  /** Puts tasks back at the front, in the order given. */
  requeue(tasks: readonly Task[]): void {
    for (let i = tasks.length - 1; i >= 0; i--) this.#deque.unshift(tasks[i]);
    this.#size += tasks.length;
  }

  /** Takes up to `limit` tasks from the front, as `pick` decides for each. */
  take(limit: number, pick: (task: Task, taken: number) => Pick): Task[] {
    const deque = this.#deque;
    const out: Task[] = [];
    for (let i = 0, seen = 0; out.length < limit && i < deque.length && seen < LOOKAHEAD; i++) {
      const task = deque.at(i);
      if (task === undefined || task.state !== QUEUED) continue;
      seen++;
      const decision = pick(task, out.length);
      if (decision === 'skip') continue;
      if (decision === 'stop') break;
      deque.take(i);
      out.push(task);
      if (decision === 'last') break;
    }
    deque.trim();
    this.#size -= out.length;
    this.#sweep();
    return out;
  }

  /** The first waiting task in line (not parked), dropping cancelled ones from the front. */
  head(): Task | undefined {
    for (let task = this.#deque.peek(); task !== undefined; task = this.#deque.peek()) {
      if (task.state === QUEUED) return task;
      this.#deque.shift();
    }
    return undefined;
  }

  /** Removes the head (see head()) from the line: to the parking lot, or out altogether. */
  dropHead(park: boolean): void {
    const task = this.#deque.shift()!;
    if (!park) {
      this.#size--;
      return;
    }
    const parked = this.#parked.get(task.name);
    if (parked) parked.push(task);
    else this.#parked.set(task.name, [task]);
  }

  /** Moves the parked tasks whose name `accepts` takes to the front of the line. */
  unpark(accepts: (name: string) => boolean): void {
    for (const [name, tasks] of this.#parked) {
      if (!accepts(name)) continue;
      this.#parked.delete(name);
      for (let i = tasks.length - 1; i >= 0; i--) this.#deque.unshift(tasks[i]);
    }
  }

  /** A waiting task was cancelled: it no longer counts, and leaves the parking lot at once. */
  remove(task: Task): void {
    this.#size--;
    const parked = this.#parked.get(task.name);
    const index = parked?.indexOf(task) ?? -1;
    if (index >= 0) {
      parked!.splice(index, 1);
      if (parked!.length === 0) this.#parked.delete(task.name);
    }
    this.#sweep();
  }

  /** Takes out every waiting task `which` picks (they are left for the caller to settle). */
  removeWhere(which: (task: Task) => boolean): Task[] {
    const out: Task[] = [];
    for (let i = 0; i < this.#deque.length; i++) {
      const task = this.#deque.at(i);
      if (task !== undefined && task.state === QUEUED && which(task)) out.push(task);
    }
    for (const [name, tasks] of this.#parked) {
      const kept = tasks.filter((task) => !which(task));
      out.push(...tasks.filter((task) => which(task)));
      if (kept.length === 0) this.#parked.delete(name);
      else this.#parked.set(name, kept);
    }
    this.#size -= out.length;
    this.#sweep();
    return out;
  }

  /** Takes every parked task out. */
  drainParked(): Task[] {
    const parked = [...this.#parked.values()].flat();
    this.#parked.clear();
    this.#size -= parked.length;
    return parked;
  }

  /** Takes every waiting task out. */
  clear(): Task[] {
    const all = [...this.#deque.clear().filter((task) => task.state === QUEUED), ...this.drainParked()];
    this.#size = 0;
    return all;
  }

  /** Past a point, the holes that cancelled and taken tasks leave are swept out. */
  #sweep(): void {
    if (this.#deque.length > 2 * this.#size + 1024) this.#deque.compact((task) => task.state === QUEUED);
  }
}
