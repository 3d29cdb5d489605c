/**
 * The report's charts, drawn by ECharts' server-side SVG renderer (no browser, no DOM).
 * Each function takes a suite's JSON and returns an SVG string, or undefined when the
 * JSON has nothing to draw.
 */
import * as echarts from 'echarts';

type Option = echarts.EChartsCoreOption;

const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
const TROUPE = ['#1f6feb', '#0b8f6a', '#d9480f', '#7048e8'];
const PEERS = ['#495057', '#868e96', '#adb5bd', '#343a40'];
const RAW = ['#e8a33d', '#c47f17', '#f2c572', '#9c6410', '#dcb36a'];

export function render(option: Option, width = 860, height = 440): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  chart.setOption({ animation: false, backgroundColor: '#ffffff', textStyle: { fontFamily: FONT }, ...option });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}

const isTroupe = (name: string) => name.startsWith('troupe');
const isRaw = (name: string) => name.startsWith('raw');

/** Troupe's series in strong colours, the peers in greys, the raw media in ambers. */
function palette(names: string[]): Map<string, string> {
  const next = { troupe: 0, peer: 0, raw: 0 };
  return new Map(
    names.map((n) => {
      if (isTroupe(n)) return [n, TROUPE[next.troupe++ % TROUPE.length]];
      if (isRaw(n)) return [n, RAW[next.raw++ % RAW.length]];
      return [n, PEERS[next.peer++ % PEERS.length]];
    }),
  );
}

const SIDE_LEGEND = { orient: 'vertical', left: 680, top: 'middle', itemGap: 12 };

const title = (text: string, subtext?: string) => ({ text, subtext, left: 'center', textStyle: { fontSize: 16 }, subtextStyle: { fontSize: 12, color: '#555' } });
const compact = (n: number) => (n >= 1e6 ? `${Number((n / 1e6).toPrecision(3))}M` : n >= 1e3 ? `${(n / 1e3).toFixed(n >= 1e5 ? 0 : 1)}k` : n >= 10 ? n.toFixed(0) : n.toPrecision(2));

interface Tiny {
  throughput?: { contenders?: { name: string; median: number; tasksPerSecond: number[] }[] };
  latency?: { contenders?: { name: string; medianP50: number; medianP99: number }[] };
  options?: { tasks?: number; inFlight?: number };
}

/** Horizontal bars on a log axis: tiny tasks/s per contender, Troupe's modes coloured. */
export function tinyThroughput(json: Tiny): string | undefined {
  const rows = (json.throughput?.contenders ?? []).filter((c) => Number.isFinite(c.median)).sort((a, b) => a.median - b.median);
  if (rows.length === 0) return undefined;
  const colours = palette(rows.map((r) => r.name));
  return render(
    {
      title: title('Tiny tasks: throughput (tasks/s, log scale)', `square(n), ${compact(json.options?.tasks ?? NaN)} tasks per run, ${json.options?.inFlight ?? '?'} in flight; median of rounds; black line: min – max of rounds`),
      grid: { left: 190, right: 90, top: 70, bottom: 40 },
      xAxis: { type: 'log', min: 1000, axisLabel: { formatter: (v: number) => compact(v) }, splitLine: { lineStyle: { color: '#eee' } } },
      yAxis: { type: 'category', data: rows.map((r) => r.name), axisLabel: { fontSize: 12 } },
      series: [
        {
          type: 'bar',
          data: rows.map((r) => ({ value: r.median, itemStyle: { color: colours.get(r.name) } })),
          barMaxWidth: 22,
        },
        {
          // min – max of the rounds as a line across the bar's end, the median written past it
          type: 'custom',
          renderItem: (_params: unknown, api: { value(i: number): number; coord(p: [number, number]): [number, number] }) => {
            const [x0, y] = api.coord([api.value(0), api.value(2)]);
            const [x1] = api.coord([api.value(1), api.value(2)]);
            return {
              type: 'group',
              children: [
                { type: 'line', shape: { x1: x0, y1: y, x2: x1, y2: y }, style: { stroke: '#212529', lineWidth: 1.5 } },
                { type: 'line', shape: { x1: x0, y1: y - 5, x2: x0, y2: y + 5 }, style: { stroke: '#212529', lineWidth: 1.5 } },
                { type: 'line', shape: { x1: x1, y1: y - 5, x2: x1, y2: y + 5 }, style: { stroke: '#212529', lineWidth: 1.5 } },
                { type: 'text', x: x1 + 8, y, style: { text: compact(api.value(3)), fill: '#212529', fontSize: 11, fontFamily: FONT, verticalAlign: 'middle' } },
              ],
            };
          },
          data: rows.map((r, i) => [Math.min(...r.tasksPerSecond), Math.max(...r.tasksPerSecond), i, r.median]),
          encode: { x: [0, 1], y: 2 },
          z: 10,
        },
      ],
    },
    860,
    90 + 34 * rows.length,
  );
}

