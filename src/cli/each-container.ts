// Docker's way with several containers, shared by stop, kill, restart, pause and unpause.
import type { Runtime } from '../runtime.js';

export interface ContainersArgs { root?: string; containers: string[]; time: number; signal?: string }

/** Docker's way with several containers: one after the other, each name printed once it is done. */
export async function eachContainer(argv: ContainersArgs, act: (runtime: Runtime, name: string) => Promise<unknown>): Promise<void> {
  const { runtimeFor } = await import('./runtime.js');
  const runtime = runtimeFor(argv);
  for (const name of argv.containers.map(String)) {
    await act(runtime, name);
    process.stdout.write(`${name}\n`);
  }
}
