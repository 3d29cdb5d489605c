// `npm run prepare`: builds dist/ with the TypeScript compiler (then bundles the worker entries). npm runs it on `npm install`
// in a clone, for a git dependency (after installing devDependencies) and for `npm pack`;
// also for `npm install <folder>`, but without installing the folder's devDependencies, so
// there it says what to do instead of failing with "tsc: not found".
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let tsc;
try {
  tsc = createRequire(`${root}package.json`).resolve('typescript/bin/tsc');
} catch {
  if (existsSync(`${root}dist/index.js`)) {
    console.error('troupe: the TypeScript compiler is not installed here; keeping the dist/ already built');
    process.exit(0);
  }
  console.error(
    `troupe: building needs the TypeScript compiler, a devDependency: run \`npm install\` in ${root} first\n` +
      '(or install a tarball made there with `npm pack`, which contains the build)',
  );
  process.exit(1);
}
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
const bundled = spawnSync(process.execPath, [`${root}scripts/bundle-workers.mjs`], { cwd: root, stdio: 'inherit' });
process.exit(bundled.status ?? 1);