/** Grouped bars: p50 and p99 of one task in flight, per contender (µs). */
export function tinyLatency(json: Tiny): string | undefined {
  const rows = (json.latency?.contenders ?? []).filter((c) => Number.isFinite(c.medianP50)).sort((a, b) => a.medianP50 - b.medianP50);
  if (rows.length === 0) return undefined;
  return render(
    {
      title: title('Tiny tasks: latency, one task in flight (µs, log scale)', 'median over rounds of each round\'s p50 and p99'),
      legend: { top: 62, itemGap: 24, data: ['p50', 'p99'] },
      grid: { left: 190, right: 70, top: 100, bottom: 40 },
      xAxis: { type: 'log', name: 'µs', min: 10, splitLine: { lineStyle: { color: '#eee' } } },
      yAxis: { type: 'category', data: rows.map((r) => r.name) },
      series: [
        { name: 'p50', type: 'bar', data: rows.map((r) => Number(r.medianP50.toFixed(1))), itemStyle: { color: '#1f6feb' }, label: { show: true, position: 'right', fontSize: 10 } },
        { name: 'p99', type: 'bar', data: rows.map((r) => Number(r.medianP99.toFixed(1))), itemStyle: { color: '#a5c8ff' }, label: { show: true, position: 'right', fontSize: 10 } },
      ],
    },
    860,
    130 + 40 * rows.length,
  );
}

interface Cpu {
  job?: { iterations: number; calibratedMs: number };
  options?: { cores: number; sizes: number[] };
  contenders?: { name: string; sizes: { size: number; speedUp: { median: number } }[] }[];
}

/** Lines: speed-up over the same contender at size 1, per pool size; the ideal dashed. */
export function cpuSpeedUp(json: Cpu): string | undefined {
  const contenders = json.contenders ?? [];
  const sizes = json.options?.sizes ?? [];
  if (contenders.length === 0 || sizes.length === 0) return undefined;
  const cores = json.options?.cores ?? 1;
  const colours = palette(contenders.map((c) => c.name));
  return render({
    title: title('CPU-bound: speed-up over pool size 1', `a ${json.job?.calibratedMs.toFixed(1) ?? '?'} ms job; ${cores} cores; median of per-round ratios`),
    legend: SIDE_LEGEND,
    grid: { left: 60, width: 580, top: 90, bottom: 50 },
    xAxis: { type: 'value', name: 'pool size', nameLocation: 'middle', nameGap: 28, min: 1, max: Math.max(...sizes), interval: 1 },
    yAxis: { type: 'value', name: 'speed-up ×', min: 0, splitLine: { lineStyle: { color: '#eee' } } },
    series: [
      ...contenders.map((c) => ({
        name: c.name,
        type: 'line',
        symbolSize: 7,
        lineStyle: { width: isTroupe(c.name) ? 3 : 1.5 },
        itemStyle: { color: colours.get(c.name) },
        data: c.sizes.map((s) => [s.size, Number(s.speedUp.median.toFixed(3))]),
      })),
      {
        name: 'ideal (cores busy)',
        type: 'line',
        symbol: 'none',
        lineStyle: { type: 'dashed', color: '#212529', width: 1 },
        itemStyle: { color: '#212529' },
        data: sizes.map((s) => [s, Math.min(s, cores)]),
      },
    ],
  });
}

