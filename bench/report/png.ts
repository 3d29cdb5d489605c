/**
 * Renders the report's SVG charts to PNG (resvg, no browser), to look at them as a
 * reader would: `node --import tsx bench/report/png.ts [RESULTS_DIR] [OUT_DIR]`.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Resvg } from '@resvg/resvg-js';

const results = process.argv[2] ?? fileURLToPath(new URL('../results', import.meta.url));
const out = process.argv[3] ?? join(results, 'charts');
mkdirSync(out, { recursive: true });
for (const name of readdirSync(join(results, 'charts')).filter((n) => n.endsWith('.svg'))) {
  const svg = readFileSync(join(results, 'charts', name), 'utf8');
  const png = new Resvg(svg, { background: '#ffffff', fitTo: { mode: 'zoom', value: 1.5 } }).render().asPng();
  writeFileSync(join(out, name.replace(/\.svg$/, '.png')), png);
  console.log(join(out, name.replace(/\.svg$/, '.png')));
}
