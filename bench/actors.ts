// `npm run bench:actors`: the actors suite alone, then REPORT.md; bench/run.ts with
// `--only actors` and whatever flags are given (`-- --quick`, `--tiny --results DIR`).
process.argv.splice(2, 0, '--only', 'actors');
await import('./run.js');