interface Payloads {
  options?: { sizes: number[] };
  rows?: { contender: string; kind: string; bytes: number; mibPerSecond: number }[];
}

export const sizeLabel = (bytes: number) => (bytes >= 2 ** 20 ? `${bytes / 2 ** 20} MiB` : `${bytes / 1024} KiB`);

/** Lines per contender: MiB/s of one echo in flight at each payload size, for one kind. */
export function payloadThroughput(json: Payloads, kind: string): string | undefined {
  const rows = (json.rows ?? []).filter((r) => r.kind === kind && Number.isFinite(r.mibPerSecond));
  if (rows.length === 0) return undefined;
  const sizes = json.options?.sizes ?? [...new Set(rows.map((r) => r.bytes))];
  const names = [...new Set(rows.map((r) => r.contender))];
  const colours = palette(names);
  return render({
    title: title(`Payloads: ${kind} echo, one in flight (MiB/s, log scale)`, 'payload bytes ÷ p50 round trip; median over rounds'),
    legend: SIDE_LEGEND,
    grid: { left: 70, width: 570, top: 90, bottom: 50 },
    xAxis: { type: 'category', data: sizes.map(sizeLabel), name: 'payload', nameLocation: 'middle', nameGap: 28 },
    yAxis: { type: 'log', name: 'MiB/s', splitLine: { lineStyle: { color: '#eee' } } },
    series: names.map((name) => ({
      name,
      type: 'line',
      symbolSize: 7,
      lineStyle: { width: isTroupe(name) ? 3 : 1.5 },
      itemStyle: { color: colours.get(name) },
      data: sizes.map((b) => {
        const row = rows.find((r) => r.contender === name && r.bytes === b);
        return row ? Number(row.mibPerSecond.toPrecision(4)) : null;
      }),
    })),
  });
}

interface Startup {
  contenders?: { name: string; readyMs: { median: number }; closeMs: { median: number }; idleRssPerWorkerMiB: { median: number } }[];
}

/** Grouped bars: ms to ready and to closed for 2 workers, and idle RSS per worker beside. */
export function startup(json: Startup): string | undefined {
  const rows = json.contenders ?? [];
  if (rows.length === 0) return undefined;
  const names = rows.map((r) => r.name);
  return render(
    {
      title: title('Startup and footprint, 2 workers', 'median over rounds, each sample a fresh process'),
      legend: { top: 62, itemGap: 24, data: ['to ready (ms)', 'close (ms)', 'idle RSS per worker (MiB)'] },
      grid: [
        { left: 170, width: 330, top: 110, bottom: 40 },
        { left: 600, right: 50, top: 110, bottom: 40 },
      ],
      xAxis: [
        { gridIndex: 0, type: 'value', name: 'ms', splitLine: { lineStyle: { color: '#eee' } } },
        { gridIndex: 1, type: 'value', name: 'MiB', splitLine: { lineStyle: { color: '#eee' } } },
      ],
      yAxis: [
        { gridIndex: 0, type: 'category', data: names },
        { gridIndex: 1, type: 'category', data: names, axisLabel: { show: false } },
      ],
      series: [
        { name: 'to ready (ms)', type: 'bar', xAxisIndex: 0, yAxisIndex: 0, data: rows.map((r) => Number(r.readyMs.median.toFixed(0))), itemStyle: { color: '#1f6feb' }, label: { show: true, position: 'right', fontSize: 10 } },
        { name: 'close (ms)', type: 'bar', xAxisIndex: 0, yAxisIndex: 0, data: rows.map((r) => Number(r.closeMs.median.toFixed(0))), itemStyle: { color: '#a5c8ff' }, label: { show: true, position: 'right', fontSize: 10 } },
        { name: 'idle RSS per worker (MiB)', type: 'bar', xAxisIndex: 1, yAxisIndex: 1, data: rows.map((r) => Number(r.idleRssPerWorkerMiB.median.toFixed(1))), itemStyle: { color: '#0b8f6a' }, label: { show: true, position: 'right', fontSize: 10 } },
      ],
    },
    900,
    130 + 50 * rows.length,
  );
}

