// Bundles each worker entry (thread, process) with the modules only workers use into one
// file, after tsc: a fresh thread or process then loads one module where it loaded
// seventeen, about 8 ms less per start here. errors.js stays a module of its own, so task
// code that imports `troupe` gets the very error classes the runtime throws. Without esbuild
// (a devDependency) the entries stay as tsc wrote them: they work the same, only start slower.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let esbuild;
try {
  esbuild = createRequire(`${root}package.json`)('esbuild');
} catch {
  console.error('troupe: esbuild is not installed here; the worker entries stay unbundled');
  process.exit(0);
}
for (const entry of ['thread-entry', 'process-entry']) {
  const file = `${root}dist/worker/${entry}.js`;
  esbuild.buildSync({
    entryPoints: [file],
    outfile: file,
    allowOverwrite: true,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    external: ['../errors.js'],
    logLevel: 'warning',
  });
}
