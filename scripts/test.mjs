// Runs every test/**/*.test.ts in a process (and process group) of its own, so a hung
// or leaking file cannot hide: each file has a deadline, and anything it leaves
// running in its group counts as a failure and is killed. A passing file gets one line;
// a failing file's whole output is shown (tests that provoke errors on purpose print
// stacks that would only look like failures). TROUPE_TEST_VERBOSE=1 shows every output.
// Usage: node scripts/test.mjs [path-substring ...]
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const fileTimeoutMs = Number(process.env.TROUPE_TEST_FILE_TIMEOUT_MS ?? 180_000);
const filters = process.argv.slice(2);
const verbose = process.env.TROUPE_TEST_VERBOSE === '1';

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (name === 'fixtures' || name === 'node_modules') continue;
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

// Helpers such as the TypeScript loader's esbuild service exit just after their parent:
// give the group a moment to empty before calling anything left a leak.
async function groupLingers(pgid, graceMs = 2000) {
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid)) {
    if (Date.now() > deadline) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function runFile(file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_DISABLE_COLORS: '1', NO_COLOR: '1' },
    });
    let output = '';
    const started = Date.now();
    const collect = (chunk) => {
      output += chunk;
      if (verbose) process.stdout.write(chunk);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => {
      output += `\n[test runner] ${file} passed its ${fileTimeoutMs} ms deadline\n`;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, fileTimeoutMs);
    child.on('close', async (code, signal) => {
      clearTimeout(timer);
      const number = (label) => Number(output.match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm'))?.[1] ?? NaN);
      const total = number('Total');
      const passed = number('Passed');
      const skipped = number('Skipped') || 0;
      let failed = Number.isNaN(total) ? 1 : total - passed - skipped;
      const problems = [];
      if (code !== 0) problems.push(`exited with ${signal ?? code}`);
      if (await groupLingers(child.pid)) {
        problems.push('left processes running in its group (killed now)');
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {}
      }
      if (problems.length > 0 && failed === 0) failed = 1;
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (failed > 0 || problems.length > 0) {
        if (!verbose) process.stdout.write(`\n# ${file}\n${output}`);
        for (const p of problems) console.log(`[test runner] ${file}: ${p}`);
        console.log(`FAIL ${file} (${seconds} s)`);
      } else {
        console.log(`ok   ${file}: ${Number.isNaN(passed) ? 0 : passed} passed${skipped ? `, ${skipped} skipped` : ''} (${seconds} s)`);
      }
      resolve({ passed: Number.isNaN(passed) ? 0 : passed, failed, skipped });
    });
  });
}

const files = findTests(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
let passed = 0;
let failed = 0;
let skipped = 0;
const failedFiles = [];
const started = Date.now();
for (const file of files) {
  if (verbose) console.log(`\n# ${file}`);
  const r = await runFile(file);
  passed += r.passed;
  failed += r.failed;
  skipped += r.skipped;
  if (r.failed > 0) failedFiles.push(file);
}
console.log(`\n${files.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s`);
if (failedFiles.length > 0) console.log(`failing files: ${failedFiles.join(', ')}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 || files.length === 0 ? 1 : 0;
