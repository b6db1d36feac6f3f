// An OCI bundle's hook: see hook.h. Every call here is async-signal-safe: the container's child borrows tsrun's
// memory and may not allocate or take a lock.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  // clone, pipe2, MAP_STACK
#endif
#include "hook.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)  // linux/close_range.h, which musl's headers lack
#endif

enum { kHookStackSize = 64 * 1024 };

struct Hook {
  const char* path;
  char* const* argv;
  char* const* envp;
  int input;
  int error;  // written by the new process, which shares this memory, if its execve fails
};

// The new process borrows its parent's memory until its execve (CLONE_VM | CLONE_VFORK), as the container's child
// borrows tsrun's: it only puts the state's pipe on 0, marks every other descriptor close-on-exec, and execs.
static int StartHook(void* arg) {
  struct Hook* hook = (struct Hook*)arg;
  if (dup2(hook->input, 0) == 0 && syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) {
    execve(hook->path, hook->argv, hook->envp);
  }
  hook->error = errno;
  _exit(127);
}

static int WriteAll(int fd, const char* bytes, size_t length) {
  while (length > 0) {
    ssize_t written = write(fd, bytes, length);
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return errno;
    bytes += written;
    length -= (size_t)written;
  }
  return 0;
}

// The state with this process's pid put in first: {"pid":N, then the rest of `state` after its "{".
static int WriteState(int fd, const char* state) {
  char head[32] = "{\"pid\":";
  size_t at = strlen(head);
  char digits[12];
  int count = 0;
  unsigned int pid = (unsigned int)getpid();
  do digits[count++] = (char)('0' + pid % 10); while ((pid /= 10) > 0);
  while (count > 0) head[at++] = digits[--count];
  head[at++] = ',';
  int err = WriteAll(fd, head, at);
  return err ? err : WriteAll(fd, state + 1, strlen(state + 1));
}

// #region run-hook
int RunHook(const char* path, char* const argv[], char* const envp[], const char* state, int timeout) {
  // The state goes into the pipe before the hook exists: tsrun keeps it smaller than a pipe holds (64 KiB), so the
  // write cannot block, and a hook that never reads it cannot make this process die of SIGPIPE.
  int input[2];
  if (pipe2(input, O_CLOEXEC) != 0) return errno;
  int err = WriteState(input[1], state);
  close(input[1]);
  void* stack = err ? MAP_FAILED : mmap(NULL, kHookStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (!err && stack == MAP_FAILED) err = errno;
  if (err) {
    close(input[0]);
    return err;
  }
  struct Hook hook = {path, argv, envp, input[0], 0};
  // CLONE_PIDFD: a descriptor of the hook's process, readable when it ends, which poll can wait on with a timeout.
  int pidfd = -1;
  pid_t pid = clone(StartHook, (char*)stack + kHookStackSize, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &hook, &pidfd);
  err = errno;
  munmap(stack, kHookStackSize);
  close(input[0]);
  if (pid < 0) return err;
  if (hook.error == 0) {
    struct pollfd ended = {pidfd, POLLIN, 0};
    int ready;
    do ready = poll(&ended, 1, timeout > 0 ? timeout * 1000 : -1);
    while (ready < 0 && errno == EINTR);
    if (ready <= 0) {
      hook.error = ready == 0 ? ETIMEDOUT : errno;
      kill(pid, SIGKILL);
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  close(pidfd);
  if (hook.error) return hook.error;
  return status == 0 ? 0 : -status;
}
// #endregion
