#!/usr/bin/env node
// The `troupe` command. `troupe agent …` lends this machine's workers to a scheduler.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent, type AgentOptions, type ConnectFailure } from './agent/agent.js';
import { SUPERVISED_ENV, superviseInline, type FinalExit } from './agent/supervisor.js';
import { isAgentMode } from './backends/remote-protocol.js';
import { AuthenticationError, InvalidOptionError } from './errors.js';

const HELP = `Usage: troupe agent --connect HOST:PORT --tasks MODULE [options]
       troupe bench --tasks MODULE --task NAME [options]   (see troupe bench --help)
       troupe --version | --help

Lends this machine's workers to a Troupe scheduler (a pool created with \`listen\`).

  --connect HOST:PORT          the scheduler's address (required)
  --tasks MODULE               the task module, as installed on this machine (required)
  --authkey-file FILE          file holding the authkey; else the TROUPE_AUTHKEY variable
  --mode process|thread|inline where tasks run (default: process); inline: each
                               worker is an agent process of its own, running tasks on
                               its event loop with its own connection, no hop (for tasks
                               that await I/O or end within the heartbeat timeout)
  --size N                     number of workers (default: the number of CPUs)
  --max-in-flight N            most tasks in flight to one worker (default: 1024)
  --start-timeout MS           how long a worker may take to load the module (default: 30000)
  --worker-data JSON           what the module's setup(workerData) gets in each worker
  --max-tasks-per-worker N     replace a worker after N tasks (default: never)
  --max-memory-per-worker MIB  replace a worker whose JS heap is over MIB (default: never)
  --max-old-generation-size-mb MB
                               a worker's heap limit (resourceLimits.maxOldGenerationSizeMb)
  --atomics sync|async|disabled
                               threads: how an idle thread waits (default: disabled)
  --reconnect-delay MS         first pause before reconnecting, doubling (default: 100)
  --max-reconnect-delay MS     longest pause between reconnect attempts (default: 2000)
  --handshake-timeout MS       deadline of the authkey handshake (default: 5000)
  --heartbeat-interval MS      how often to ping the scheduler (default: 1000)
  --heartbeat-timeout MS       silence after which the scheduler counts as lost (default: 3000)
  --max-frame-bytes N          largest message accepted (default: 67108864)
  --tls-ca FILE                trust this CA for the scheduler's certificate (turns TLS on)
  --tls-cert FILE              this agent's certificate, for mutual TLS
  --tls-key FILE               its private key
  --version                    print the version
  --help                       show this text

Exit status: 0 on SIGINT/SIGTERM, 1 when the scheduler refuses the authkey (or the
agent) or the workers cannot start, 2 on a usage error (a bad flag, option or file).
`;

/** Numeric flags and the startAgent option each sets. */
const NUMBER_FLAGS = {
  size: 'size',
  'max-in-flight': 'maxInFlight',
  'start-timeout': 'startTimeout',
  'max-tasks-per-worker': 'maxTasksPerWorker',
  'max-memory-per-worker': 'maxMemoryPerWorker',
  'reconnect-delay': 'reconnectDelay',
  'max-reconnect-delay': 'maxReconnectDelay',
  'handshake-timeout': 'handshakeTimeoutMs',
  'heartbeat-interval': 'heartbeatIntervalMs',
  'heartbeat-timeout': 'heartbeatTimeoutMs',
  'max-frame-bytes': 'maxFrameBytes',
} as const satisfies Record<string, keyof AgentOptions>;
type NumberFlag = keyof typeof NUMBER_FLAGS;

/** A usage error: one line, and where to read more. */
function usage(message: string): never {
  process.stderr.write(`troupe: ${message}\nsee troupe agent --help\n`);
  process.exit(2);
}

/** Started by `superviseInline`: it reports final failures and stops with its supervisor. */
const supervised = process.env[SUPERVISED_ENV] !== undefined && process.send !== undefined;

/** Exits with a status that retrying cannot change; an inline worker first tells its supervisor so (and waits until that is written). */
async function exitFinal(status: number): Promise<never> {
  if (supervised && process.connected) {
    const message: FinalExit = { troupeFinalExit: status };
    await new Promise((written) => process.send!(message, undefined, {}, written));
  }
  process.exit(status);
}

/** `argv` without its --size flag (and value). */
function withoutSize(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--size') i++;
    else if (!argv[i].startsWith('--size=')) out.push(argv[i]);
  }
  return out;
}

