// What runs now: a progress bar on a terminal (cli-progress, on stderr), plain lines otherwise.
import cliProgress from 'cli-progress';
import type { Progress } from './runner.js';

export function createProgress(quiet = false): Progress {
  if (quiet) return { start() {}, step() {}, done() {} };
  if (!process.stdout.isTTY || !process.stderr.isTTY) {
    let n = 0;
    let total = 0;
    return {
      start: (t) => void (total = t),
      step: (what) => void process.stderr.write(`[${++n}/${total}] ${what}\n`),
      done() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: 'troupe bench [{bar}] {value}/{total} {what}', hideCursor: true, clearOnComplete: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    start(total) {
      bar.start(total, 0, { what: '' });
      started = true;
    },
    step: (what) => bar.increment(1, { what }),
    done() {
      if (started) bar.stop();
      started = false;
    },
  };
}
