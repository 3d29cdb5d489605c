import type { Backend, CallReply } from '../backends/types.js';
import type { ActorInfo, ResolvedSpawnOptions } from './types.js';

/** Who waits on a message's outcome. */
export type Reply =
  /** A caller in this process. */
  | { kind: 'promise'; resolve(value: unknown): void; reject(error: Error): void }
  /** A tell: a failure is emitted as 'actorError'. */
  | { kind: 'tell' }
  /** Code in a worker, behind an agent or in a client that called: the answer goes back to it. */
  | { kind: 'remote'; id: number; answer(reply: CallReply): void };

/** One message to an actor, from the call until its one outcome. */
export class Message {
  /** Its entry's wire id once sent; 0 before. */
  wireId = 0;
  /** The backend holding it, while it is in flight. */
  host: Backend | undefined = undefined;
  /** Someone waits on its outcome (so its backend keeps this process alive). */
  awaited = false;
  timer: NodeJS.Timeout | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  signal: AbortSignal | undefined = undefined;
  settled = false;

  constructor(
    readonly actor: ActorRecord,
    readonly method: string,
    readonly args: readonly unknown[],
    readonly chain: readonly number[],
    readonly reply: Reply,
  ) {}
}

export const PLACING = 0;
export const LIVE = 1;
export const STOPPING = 2;
export const STOPPED = 3;

/**
 * An actor of the pool, across its incarnations: each placement (the first, and each
 * restart) spawns it again, under a new id, in one worker.
 */
export class ActorRecord {
  state = PLACING;
  /** The current incarnation's id: its spawn entry's wire id (0 while unplaced). */
  incarnation = 0;
  backend: Backend | undefined = undefined;
  /** When it was restarted, within the policy's window. */
  readonly restartTimes: number[] = [];
  restarts = 0;
  /** Messages sent and not yet settled (the system finds them by wire id). */
  inFlight = 0;
  /** Not sent yet, in the order sent: waiting for the end of the turn, for a placement, or for room in the mailbox. */
  unsent: Message[] = [];
  /** Stopping, and its STOP entry is on its way. */
  stopSent = false;
  /** Constructed in its current incarnation (the spawn entry was reported started). */
  constructed = false;
  onStarted: ((error?: Error) => void) | undefined = undefined;
  /** Resolves `stop()` callers once it has stopped. */
  stopWaiters: (() => void)[] = [];
  lastError: Error | undefined = undefined;

  constructor(
    readonly id: number,
    readonly className: string,
    readonly args: readonly unknown[],
    readonly options: ResolvedSpawnOptions,
  ) {}

  get name(): string | undefined {
    return this.options.name;
  }

  /** What its mailbox holds: messages sent and unsettled, and those not sent yet. */
  get queued(): number {
    return this.inFlight + this.unsent.length;
  }

  /** How it is named in errors. */
  get label(): string {
    return this.name !== undefined ? JSON.stringify(this.name.slice(0, 200)) : `#${this.id} (${this.className})`;
  }

  info(): ActorInfo {
    return { id: this.id, name: this.name, className: this.className, worker: this.backend?.id, restarts: this.restarts };
  }
}
