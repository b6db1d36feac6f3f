// The container's child: the steps it runs between clone() and execve(), and
// the code that runs them. Shared by the addon (spawn.cc, for `tsrun run` in
// the foreground) and by tsrun-monitor (monitor.cc, the parent of a detached
// container), so it uses nothing of Node's.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tsrun {

enum class Op {
  Mount, Umount2, PivotRoot, Chdir, Mkdir, CreateFile, Mknod, Symlink,
  Sethostname, Umask, LinkUp, WriteFile, Unshare, Setns, Setsid, Setgroups, Setgid, Setuid, OpenPty, Execve,
  Fork, CapbsetDrop, Capset, Prctl, Setrlimit, Seccomp, CapAmbientRaise, Setdomainname, Chroot, RunHook,
};

// One step with every string and number it needs, owned by the parent's heap, which the child
// shares (spawn.cc) or gets a copy of (tsrun-monitor).
struct Step {
  Op op;
  bool optional = false;  // ENOENT means "nothing to do", not failure
  std::string s1, s2, s3, s4;  // paths, names, data: meaning depends on op
  unsigned long flags = 0;
  long n1 = 0, n2 = 0, n3 = 0;
  std::vector<gid_t> gids;
  std::vector<std::string> candidates;  // execve: full paths to try in order
  std::vector<std::string> argv_store, envp_store;  // execve's, and run_hook's (whose path is s1, state s2, timeout n1)
  // execve: the hooks tsrun-exec runs after the wait for start, as its arguments: their count, then for each its path,
  // timeout, state, argv's count and argv, envp's count and envp (see exec.c).
  std::vector<std::string> hook_args;
  std::vector<std::string> exec_argv_store;  // execve: tsrun-exec's arguments (see PlanExecve)
  std::vector<char*> exec_argv, envp;        // NULL-terminated views of the stores (for run_hook: of argv_store)
  std::string program;  // seccomp: the BPF program, decoded from s1 (base64) before clone
  // A step on the container's own files, before pivot_root: its paths are resolved inside `root` (empty: the
  // host's paths, as given). For the steps that create an entry, its parent directory and name, made before clone.
  std::string root, parent, name;
  bool source_in_root = false;  // mount: the source is the container's too (a bind of its own file)
};

// Where the times of clone, of the child's start and of each step go (see the top of the file).
constexpr size_t kCloneSlot = 0, kChildStartSlot = 1, kFirstStepSlot = 2;

struct ChildContext {
  std::vector<Step>* steps;
  int64_t* times;      // shared with tsrun: MAP_SHARED survives clone
  int stdio[3];
  int error_write;     // close-on-exec: closes at execve (tsrun-exec's, see exec.c)
  int exec_helper;     // tsrun-exec's sealed copy (SealedCopy), which the execve step runs
  int console_child;   // open_pty sends the master through here
  int start_fd = -1;   // a FIFO opened O_PATH: tsrun-exec waits on it for `tsrun-oci start` (exec.c)
  int preserve_fds = 0;  // 3 .. 3 + preserve_fds - 1 stay open for the command (tsrun-oci --preserve-fds)
  int parent_ends[2];  // the parent's ends of the pipes, closed in the child
  bool die_with_parent;
  // In tsrun's memory, for a child that shares it: where a fork step puts the pid of the process it makes.
  pid_t* forked = nullptr;
};


int64_t MonotonicNanoseconds();

// Run the steps in the freshly cloned child; never returns (execve, or _exit after reporting a failure).
[[noreturn]] void RunChild(const ChildContext& ctx);

// OpenResolved is openat2(2); on a kernel without it (before Linux 5.6), WalkBeneath does the same walk by hand. Both are
// async-signal-safe: the child uses them between clone and execve, the addon for tsrun's own reads.
int OpenResolved(int dirfd, const char* path, uint64_t flags, mode_t mode, uint64_t resolve);
int WalkBeneath(int top, const char* path, int flags, mode_t mode, uint64_t resolve);

// For a step with a root: the parent and name of the entry it creates. In the parent, before clone: it allocates.
void PlanInRoot(Step& step);

// recvmsg(SCM_RIGHTS): one descriptor sent over a unix socket (a pty's master, from the child's open_pty step),
// close-on-exec; -1 and errno if none came (ENOMSG when the message held no descriptor).
int ReceiveFd(int sock);

// A seccomp step's program: base64 in the request (plain text, like every other field), bytes for the kernel.
std::string DecodeBase64(const std::string& text);

// A copy of the file at `path` (tsrun-exec) in memory, sealed so that no one can change it, to execute
// with execveat: a memfd, close-on-exec. -1 on failure, with errno and the call that failed in `failed`.
int SealedCopy(const char* path, const char** failed);

// Fills in what each execve step will start tsrun-exec with: the error pipe's descriptor, the step's
// index, the FIFO to wait on (-1: none), its candidates, its hooks and its argv (see exec.c); and each run_hook
// step's argv and envp. In the parent, before clone: it allocates.
void PlanExecve(std::vector<Step>& steps, int error_write, int start_fd = -1);

// The clone flags, tsrun-exec's path and the steps as bytes, for tsrun-monitor's standard input, and back.
std::string EncodeSpawn(unsigned long clone_flags, const std::string& exec_helper, const std::vector<Step>& steps);
bool DecodeSpawn(const std::string& bytes, unsigned long* clone_flags, std::string* exec_helper, std::vector<Step>* steps);

}  // namespace tsrun