interface ScaleOut {
  options?: { napMs: number; inFlightPerAgent: number };
  points?: { agents: number; efficiency: { median: number; min: number; max: number }; lagP99Ms: number; schedulerCpuMsPerTask: number }[];
  target?: { efficiencyAtLeast: number };
}

/** Efficiency (%) against agents, with the target line; scheduler lag p99 on a second axis. */
export function scaleOut(json: ScaleOut): string | undefined {
  const points = json.points ?? [];
  if (points.length === 0) return undefined;
  const target = (json.target?.efficiencyAtLeast ?? 0.9) * 100;
  return render({
    title: title('Scale-out: efficiency with N agents on loopback', `nap(${json.options?.napMs ?? '?'} ms), ${json.options?.inFlightPerAgent ?? '?'} in flight per agent; efficiency = tasks/s ÷ ideal`),
    legend: { top: 62, itemGap: 24, data: ['efficiency %', 'scheduler event-loop lag p99 (ms)'] },
    grid: { left: 70, right: 80, top: 120, bottom: 50 },
    xAxis: { type: 'category', data: points.map((p) => String(p.agents)), name: 'agents', nameLocation: 'middle', nameGap: 28 },
    yAxis: [
      { type: 'value', name: 'efficiency %', min: 0, max: 100, splitLine: { lineStyle: { color: '#eee' } } },
      { type: 'value', name: 'lag p99 ms', min: 0, splitLine: { show: false } },
    ],
    series: [
      {
        name: 'efficiency %',
        type: 'line',
        symbolSize: 8,
        lineStyle: { width: 3 },
        itemStyle: { color: '#1f6feb' },
        label: { show: true, position: 'top', formatter: (p: { value: number }) => `${p.value}%` },
        data: points.map((p) => Number((p.efficiency.median * 100).toFixed(1))),
        markLine: { symbol: 'none', lineStyle: { type: 'dashed', color: '#d9480f' }, label: { formatter: `target ${target}%`, position: 'insideEndTop' }, data: [{ yAxis: target }] },
      },
      {
        name: 'scheduler event-loop lag p99 (ms)',
        type: 'bar',
        yAxisIndex: 1,
        barMaxWidth: 26,
        itemStyle: { color: '#ced4da' },
        data: points.map((p) => Number(p.lagP99Ms.toFixed(1))),
      },
    ],
  });
}

interface Actors {
  options?: { calls?: number; peerCalls?: number; inFlight?: number; actors?: number };
  modes?: { mode: string; throughput: { name: string; rate: { median: number; min: number; max: number } }[] }[];
}

/** Grouped bars per mode on a log axis: actor calls/s for Troupe and Comedy, a Troupe task and the raw medium (one name for every mode's). */
export function actorsThroughput(json: Actors): string | undefined {
  const modes = (json.modes ?? []).filter((m) => m.throughput.length > 0);
  if (modes.length === 0) return undefined;
  const series = (name: string) => (isRaw(name) ? 'raw medium, batched' : name);
  const names = [...new Set(modes.flatMap((m) => m.throughput.map((t) => series(t.name))))];
  const colours = palette(names);
  const o = json.options ?? {};
  return render({
    title: title(
      'Actors: calls/s per mode (log scale)',
      `square(i), ${o.inFlight ?? '?'} in flight, ${compact(o.calls ?? NaN)} calls per run (Comedy ${compact(o.peerCalls ?? NaN)}); median of rounds`,
    ),
    legend: { top: 62, left: 'center', width: 760, itemGap: 14, data: names },
    grid: { left: 70, right: 30, top: 130, bottom: 40 },
    xAxis: { type: 'category', data: modes.map((m) => m.mode) },
    yAxis: { type: 'log', min: 1000, axisLabel: { formatter: (v: number) => compact(v) }, splitLine: { lineStyle: { color: '#eee' } } },
    series: names.map((name) => ({
      name,
      type: 'bar',
      itemStyle: { color: colours.get(name) },
      data: modes.map((m) => {
        const row = m.throughput.find((t) => series(t.name) === name);
        return row && Number.isFinite(row.rate.median) ? Math.round(row.rate.median) : null;
      }),
      label: { show: true, position: 'top', fontSize: 9, formatter: (p: { value: number }) => compact(p.value) },
    })),
  });
}
