// The multi-host suite (test/hosts): checks that network namespaces can be made here, runs
// test/hosts/main.ts under a deadline, and afterwards removes whatever the run left, even
// if it crashed or was interrupted: namespaces named after the run and processes marked
// with it. Prints "SKIPPED: <reason>" and exits 0 only where namespaces cannot be made.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const deadlineMs = Number(process.env.TROUPE_HOSTS_TIMEOUT_MS ?? 18 * 60_000);
const runId = randomBytes(3).toString('hex');
const prefix = `trp${runId}`;

function skip(reason) {
  console.log(`SKIPPED: ${reason}`);
  process.exit(0);
}

function ip(...args) {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

try {
  ip('-V');
} catch {
  skip('the ip command (iproute2) is not installed');
}
try {
  ip('netns', 'add', `${prefix}probe`);
  ip('netns', 'del', `${prefix}probe`);
} catch (error) {
  skip(`network namespaces cannot be created here (${String(error.stderr ?? error.message).trim()})`);
}

function leftovers() {
  const needle = `TROUPE_HOSTS_RUN=${runId}`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(needle)) process.kill(Number(entry), 'SIGKILL');
    } catch {}
  }
  for (const line of ip('netns', 'list').split('\n')) {
    const name = line.split(' ')[0];
    if (name.startsWith(prefix)) {
      try {
        ip('netns', 'del', name);
        console.log(`removed namespace ${name} left by the run`);
      } catch {}
    }
  }
}

const child = spawn(process.execPath, ['--import', 'tsx', 'test/hosts/main.ts', ...process.argv.slice(2)], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, TROUPE_HOSTS_RUN_ID: runId },
});
let last = '';
child.stdout.setEncoding('utf8').on('data', (chunk) => {
  process.stdout.write(chunk);
  last = (last + chunk).slice(-2000);
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
const timer = setTimeout(() => {
  console.log(`\nthe multi-host suite passed its ${deadlineMs / 1000} s deadline`);
  child.kill('SIGKILL');
}, deadlineMs);
child.on('close', (code, signal) => {
  clearTimeout(timer);
  leftovers();
  const summary = last.trim().split('\n').pop() ?? '';
  if (!/^\d+ passed, \d+ failed$/.test(summary)) {
    console.log(`the suite ended without its summary (${signal ?? `exit ${code}`})`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  process.exit(code === 0 ? 0 : 1);
});
