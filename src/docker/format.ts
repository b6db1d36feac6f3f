// Output the way the docker CLI prints it: tables aligned like Go's tabwriter,
// sizes and ages like docker's go-units library ("4.26MB", "2 weeks ago").
import type { ContainerState } from '../container.js';

/** Docker's table writer settings: a column is as wide as its widest cell plus
 *  3 spaces, and at least 10 characters; the last column is not padded. */
const MIN_COLUMN_WIDTH = 10;
const COLUMN_PADDING = 3;

/** Lay `rows` out under `headers`, one line each, every line ending in "\n". */
export function formatTable(headers: string[], rows: string[][], minColumnWidth = MIN_COLUMN_WIDTH): string {
  const lines = [headers, ...rows];
  const widths = headers.map((_, column) =>
    Math.max(minColumnWidth, ...lines.map((cells) => (cells[column] ?? '').length + COLUMN_PADDING)));
  return lines
    .map((cells) => cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!))).join(''))
    .map((line) => line + '\n')
    .join('');
}

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** go-units HumanSizeWithPrecision(bytes, 3): decimal units, 3 significant digits: "815B", "1.2kB", "4.26MB". */
export function humanSize(bytes: number): string {
  let size = bytes;
  let unit = 0;
  while (size >= 1000 && unit < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    unit++;
  }
  return formatSignificant(size, 3) + DECIMAL_UNITS[unit];
}

/** Go's fmt "%.{precision}g": significant digits, no trailing zeros, exponent form
 *  only when the number does not fit ("1e+03" for 999.9 at precision 3). */
function formatSignificant(value: number, precision: number): string {
  if (value === 0) return '0';
  const [mantissa, exponentText] = value.toExponential(precision - 1).split('e');
  const exponent = Number(exponentText);
  const dropZeros = (digits: string) => (digits.includes('.') ? digits.replace(/\.?0+$/, '') : digits);
  if (exponent < -4 || exponent >= precision) {
    const sign = exponent < 0 ? '-' : '+';
    return `${dropZeros(mantissa!)}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return dropZeros(value.toFixed(precision - 1 - exponent));
}

/** go-units HumanDuration: "Less than a second", "About a minute", "3 hours", "2 weeks", … */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  const minutes = Math.trunc(ms / 60_000);
  const hours = Math.trunc(ms / 3_600_000 + 0.5); // rounded, as go-units does
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

/** "2 weeks ago", as docker prints CREATED. */
export function timeAgo(date: Date | string, now: Date = new Date()): string {
  return `${humanDuration(now.getTime() - new Date(date).getTime())} ago`;
}

/** A container's STATUS, as `docker ps` shows it (and as the daemon sends it, for the docker CLI prints it as it is). */
export function containerStatus(state: ContainerState, now: Date = new Date()): string {
  const up = () => `Up ${humanDuration(now.getTime() - Date.parse(state.startedAt!))}`;
  if (state.status === 'running') return up();
  if (state.status === 'paused') return `${up()} (Paused)`;
  if (state.status === 'exited') return `Exited (${state.exitCode}) ${timeAgo(new Date(state.finishedAt!), now)}`;
  return 'Created';
}
