// Tables, the one-line verdict and the Markdown file of a `troupe bench` run.
import type { BenchResult, CellResult } from './runner.js';
import { median, ratios, spread } from './stats.js';

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const ms = (n: number) => (Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(2) : n.toFixed(3)) : 'n/a');
const mib = (bytes: number) => (Number.isFinite(bytes) ? (bytes / 2 ** 20).toFixed(1) : 'n/a');

export interface CellSummary {
  mode: string;
  size: number;
  tasksPerSecond: ReturnType<typeof spread>;
  p50Ms: number;
  p99Ms: number;
  cpuMsPerTask: number;
  rssGrowthMiB: number;
}

export function summarize(cell: CellResult): CellSummary {
  const of = (pick: (r: CellResult['rounds'][number]) => number) => cell.rounds.map(pick);
  return {
    mode: cell.mode,
    size: cell.size,
    tasksPerSecond: spread(of((r) => r.tasksPerSecond)),
    p50Ms: median(of((r) => r.p50Ms)),
    p99Ms: median(of((r) => r.p99Ms)),
    cpuMsPerTask: median(of((r) => r.cpuMsPerTask)),
    // Growth adds up over the cell's own rounds only: other cells' rounds fall in between.
    rssGrowthMiB: of((r) => r.rssGrowthBytes).reduce((a, b) => a + b, 0) / 2 ** 20,
  };
}

/** "process mode is 1.80× thread mode for this task at size 4 (per round: 1.71–1.93×)". */
export function verdict(result: BenchResult): string {
  const size = Math.max(...result.options.sizes);
  const atSize = result.cells.filter((c) => c.size === size);
  const rates = (c: CellResult) => c.rounds.map((r) => r.tasksPerSecond);
  const ranked = [...atSize].sort((a, b) => median(rates(b)) - median(rates(a)));
  const [best, next] = ranked;
  if (!best) return 'no figures';
  if (next) {
    const per = ratios(rates(best), rates(next));
    const range = per.length > 1 ? ` (per round: ${fixed(Math.min(...per), 2)}–${fixed(Math.max(...per), 2)}×)` : '';
    return `${best.mode} mode is ${fixed(median(per), 2)}× ${next.mode} mode for this task at size ${size}${range}, ${int(median(rates(best)))} tasks/s.`;
  }
  const smallest = result.cells.find((c) => c.mode === best.mode && c.size === Math.min(...result.options.sizes));
  const scale = smallest && smallest !== best ? `, ${fixed(median(ratios(rates(best), rates(smallest))), 2)}× its size ${smallest.size}` : '';
  return `${best.mode} mode runs ${int(median(rates(best)))} tasks/s for this task at size ${size}${scale}.`;
}

export function table(result: BenchResult): string {
  const headers = ['mode', 'size', 'tasks/s', 'min – max', 'p50 ms', 'p99 ms', 'CPU ms/task', 'RSS growth MiB'];
  const rows = result.cells.map(summarize).map((s) => [
    s.mode,
    String(s.size),
    int(s.tasksPerSecond.median),
    `${int(s.tasksPerSecond.min)} – ${int(s.tasksPerSecond.max)}`,
    ms(s.p50Ms),
    ms(s.p99Ms),
    ms(s.cpuMsPerTask),
    mib(s.rssGrowthMiB * 2 ** 20),
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < 1 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

export function markdown(result: BenchResult): string {
  const o = result.options;
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  return [
    `# troupe bench: ${result.task}`,
    '',
    `\`${result.task}(${result.args === '[]' ? '' : result.args})\` from \`${result.tasksModule}\`, ${o.inFlightPerWorker} tasks in flight per worker, ` +
      `${o.rounds} interleaved rounds of ${int(o.durationMs / o.rounds)} ms per mode and size after a ${int(o.warmupMs)} ms warm-up.`,
    '',
    table(result),
    '',
    `**${verdict(result)}**`,
    '',
    '- tasks/s: median of the rounds (min – max); p50/p99: submit → result latency, median of the rounds; ' +
      'CPU: this process and every process it started, per task; RSS growth: summed over the mode and size\'s own rounds.',
    `- ${result.machine.cpus} cpus (${result.machine.cpuModel}), node ${result.machine.node}, ${result.machine.date}; ` +
      `load average before ${load(result.loadavg.before)}, after ${load(result.loadavg.after)}.`,
    '',
  ].join('\n');
}
