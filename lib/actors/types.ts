/** Where `spawn()` places an actor. */
export type Placement =
  /** Any worker that exports the class: the one hosting the fewest actors, then the least loaded. */
  | 'any'
  /** Only this pool's own worker threads or processes. */
  | 'local'
  /** Only on the agent with this id (AgentInfo.id); the actor waits for it while it is away. */
  | { agent: string };

export interface RestartPolicy {
  /** Most restarts within `withinMs`; one more and the actor stops for good. @default 3 */
  max: number;
  /** @default 60000 */
  withinMs: number;
}

export interface SpawnOptions {
  /** Unique in the pool while the actor lives; `pool.actor(name)` finds it. @default none */
  name?: string;
  /** @default 'any' */
  place?: Placement;
  /** Restarts when its worker dies, from its spawn arguments; `false` for never. @default { max: 3, withinMs: 60000 } */
  restart?: RestartPolicy | false;
  /** Most messages waiting for or in the actor at once (at least 1). @default 10000 */
  mailbox?: number;
  /** What `call()` and `tell()` do when the mailbox is full: reject with ERR_TROUPE_ACTOR_MAILBOX_FULL, or wait for room. @default 'reject' */
  overflow?: 'reject' | 'wait';
}

export interface ResolvedSpawnOptions {
  name: string | undefined;
  place: Placement;
  restart: RestartPolicy | false;
  mailbox: number;
  overflow: 'reject' | 'wait';
}

export interface CallOptions {
  /** Stops the caller's wait; the message is dropped if it has not started (the actor and its worker go on). */
  signal?: AbortSignal;
  /** ms; the same as an abort after that long. @default Infinity */
  timeout?: number;
}

/** What events and `ref.info()` say of an actor. */
export interface ActorInfo {
  /** Stable for the actor's life in the pool, across restarts. */
  id: number;
  name: string | undefined;
  className: string;
  /** The backend hosting it ('thread-…', 'process-…', 'agent-…'), if it is placed. */
  worker: string | undefined;
  restarts: number;
}

export interface ActorEvents {
  /** Spawned and constructed (also after each restart). */
  actorStart: [actor: ActorInfo];
  /** Its worker died; it is started again from its spawn arguments. Messages pending at the death were rejected. */
  actorRestart: [actor: ActorInfo, error: Error];
  /** Stopped: by `stop()` or `close()` (no error), or for good past its restart limit (the last error). */
  actorStop: [actor: ActorInfo, error?: Error];
  /** A `tell()` failed: there is nobody else to tell. */
  actorError: [actor: ActorInfo | { name: string }, failure: { method: string; error: Error }];
}
