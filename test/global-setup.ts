// After the whole suite: the default bridge and its NAT table are shared by
// every test file that runs bridged containers, so the last word on removing
// them belongs here, once no container holds an address any more.
import { realSyscalls } from '../src/kernel/native.js';
import { runCommand } from '../src/net/command.js';
import { pruneDefaultBridge } from '../src/net/bridges.js';
import { HOST_NETWORK_DIR } from '../src/net/ipam.js';

export async function teardown(): Promise<void> {
  if (process.getuid?.() !== 0) return;
  await pruneDefaultBridge(realSyscalls, { run: runCommand, stateDir: HOST_NETWORK_DIR });
}
