// `tsrun run [OPTIONS] IMAGE [COMMAND] [ARG...]`: as with docker, everything
// after IMAGE belongs to the container's command, even words that look like
// tsrun's flags (`tsrun run demo ls -l`). yargs can't stop parsing at the
// image by itself, so we mark the spot with `--` before yargs sees the words.

/** Options of these commands that take a value, so the word after them is not the image. */
export interface CommandShape {
  name: string;
  valueOptions: Set<string>;
}

export function markCommandTail(args: string[], shapes: CommandShape[], globalValueOptions: Set<string>): string[] {
  const tailAt = containerCommandAt(args, shapes, globalValueOptions);
  if (tailAt < 0 || args[tailAt] === '--') return args;
  return [...args.slice(0, tailAt), '--', ...args.slice(tailAt)];
}

/** Index of the word after the image, where the container's command begins (maybe args.length: none given);
 *  -1 if the words are not one of these commands, or name no image. */
export function containerCommandAt(args: string[], shapes: CommandShape[], globalValueOptions: Set<string>): number {
  const commandAt = firstPositional(args, 0, globalValueOptions);
  const shape = shapes.find((s) => s.name === args[commandAt]);
  if (commandAt < 0 || !shape) return -1;
  const imageAt = firstPositional(args, commandAt + 1, new Set([...shape.valueOptions, ...globalValueOptions]));
  return imageAt < 0 ? -1 : imageAt + 1;
}

/** Index of the first word from `start` that is neither an option nor an option's value; -1 if none. */
function firstPositional(args: string[], start: number, valueOptions: Set<string>): number {
  for (let i = start; i < args.length; i++) {
    const word = args[i]!;
    if (word === '--') return i + 1 < args.length ? i + 1 : -1;
    if (!word.startsWith('-') || word === '-') return i;
    if (word.includes('=')) continue; // --name=value
    const name = word.startsWith('--') ? word.slice(2) : word.slice(-1); // in -it or -e, the last letter may take a value
    if (valueOptions.has(name)) i++;
  }
  return -1;
}
