// The package as users install it: CommonJS require(), what `npm pack` ships, and a build
// step that says what to do where the TypeScript compiler is missing.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, removeDir, ROOT, runNode, tempDir } from './helpers.js';

test('CommonJS: require("troupe") runs a pool (require of an ES module, Node >= 20.19)', async () => {
  const code =
    `const { createPool } = require('troupe');` +
    `createPool({ tasks: ${JSON.stringify(fixture('tasks.js').href)}, mode: 'process', size: 1 })` +
    `.then(async (pool) => { console.log('result ' + await pool.run('square', [5])); await pool.close(); });`;
  const result = await runNode(['-e', code], 30_000, { ...process.env, NODE_OPTIONS: '' });
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, /^result 25$/m);
  assert.not.match(result.stderr, /ExperimentalWarning/);
});

test('npm pack ships the build (dist/), so a tarball installs without a compiler', () => {
  const packed = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
  assert.is(packed.status, 0, packed.stderr);
  const [{ files }] = JSON.parse(packed.stdout) as [{ files: { path: string }[] }];
  const paths = new Set(files.map((f) => f.path));
  for (const path of ['dist/index.js', 'dist/index.d.ts', 'dist/cli.js', 'dist/worker/process-entry.js', 'package.json']) {
    assert.ok(paths.has(path), `${path} is in the tarball`);
  }
});

test('prepare without the TypeScript compiler: says to run npm install first (or keeps a dist/ already built)', () => {
  const dir = tempDir();
  try {
    mkdirSync(join(dir, 'scripts'));
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    copyFileSync(join(ROOT, 'scripts/prepare.mjs'), join(dir, 'scripts/prepare.mjs'));
    const bare = spawnSync(process.execPath, ['scripts/prepare.mjs'], { cwd: dir, encoding: 'utf8' });
    assert.is(bare.status, 1);
    assert.match(bare.stderr, /building needs the TypeScript compiler.*run `npm install` in/);
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'dist/index.js'), '');
    const built = spawnSync(process.execPath, ['scripts/prepare.mjs'], { cwd: dir, encoding: 'utf8' });
    assert.is(built.status, 0, built.stderr);
  } finally {
    removeDir(dir);
  }
});

test.run();