/** An option error from startAgent, named as the flag that set it. */
function flagMessage(message: string): string {
  for (const [flag, option] of Object.entries(NUMBER_FLAGS)) {
    message = message.replace(new RegExp(`(option )?"?\\b${option}\\b"?`, 'g'), `--${flag}`);
  }
  return message;
}

function describeFailure(error: Error): string {
  return error instanceof AuthenticationError ? `authentication failed: ${error.message}` : error.message;
}

function readFlagFile(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : message;
    usage(`cannot read ${flag} ${file}: ${why}${code ? ` (${code})` : ''}`);
  }
}

function readKey(file: string | undefined): Buffer {
  if (file !== undefined) {
    const bytes = readFlagFile('--authkey-file', file);
    // A text key written by `echo` ends in a newline that is not part of the key; a binary
    // key is used byte for byte.
    const text = bytes.toString('latin1');
    return /^[\x20-\x7e]+\r?\n$/.test(text) ? Buffer.from(text.replace(/\r?\n$/, ''), 'latin1') : bytes;
  }
  const fromEnv = process.env.TROUPE_AUTHKEY;
  if (!fromEnv) usage('an authkey is required: --authkey-file FILE or the TROUPE_AUTHKEY variable');
  return Buffer.from(fromEnv);
}

/** Why an attempt to reach the scheduler failed, in a few words: DNS failures named as such. */
function connectReason(error: Error, host: string): string {
  const code = (error as NodeJS.ErrnoException).code ?? ((error as Error & { cause?: NodeJS.ErrnoException }).cause)?.code;
  if (code === 'ENOTFOUND') return `cannot resolve host "${host}" (DNS: ENOTFOUND)`;
  if (code === 'EAI_AGAIN') return `DNS lookup of "${host}" failed for now (EAI_AGAIN)`;
  if (code !== undefined && !code.startsWith('ERR_TROUPE')) return code;
  return error.message;
}

/**
 * Reports failed attempts without flooding: a changed reason at once, the same reason again
 * only at attempts 2, 4, 8, 16… of the run of failures.
 */
function connectReporter(): { failed(failure: ConnectFailure): void; connected(): void } {
  let last: string | undefined;
  return {
    failed({ host, port, error, attempt, retryIn }) {
      const reason = connectReason(error, host);
      if (reason === last && (attempt & (attempt - 1)) !== 0) return;
      last = reason;
      const seconds = (retryIn / 1000).toFixed(1);
      const count = attempt > 1 ? ` (attempt ${attempt})` : '';
      process.stderr.write(`troupe agent: connecting to ${host}:${port}: ${reason}, retrying in ${seconds} s${count}\n`);
    },
    connected() {
      last = undefined;
    },
  };
}

function numbers(values: Partial<Record<NumberFlag, string>>): Partial<AgentOptions> {
  const out: Record<string, number> = {};
  for (const [flag, option] of Object.entries(NUMBER_FLAGS) as [NumberFlag, string][]) {
    const text = values[flag];
    if (text === undefined) continue;
    const value = text.trim() === '' ? NaN : Number(text);
    if (Number.isNaN(value)) usage(`--${flag} must be a number; got ${JSON.stringify(text)}`);
    out[option] = value;
  }
  return out;
}

/** --worker-data, --max-old-generation-size-mb and --atomics, as startAgent options. */
function lifecycleOptions(values: Record<string, string | boolean | undefined>): Partial<AgentOptions> {
  const out: Partial<AgentOptions> = {};
  const data = values['worker-data'];
  if (typeof data === 'string') {
    try {
      out.workerData = JSON.parse(data);
    } catch {
      usage(`--worker-data must be JSON; got ${JSON.stringify(data)}`);
    }
  }
  const heap = values['max-old-generation-size-mb'];
  if (typeof heap === 'string') {
    const mb = Number(heap);
    if (heap.trim() === '' || !(mb > 0) || mb === Infinity) usage(`--max-old-generation-size-mb must be a number of MB > 0; got ${JSON.stringify(heap)}`);
    out.resourceLimits = { maxOldGenerationSizeMb: mb };
  }
  const atomics = values.atomics;
  if (typeof atomics === 'string') {
    if (atomics !== 'sync' && atomics !== 'async' && atomics !== 'disabled') usage('--atomics must be "sync", "async" or "disabled"');
    out.atomics = atomics;
  }
  return out;
}

