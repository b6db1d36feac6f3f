// tsrun-exec: the program the container's child becomes just before the container's command.
//
// Until its last step the child is a clone of tsrun (node) or of tsrun-monitor, so the kernel's
// /proc/self/exe for it is a file of the host. Were the child to execve the command itself, a
// command that is a script beginning "#!/proc/self/exe" would have the kernel start that host
// binary inside the container, as the container's process, which could then write to it (CVE-2019-5736).
// So the child execs this small program instead, from a sealed copy in memory that tsrun made
// (a memfd: child.cc's SealedCopy), and this program execs the command. /proc/self/exe is then
// that copy, which no one can change, and a "#!/proc/self/exe" script only starts this program
// again, which, without tsrun's instructions, says so and does nothing.
//
// tsrun starts it as
//   tsrun-exec ERROR_FD STEP START_FD COUNT CANDIDATE... HOOKS [PATH TIMEOUT STATE ARGC ARG... ENVC ENV...]... ARGV...
// with the container's environment. It tries the COUNT candidate paths in turn (the PATH search of
// the execve step); the first that runs becomes the container's process. If none does, it writes
// {STEP, errno} to ERROR_FD, the child's error pipe, just as the child does for its other steps.
// START_FD is -1, except for `tsrun-oci create`: then it is a FIFO opened O_PATH, and the command waits
// for `tsrun-oci start` (see WaitForStart), then runs the HOOKS hooks (an OCI bundle's startContainer
// hooks, see hook.h). From then on `create` has gone: a failure is told to `start` (see Tell).
// Linked statically, with musl (binding.gyp): the images it runs in need no loader or libc of their own, and
// at 17 kB it is cheap to copy and to start for every container (glibc's static start alone is 680 kB).
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hook.h"

extern char** environ;

static const char kNotFromTsrun[] =
    "tsrun-exec: this is tsrun's helper, started without tsrun's instructions "
    "(by a script whose interpreter is /proc/self/exe?): nothing is run\n";

// A whole decimal number, or -1.
static long Number(const char* text) {
  char* end;
  errno = 0;
  long value = strtol(text, &end, 10);
  return errno != 0 || end == text || *end != '\0' ? -1 : value;
}

// #region wait-for-start
// The OCI runtime spec splits starting a container in two: `create` prepares everything, and the
// process waits just before the user's program; `start` lets it go. As runc does, the waiting is an
// open of a FIFO for writing, which blocks until `start` opens it for reading. The FIFO is a host file,
// out of reach after pivot_root, so the child was handed it already open (O_PATH), and this opens it
// again through /proc/self/fd. The end opened here closes on execve: `start` reads until then.
// A command that is not there is told at `create` (before the wait), as runc tells it.
// The end opened here is left in *started.
static int WaitForStart(int error_fd, int32_t step, long start_fd, char** candidates, long count, int* started) {
  int found = 0, denied = 0;
  for (long i = 0; i < count && !found; i++) {
    if (access(candidates[i], X_OK) == 0) found = 1;
    else if (errno == EACCES) denied = 1;
  }
  if (!found) return denied ? EACCES : ENOENT;
  int32_t waiting[2] = {step, 0};  // errno 0: not a failure, "waiting for start"
  if (write(error_fd, waiting, sizeof(waiting)) != (ssize_t)sizeof(waiting)) return errno;
  char fifo[40];
  snprintf(fifo, sizeof(fifo), "/proc/self/fd/%ld", start_fd);
  *started = open(fifo, O_WRONLY | O_CLOEXEC);
  if (*started < 0) return errno;
  close((int)start_fd);
  // As runc's does, a byte that says the wait is over: a process that died waiting leaves none, and `start` can tell
  // that from a program that ran and ended at once, which /proc cannot.
  if (write(*started, "0", 1) != 1) return errno;
  return 0;
}
// #endregion

// One hook of the arguments, at argv[*at]: PATH TIMEOUT STATE ARGC ARG... ENVC ENV... (0 if they do not add up).
struct Hook {
  char* path;
  long timeout;
  char* state;
  long argc;
  char** args;
  long envc;
  char** env;
};

static int ReadHook(char** argv, int argc, int* at, struct Hook* hook) {
  if (*at + 4 > argc) return 0;
  hook->path = argv[*at];
  hook->timeout = Number(argv[*at + 1]);
  hook->state = argv[*at + 2];
  hook->argc = Number(argv[*at + 3]);
  if (hook->timeout < 0 || hook->state[0] != '{' || hook->argc < 1 || *at + 4 + hook->argc >= argc) return 0;
  hook->args = argv + *at + 4;
  hook->envc = Number(hook->args[hook->argc]);
  hook->env = hook->args + hook->argc + 1;
  if (hook->envc < 0 || hook->env + hook->envc > argv + argc) return 0;
  *at = (int)(hook->env + hook->envc - argv);
  return 1;
}

