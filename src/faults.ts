// A runtime must survive being killed at any moment: a laptop closed, a kill -9, an OOM. To prove it, the
// fault matrix (test/integration/faults.test.ts) runs tsrun with TSRUN_FAULT naming one of the points below,
// and tsrun kills itself there with SIGKILL, which nothing can catch; the test then checks that the next
// command leaves the host as it was and the store whole. Without the variable, a point costs one lookup.

// #region fault-points
/** Where tsrun can be made to die, in the order a run passes them. */
export const FAULT_POINTS = [
  'pull-download', // a layer half downloaded
  'pull-unpack', // a layer half unpacked
  'create', // the container's record written
  'rwlayer', // its rw layer made
  'network', // its network namespace, veth pair and address made
  'namespaces', // its child's steps planned
  'running', // its process running
  'release', // its network released, its cgroup and record not yet
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

export function faultPoint(point: FaultPoint): void {
  if (process.env.TSRUN_FAULT === point) process.kill(process.pid, 'SIGKILL');
}
// #endregion
