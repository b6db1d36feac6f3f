// Every command tsrun has, in the order `tsrun --help` lists them.
import type { CommandModule } from 'yargs';
import { runCommand } from './run.js';
import { startCommand } from './start.js';
import { psCommand } from './ps.js';
import { rmCommand } from './rm.js';
import { loadCommand } from './load.js';
import { imagesCommand } from './images.js';
import { rmiCommand } from './rmi.js';
import { makeDemoImageCommand } from './make-demo-image.js';
import { lessonCommand } from './lesson.js';
import { labCommand } from './lab.js';

export const commands: CommandModule<any, any>[] = [
  runCommand,
  startCommand,
  psCommand,
  rmCommand,
  loadCommand,
  imagesCommand,
  rmiCommand,
  makeDemoImageCommand,
  lessonCommand,
  labCommand,
];
