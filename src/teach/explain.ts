// `tsrun run --explain`: before each stage, say what it is about to do; after
// it, show the real values it produced; once the container runs, show how to
// look at it from another terminal. Everything goes to stderr, so the
// container's own output on stdout stays clean. `--explain=json` writes the
// same as JSON lines, for tools and tests.
import fs from 'node:fs';
import { Chalk } from 'chalk';
import { STAGES, type ProcessPlan, type RunObserver, type StageName } from '../container.js';
import { NARRATION } from './narration.js';

export type ExplainFormat = 'text' | 'json';

/** One JSON line per event; the text format says the same in words. */
export type ExplainEvent =
  | { event: 'stage'; stage: StageName; index: number; of: number; title: string; lesson: string; intro: string }
  | { event: 'result'; stage: StageName; values: Record<string, string | string[]>; milliseconds: number }
  | { event: 'started'; pid: number; namespaces: Record<string, string>; process: ProcessPlan; values: Record<string, string | string[]>; look: string[] }
  | { event: 'exited'; exitCode: number; milliseconds: number };

const NAMESPACE_FILES = ['mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup'];

export function explainObserver(format: ExplainFormat, write: (text: string) => void = (text) => process.stderr.write(text)): RunObserver {
  const emit = format === 'json' ? (event: ExplainEvent) => write(JSON.stringify(event) + '\n') : textPrinter(write);
  const results = new Map<StageName, unknown>();

  return {
    stageStarting(stage) {
      const narration = NARRATION[stage];
      emit({ event: 'stage', stage, index: STAGES.indexOf(stage) + 1, of: STAGES.length, title: narration.title, lesson: narration.lesson, intro: narration.intro });
    },
    stageFinished(stage, result, milliseconds) {
      results.set(stage, result);
      if (stage === 'exec') {
        emit({ event: 'exited', exitCode: (result as { exitCode: number }).exitCode, milliseconds });
      } else {
        emit({ event: 'result', stage, values: Object.fromEntries(NARRATION[stage].values(result)), milliseconds });
      }
    },
    processStarted(pid, process) {
      results.set('exec', process);
      const look = STAGES.filter((stage) => results.has(stage)).flatMap((stage) => NARRATION[stage].look(results.get(stage), pid));
      emit({
        event: 'started', pid, namespaces: namespaceIds(pid), process,
        values: Object.fromEntries(NARRATION.exec.values(process)), look,
      });
    },
  };
}

/** /proc/PID/ns/*: the namespaces the container's process is in, e.g. "pid:[4026532180]". */
function namespaceIds(pid: number): Record<string, string> {
  const ids: Record<string, string> = {};
  for (const name of NAMESPACE_FILES) {
    try {
      ids[name] = fs.readlinkSync(`/proc/${pid}/ns/${name}`);
    } catch {
      ids[name] = '(process already gone)';
    }
  }
  return ids;
}

function textPrinter(write: (text: string) => void): (event: ExplainEvent) => void {
  const chalk = new Chalk({ level: process.env.NO_COLOR || !process.stderr.isTTY ? 0 : 1 });
  const table = (values: Record<string, string | string[]>) => {
    const width = Math.max(...Object.keys(values).map((key) => key.length));
    return Object.entries(values).map(([key, value]) => {
      const lines = Array.isArray(value) ? (value.length ? value : ['(none)']) : [value];
      return lines.map((line, i) => `   ${chalk.dim((i === 0 ? key : '').padEnd(width))}  ${line}\n`).join('');
    }).join('');
  };
  return (event) => {
    switch (event.event) {
      case 'stage':
        write(`\n${chalk.bold.cyan(`── ${event.index}/${event.of} ${event.title} `)}${chalk.dim(`(lesson: tsrun lesson ${event.lesson})`)}\n`);
        write(wrap(event.intro, Math.min(process.stderr.columns || 100, 100)));
        break;
      case 'result':
        write(table(event.values));
        write(chalk.green(`   ✓ ${event.milliseconds.toFixed(1)} ms\n`));
        break;
      case 'started':
        write(table({ 'pid (on the host)': String(event.pid), ...event.values }));
        write(table(Object.fromEntries(Object.entries(event.namespaces).map(([name, id]) => [`ns/${name}`, id]))));
        write(`   ${chalk.bold('While it runs, look at it from another terminal:')}\n`);
        write(event.look.map((command) => `     ${chalk.yellow('$')} ${command}\n`).join(''));
        write(chalk.dim('   — the container\'s own output follows —\n'));
        break;
      case 'exited':
        write(chalk.green(`\n   ✓ the container's process exited with code ${event.exitCode} after ${event.milliseconds.toFixed(1)} ms\n`));
        break;
    }
  };
}

/** Break a paragraph into lines of at most `width` characters. */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return [...lines, line].join('\n') + '\n';
}
