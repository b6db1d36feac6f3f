// An OCI bundle's hook run to its end by a process that may make async-signal-safe calls only: the container's
// child before pivot_root (createContainer hooks, child.cc) and tsrun-exec once start has let it go (startContainer
// hooks, exec.c). C, so that tsrun-exec, linked with musl, has the same code.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

// Runs `path` with `argv` and `envp` (NULL-terminated) in a new process, which has only 0, 1 and 2 open: its standard
// input a pipe holding the container's state, and the caller's output. `state` is that JSON without the pid, which
// goes in first ({"pid":N, ...}): the caller's own, as the container sees it (getpid()), as runc gives it. Waits
// for the hook's end, at most `timeout` seconds if that is above 0, then kills it.
// 0: it exited with 0. Above 0: an errno, it could not be run (ETIMEDOUT: it was killed at the timeout).
// Below 0: minus its wait status (waitpid's), it ran and failed.
int RunHook(const char* path, char* const argv[], char* const envp[], const char* state, int timeout);

#ifdef __cplusplus
}
#endif