async function agentCommand(argv: string[]): Promise<void> {
  const numberOptions = Object.fromEntries(Object.keys(NUMBER_FLAGS).map((flag) => [flag, { type: 'string' }])) as Record<
    NumberFlag,
    { type: 'string' }
  >;
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        connect: { type: 'string' },
        tasks: { type: 'string' },
        'authkey-file': { type: 'string' },
        mode: { type: 'string', default: 'process' },
        'worker-data': { type: 'string' },
        'max-old-generation-size-mb': { type: 'string' },
        atomics: { type: 'string' },
        ...numberOptions,
        'tls-ca': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    usage((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (!values.connect) usage('--connect HOST:PORT is required');
  if (!values.tasks) usage('--tasks MODULE is required');
  const mode = values.mode;
  if (!isAgentMode(mode)) usage('--mode must be "process", "thread" or "inline"');
  const tuning = numbers(values);
  if (tuning.size !== undefined && !(Number.isInteger(tuning.size) && tuning.size > 0)) {
    usage('--size must be a positive integer');
  }
  const lifecycle = lifecycleOptions(values);
  const file = (flag: string, name: string | undefined) => (name === undefined ? undefined : readFlagFile(flag, name));
  const tls = values['tls-ca'] || values['tls-cert'] || values['tls-key']
    ? {
        ca: file('--tls-ca', values['tls-ca']),
        cert: file('--tls-cert', values['tls-cert']),
        key: file('--tls-key', values['tls-key']),
      }
    : undefined;
  const authkey = readKey(values['authkey-file']);
  // Inline: one agent process per worker, each with its own connection, under this one.
  const size = tuning.size ?? (mode === 'inline' ? availableParallelism() : undefined);
  if (mode === 'inline' && size !== undefined && size > 1) {
    process.exitCode = await superviseInline(fileURLToPath(import.meta.url), withoutSize(argv), size);
    return;
  }

  // Stopped while still starting or looking for the scheduler: nothing is in flight, so
  // leave at once (worker processes follow when their channel closes). Once connected, stop
  // cleanly. One listener throughout: removing a signal's last listener drops a signal
  // that has arrived but not yet been dispatched, and the agent would never stop.
  let onSignal: () => void = () => process.exit(0);
  process.on('SIGINT', () => onSignal());
  process.on('SIGTERM', () => onSignal());
  // An inline worker goes with its supervisor: its channel closes however that ends.
  if (supervised) process.on('disconnect', () => onSignal());
  let agent: Agent;
  try {
    agent = await Agent.create({
      ...tuning,
      ...lifecycle,
      connect: values.connect,
      authkey,
      tasks: resolve(values.tasks),
      mode,
      tls,
    });
  } catch (error) {
    if (error instanceof InvalidOptionError) usage(flagMessage(error.message));
    process.stderr.write(`troupe agent: ${describeFailure(error as Error)}\n`);
    return exitFinal(1);
  }
  const where = `${values.connect}`;
  const reporter = connectReporter();
  agent.on('connectFailed', (failure) => reporter.failed(failure));
  try {
    await agent.join();
  } catch (error) {
    process.stderr.write(`troupe agent: ${describeFailure(error as Error)}\n`);
    return exitFinal(1);
  }
  reporter.connected();
  process.stderr.write(`troupe agent: connected to ${where}\n`);
  agent.on('disconnect', (error) =>
    process.stderr.write(`troupe agent: lost ${where}${error ? ` (${error.message})` : ''}; reconnecting\n`),
  );
  agent.on('connect', () => {
    reporter.connected();
    process.stderr.write(`troupe agent: connected to ${where}\n`);
  });
  agent.on('error', (error) => {
    process.stderr.write(`troupe agent: ${describeFailure(error)}\n`);
    process.exitCode = 1;
    // The agent has stopped itself for good: a supervisor must not start it again.
    if (supervised) void agent.close().then(() => exitFinal(1));
  });
  onSignal = () => void agent.close().then(() => process.exit(process.exitCode ?? 0));
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'agent') {
  await agentCommand(rest);
} else if (command === 'bench') {
  const { benchCommand } = await import('./bench/command.js');
  process.exitCode = await benchCommand(rest);
} else if (command === '--help' || command === '-h' || command === 'help') {
  process.stdout.write(HELP);
} else if (command === '--version' || command === '-v') {
  process.stdout.write(`${version()}\n`);
} else if (command === undefined) {
  process.stderr.write(HELP);
  process.exit(2);
} else {
  usage(`unknown command "${command}"`);
}
