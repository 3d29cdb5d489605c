/**
 * When a local worker is due to be replaced (Python's maxtasksperchild, tinypool's memory
 * limit): after `maxTasksPerWorker` tasks, or once it reports more than
 * `maxMemoryPerWorker` MiB on its JS heap. It then takes nothing new and is retired once
 * `mayRetire` allows.
 */
import type { Results } from '../worker/batch.js';
import type { Backend, RecyclingState } from './types.js';

const MIB = 1024 * 1024;

export interface RecyclingOptions {
  maxTasksPerWorker: number;
  maxMemoryPerWorker: number;
}

export class Recycling implements RecyclingState {
  #budget: number;
  readonly #maxHeapBytes: number;
  #overMemory = false;

  readonly #maxTasks: number;

  constructor(options: RecyclingOptions) {
    this.#maxTasks = options.maxTasksPerWorker;
    this.#budget = this.#maxTasks;
    this.#maxHeapBytes = options.maxMemoryPerWorker * MIB;
  }

  /** It is not recycled after all (it hosts actors): it serves on, with a fresh budget. */
  reprieve(): void {
    this.#budget = this.#maxTasks;
    this.#overMemory = false;
  }

  /** Whether the worker must report its heap with its results. */
  get watchesHeap(): boolean {
    return this.#maxHeapBytes !== Infinity;
  }

  /** Tasks the worker may still be sent. */
  get budget(): number {
    return this.#budget;
  }

  dispatched(count: number): void {
    this.#budget -= count;
  }

  reported(results: Results): void {
    if (results.heap !== undefined && results.heap > this.#maxHeapBytes) this.#overMemory = true;
  }

  get due(): boolean {
    return this.#budget <= 0 || this.#overMemory;
  }
}

/**
 * The one rule for stopping a worker on purpose while the pool runs on, whether it is
 * recycled or idle: never while it holds a task, so that no task is lost or run twice.
 * Nor while it hosts actors: they would have to restart elsewhere, and lose their state.
 */
export function mayRetire(inFlight: number, actors: number): boolean {
  return inFlight === 0 && actors === 0;
}

/**
 * What to do with a backend whose recycling is due: retire it once `mayRetire` allows, but
 * reprieve one hosting actors (it serves on rather than holding back tasks for their life).
 */
export function reviewRetirement(backend: Backend, inFlight: number, actors: number): void {
  const recycling = backend.recycling;
  if (recycling === undefined || !recycling.due) return;
  if (actors > 0) recycling.reprieve();
  else if (mayRetire(inFlight, actors)) backend.retire?.();
}
