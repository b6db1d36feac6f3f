// The rounds bench_rounds (common.sh) writes, read back for a script's report: every run of each command over all
// the rounds, in milliseconds (`times`), and the median of each (`medians`).
const fs = require('node:fs');

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function readRounds(files) {
  const times = {};
  for (const file of files) {
    for (const r of JSON.parse(fs.readFileSync(file, 'utf8')).results) (times[r.command] ??= []).push(...r.times.map((t) => t * 1000));
  }
  return { times, medians: Object.fromEntries(Object.entries(times).map(([command, runs]) => [command, median(runs)])) };
}

module.exports = { median, readRounds };
