export { createPool, Pool, type PoolEvents, type TaskProxy } from './pool.js';
export type { PoolMode, PoolOptions } from './options.js';
export type { RunOptions, SchedulerStats as PoolStats } from './scheduler/scheduler.js';
export type { Percentiles } from './scheduler/stats.js';
export type { WorkerInfo } from './backends/types.js';
export * from './errors.js';
export { startAgent, Agent, type AgentOptions, type AgentEvents } from './agent/agent.js';
export type { AgentInfo } from './backends/remote.js';
export type { ListenOptions, TransportTlsOptions } from './transport/options.js';
