#!/usr/bin/env node
// The `troupe` command. `troupe agent …` lends this machine's workers to a scheduler.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startAgent, type Agent } from './agent/agent.js';
import { AuthenticationError, InvalidOptionError } from './errors.js';

const HELP = `Usage: troupe agent --connect HOST:PORT --tasks MODULE [options]

Lends this machine's workers to a Troupe scheduler (a pool created with \`listen\`).

  --connect HOST:PORT     the scheduler's address (required)
  --tasks MODULE          the task module, as installed on this machine (required)
  --authkey-file FILE     file holding the authkey; else the TROUPE_AUTHKEY variable
  --mode process|thread   where tasks run (default: process)
  --size N                number of workers (default: the number of CPUs)
  --tls-ca FILE           trust this CA for the scheduler's certificate (turns TLS on)
  --tls-cert FILE         this agent's certificate, for mutual TLS
  --tls-key FILE          its private key
  --help                  show this text

Exit status: 0 on SIGINT/SIGTERM, 1 when the scheduler refuses the authkey (or the
agent) or the workers cannot start, 2 on a usage error (a bad flag, option or file).
`;

function usage(message: string): never {
  process.stderr.write(`troupe: ${message}\n\n${HELP}`);
  process.exit(2);
}

function describeFailure(error: Error): string {
  return error instanceof AuthenticationError ? `authentication failed: ${error.message}` : error.message;
}

function readKey(file: string | undefined): Buffer {
  if (file !== undefined) {
    const bytes = readFileSync(file);
    // A text key written by `echo` ends in a newline that is not part of the key; a binary
    // key is used byte for byte.
    const text = bytes.toString('latin1');
    return /^[\x20-\x7e]+\r?\n$/.test(text) ? Buffer.from(text.replace(/\r?\n$/, ''), 'latin1') : bytes;
  }
  const fromEnv = process.env.TROUPE_AUTHKEY;
  if (!fromEnv) usage('an authkey is required: --authkey-file FILE or the TROUPE_AUTHKEY variable');
  return Buffer.from(fromEnv);
}

async function agentCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      connect: { type: 'string' },
      tasks: { type: 'string' },
      'authkey-file': { type: 'string' },
      mode: { type: 'string', default: 'process' },
      size: { type: 'string' },
      'tls-ca': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (!values.connect) usage('--connect HOST:PORT is required');
  if (!values.tasks) usage('--tasks MODULE is required');
  if (values.mode !== 'process' && values.mode !== 'thread') usage('--mode must be "process" or "thread"');
  const size = values.size === undefined ? undefined : Number(values.size);
  if (size !== undefined && !(Number.isInteger(size) && size > 0)) usage('--size must be a positive integer');
  const file = (name: string | undefined) => (name === undefined ? undefined : readFileSync(name));
  const tls = values['tls-ca'] || values['tls-cert'] || values['tls-key']
    ? { ca: file(values['tls-ca']), cert: file(values['tls-cert']), key: file(values['tls-key']) }
    : undefined;

  // Stopped while still looking for the scheduler: nothing is in flight, so leave at once
  // (worker processes follow when their channel closes).
  const early = () => process.exit(0);
  process.once('SIGINT', early);
  process.once('SIGTERM', early);
  let agent: Agent;
  try {
    agent = await startAgent({
      connect: values.connect,
      authkey: readKey(values['authkey-file']),
      tasks: resolve(values.tasks),
      mode: values.mode,
      size,
      tls,
    });
  } catch (error) {
    if (error instanceof InvalidOptionError) usage((error as Error).message);
    process.stderr.write(`troupe agent: ${describeFailure(error as Error)}\n`);
    process.exit(1);
  }
  process.off('SIGINT', early);
  process.off('SIGTERM', early);
  const where = `${values.connect}`;
  process.stderr.write(`troupe agent: connected to ${where}\n`);
  agent.on('disconnect', (error) =>
    process.stderr.write(`troupe agent: lost ${where}${error ? ` (${error.message})` : ''}; reconnecting\n`),
  );
  agent.on('connect', () => process.stderr.write(`troupe agent: connected to ${where}\n`));
  agent.on('error', (error) => {
    process.stderr.write(`troupe agent: ${describeFailure(error)}\n`);
    process.exitCode = 1;
  });
  const stop = () => void agent.close().then(() => process.exit(process.exitCode ?? 0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'agent') {
  await agentCommand(rest).catch((error: Error) => usage(error.message));
} else if (command === 'bench') {
  const { benchCommand } = await import('./bench/command.js');
  process.exitCode = await benchCommand(rest);
} else if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
  process.stdout.write(HELP);
} else {
  usage(`unknown command "${command}"`);
}