// #region start-hooks
// A startContainer hook runs here, in the container as its program will, after start: with its root, its user,
// its capabilities and its seccomp filter. execve wants lists that end in NULL: the hook's arguments are copied
// into such lists first.
static int RunStartHook(const struct Hook* hook) {
  char* args[hook->argc + 1];
  char* env[hook->envc + 1];
  memcpy(args, hook->args, sizeof(char*) * (size_t)hook->argc);
  memcpy(env, hook->env, sizeof(char*) * (size_t)hook->envc);
  args[hook->argc] = NULL;
  env[hook->envc] = NULL;
  return RunHook(hook->path, args, env, hook->state, (int)hook->timeout);
}
// #endregion

// Before the wait, a failure goes to ERROR_FD, as {STEP, errno}. After it, `create` has gone and no one reads ERROR_FD:
// a failure is written into the FIFO, whose reader is `start`, as {HOOK, OUTCOME}: the startContainer hook that
// failed and RunHook's answer, or -1 and the errno of the command that could not be run. `start` reads to the FIFO's
// end, which comes with the command's execve.
static void Tell(int fd, int32_t what, int32_t outcome) {
  signal(SIGPIPE, SIG_IGN);  // the reader may have gone (a `start` killed, a `create` done): no one to tell
  int32_t message[2] = {what, outcome};
  ssize_t ignored = write(fd, message, sizeof(message));
  (void)ignored;
}

// #region main
int main(int argc, char** argv) {
  // tsrun always passes its error pipe, a step, a FIFO or -1, a count of candidates (0 if PATH is empty), a count of
  // hooks and the hooks, then an argv.
  int from_tsrun = argc > 6 && strcmp(argv[0], "tsrun-exec") == 0;
  long error_fd = from_tsrun ? Number(argv[1]) : -1;
  long step = from_tsrun ? Number(argv[2]) : -1;
  long start_fd = from_tsrun ? Number(argv[3]) : -1;
  long count = from_tsrun ? Number(argv[4]) : -1;
  long hooks = count >= 0 && count < argc - 6 ? Number(argv[5 + count]) : -1;
  if (hooks > argc) hooks = -1;  // each takes five arguments at least
  int at = (int)(6 + count);
  struct Hook hook[hooks > 0 ? hooks : 1];
  for (long i = 0; i < hooks; i++) {
    if (!ReadHook(argv, argc, &at, &hook[i])) hooks = -1;
  }
  struct stat pipe;
  if (!from_tsrun || step < 0 || count < 0 || hooks < 0 || at >= argc || fstat((int)error_fd, &pipe) != 0 ||
      !S_ISFIFO(pipe.st_mode)) {
    ssize_t ignored = write(2, kNotFromTsrun, sizeof(kNotFromTsrun) - 1);
    (void)ignored;
    // 126, the shell's "found but cannot be run": this file was found, and is no program for the container.
    return 126;
  }
  // Open only until the command starts: then it closes, which tells tsrun that the command runs.
  fcntl((int)error_fd, F_SETFD, FD_CLOEXEC);

  char** candidates = argv + 5;
  char** command = argv + at;
  int started = -1;
  int err = start_fd >= 0 ? WaitForStart((int)error_fd, (int32_t)step, start_fd, candidates, count, &started) : 0;
  // Hooks come with a wait for start only (tsrun-oci's): their failure is start's to tell.
  for (long i = 0; i < hooks && err == 0; i++) {
    int outcome = RunStartHook(&hook[i]);
    if (outcome != 0) {
      Tell(started, (int32_t)i, outcome);
      _exit(127);
    }
  }
  // As execvp does: remember EACCES, so "exists but cannot run" (126) is told apart from
  // "not found anywhere" (127).
  int denied = 0;
  for (long i = 0; i < count && err == 0; i++) {
    execve(candidates[i], command, environ);
    if (errno == EACCES) denied = 1;
    else if (errno != ENOENT && errno != ENOTDIR) err = errno;
  }
  if (err == 0) err = denied ? EACCES : ENOENT;
  if (started >= 0) Tell(started, -1, err);
  else Tell((int)error_fd, (int32_t)step, err);
  _exit(127);
}
// #endregion
