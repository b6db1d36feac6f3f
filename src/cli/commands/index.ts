// Every command tsrun has, in the order `tsrun --help` lists them.
import type { CommandModule } from 'yargs';
import { runCommand } from './run.js';
import { startCommand } from './start.js';
import { execCommand } from './exec.js';
import { stopCommand } from './stop.js';
import { restartCommand } from './restart.js';
import { killCommand } from './kill.js';
import { waitCommand } from './wait.js';
import { logsCommand } from './logs.js';
import { cpCommand } from './cp.js';
import { attachCommand } from './attach.js';
import { renameCommand } from './rename.js';
import { pauseCommand } from './pause.js';
import { unpauseCommand } from './unpause.js';
import { statsCommand } from './stats.js';
import { topCommand } from './top.js';
import { containerExitedCommand } from './container-exited.js';
import { dnsServerCommand } from './dns-server.js';
import { createCommand } from './create.js';
import { psCommand } from './ps.js';
import { rmCommand } from './rm.js';
import { pullCommand } from './pull.js';
import { pushCommand } from './push.js';
import { loginCommand } from './login.js';
import { tagCommand } from './tag.js';
import { loadCommand } from './load.js';
import { imagesCommand } from './images.js';
import { rmiCommand } from './rmi.js';
import { commitCommand } from './commit.js';
import { buildCommand } from './build.js';
import { historyCommand } from './history.js';
import { saveCommand } from './save.js';
import { makeDemoImageCommand } from './make-demo-image.js';
import { lessonCommand } from './lesson.js';
import { labCommand } from './lab.js';
import { networkCommand } from './network.js';
import { systemCommand } from './system.js';
import { volumeCommand } from './volume.js';
import { inspectCommand } from './inspect.js';
import { traceCommand } from './trace.js';
import { daemonCommand } from './daemon.js';

export const commands: CommandModule<any, any>[] = [
  runCommand,
  createCommand,
  startCommand,
  execCommand,
  stopCommand,
  restartCommand,
  killCommand,
  waitCommand,
  logsCommand,
  cpCommand,
  attachCommand,
  renameCommand,
  pauseCommand,
  unpauseCommand,
  statsCommand,
  topCommand,
  psCommand,
  rmCommand,
  inspectCommand,
  pullCommand,
  pushCommand,
  loginCommand,
  loadCommand,
  imagesCommand,
  tagCommand,
  rmiCommand,
  commitCommand,
  buildCommand,
  historyCommand,
  saveCommand,
  makeDemoImageCommand,
  lessonCommand,
  labCommand,
  networkCommand,
  systemCommand,
  volumeCommand,
  traceCommand,
  daemonCommand,
  containerExitedCommand,
  dnsServerCommand,
];
