// spawn(): clone a child into new namespaces and have it run a list of steps
// built in TypeScript (src/kernel/steps.ts), ending in execve.
//
// Node is multi-threaded, so after clone() the child may only do
// async-signal-safe work: no malloc, no locks, no C++ exceptions. Everything
// the child needs (strings, argv and envp arrays, flag values) is prepared
// here, before clone, in the parent. If a step fails, the child writes
// {step index, errno} to a close-on-exec pipe and exits; if execve succeeds,
// the pipe closes with nothing written, and tsrun knows the command started.
// (The last step execs tsrun-exec, which does the same for the command: exec.c.)
//
// For the trace, the child also notes when each step begins (CLOCK_MONOTONIC:
// clock_gettime is async-signal-safe) in memory it shares with tsrun, which
// turns the times into spans once the command runs or a step has failed:
//   times[0]      tsrun calls clone
//   times[1]      the child begins
//   times[2 + i]  step i begins (and step i - 1 has ended)
// A step that fails gets its end written in the slot after its own. A slot
// never reached stays 0; execve's end is when tsrun sees the pipe close.
#include "common.h"
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace tsrun {
namespace {

const struct {
  const char* name;
  Op op;
} kOps[] = {
    {"mount", Op::Mount},             {"umount2", Op::Umount2},     {"pivot_root", Op::PivotRoot},
    {"chdir", Op::Chdir},             {"mkdir", Op::Mkdir},         {"create_file", Op::CreateFile},
    {"mknod", Op::Mknod},             {"symlink", Op::Symlink},     {"sethostname", Op::Sethostname},
    {"umask", Op::Umask},             {"link_up", Op::LinkUp},      {"write_file", Op::WriteFile},
    {"unshare", Op::Unshare},         {"setns", Op::Setns},         {"setsid", Op::Setsid},
    {"setgroups", Op::Setgroups},     {"setgid", Op::Setgid},       {"setuid", Op::Setuid},
    {"open_pty", Op::OpenPty},        {"execve", Op::Execve},       {"fork", Op::Fork},
    {"capbset_drop", Op::CapbsetDrop}, {"capset", Op::Capset},      {"prctl", Op::Prctl},
    {"setrlimit", Op::Setrlimit},     {"seccomp", Op::Seccomp},     {"cap_ambient_raise", Op::CapAmbientRaise},
    {"setdomainname", Op::Setdomainname}, {"chroot", Op::Chroot},
    {"run_hook", Op::RunHook},
};

struct Named {
  const char* name;
  long value;
};

#define NAMED(x) {#x, x}
const Named kCapabilities[] = {
    NAMED(CAP_CHOWN), NAMED(CAP_DAC_OVERRIDE), NAMED(CAP_DAC_READ_SEARCH), NAMED(CAP_FOWNER), NAMED(CAP_FSETID),
    NAMED(CAP_KILL), NAMED(CAP_SETGID), NAMED(CAP_SETUID), NAMED(CAP_SETPCAP), NAMED(CAP_LINUX_IMMUTABLE),
    NAMED(CAP_NET_BIND_SERVICE), NAMED(CAP_NET_BROADCAST), NAMED(CAP_NET_ADMIN), NAMED(CAP_NET_RAW),
    NAMED(CAP_IPC_LOCK), NAMED(CAP_IPC_OWNER), NAMED(CAP_SYS_MODULE), NAMED(CAP_SYS_RAWIO), NAMED(CAP_SYS_CHROOT),
    NAMED(CAP_SYS_PTRACE), NAMED(CAP_SYS_PACCT), NAMED(CAP_SYS_ADMIN), NAMED(CAP_SYS_BOOT), NAMED(CAP_SYS_NICE),
    NAMED(CAP_SYS_RESOURCE), NAMED(CAP_SYS_TIME), NAMED(CAP_SYS_TTY_CONFIG), NAMED(CAP_MKNOD), NAMED(CAP_LEASE),
    NAMED(CAP_AUDIT_WRITE), NAMED(CAP_AUDIT_CONTROL), NAMED(CAP_SETFCAP), NAMED(CAP_MAC_OVERRIDE),
    NAMED(CAP_MAC_ADMIN), NAMED(CAP_SYSLOG), NAMED(CAP_WAKE_ALARM), NAMED(CAP_BLOCK_SUSPEND), NAMED(CAP_AUDIT_READ),
    NAMED(CAP_PERFMON), NAMED(CAP_BPF), NAMED(CAP_CHECKPOINT_RESTORE),
};
const Named kResources[] = {
    NAMED(RLIMIT_CORE), NAMED(RLIMIT_CPU), NAMED(RLIMIT_DATA), NAMED(RLIMIT_FSIZE), NAMED(RLIMIT_LOCKS),
    NAMED(RLIMIT_MEMLOCK), NAMED(RLIMIT_MSGQUEUE), NAMED(RLIMIT_NICE), NAMED(RLIMIT_NOFILE), NAMED(RLIMIT_NPROC),
    NAMED(RLIMIT_RSS), NAMED(RLIMIT_RTPRIO), NAMED(RLIMIT_RTTIME), NAMED(RLIMIT_SIGPENDING), NAMED(RLIMIT_STACK),
    NAMED(RLIMIT_AS),
};
const Named kPrctlOptions[] = {NAMED(PR_SET_NO_NEW_PRIVS), NAMED(PR_SET_KEEPCAPS)};
#undef NAMED

template <size_t N>
long NameToValue(Napi::Env env, const Named (&table)[N], const std::string& name) {
  for (const Named& entry : table) {
    if (name == entry.name) return entry.value;
  }
  throw Napi::TypeError::New(env, "unknown name " + name);
}

// ['CAP_CHOWN', 'CAP_KILL'] -> the bits 1 << CAP_CHOWN | 1 << CAP_KILL, as capset(2) and /proc/PID/status use them.
unsigned long CapabilityMask(Napi::Env env, const Napi::Object& obj, const char* key) {
  unsigned long mask = 0;
  for (const std::string& name : StringArrayProp(obj, key)) mask |= 1UL << NameToValue(env, kCapabilities, name);
  return mask;
}

long NumberProp(const Napi::Object& obj, const char* key) {
  Napi::Value value = obj.Get(key);
  if (!value.IsNumber()) throw Napi::TypeError::New(obj.Env(), std::string(key) + " must be a number");
  return value.As<Napi::Number>().Int64Value();
}

Step ParseStep(Napi::Env env, const Napi::Object& obj) {
  std::string name = StringProp(obj, "op");
  Step step{};
  bool known = false;
  for (const auto& entry : kOps) {
    if (name == entry.name) {
      step.op = entry.op;
      known = true;
    }
  }
  if (!known) throw Napi::TypeError::New(env, "unknown step op " + name);
  step.optional = obj.Get("optional").ToBoolean();
  // A path of the container's, resolved inside this root by the child (child.cc, region in-root).
  if (obj.Has("root") && !obj.Get("root").IsUndefined()) step.root = StringProp(obj, "root");
  step.source_in_root = obj.Get("sourceInRoot").ToBoolean();
  switch (step.op) {
    case Op::Setsid: case Op::Fork: break;
    case Op::Mount:
      step.s1 = StringProp(obj, "source");
      step.s2 = StringProp(obj, "target");
      step.s3 = StringProp(obj, "fstype");
      step.s4 = StringProp(obj, "data");
      step.flags = MountFlags(env, obj.Get("flags"));
      break;
    case Op::Umount2:
      step.s1 = StringProp(obj, "target");
      step.flags = Umount2Flags(env, obj.Get("flags"));
      break;
    case Op::PivotRoot:
      step.s1 = StringProp(obj, "new_root");
      step.s2 = StringProp(obj, "put_old");
      break;
    case Op::Chdir: case Op::Chroot: step.s1 = StringProp(obj, "path"); break;
    case Op::Mkdir: case Op::CreateFile:
      step.s1 = StringProp(obj, "path");
      step.n1 = NumberProp(obj, "mode");
      break;
    case Op::Mknod:
      step.s1 = StringProp(obj, "path");
      step.n1 = NumberProp(obj, "mode");
      step.n2 = NumberProp(obj, "major");
      step.n3 = NumberProp(obj, "minor");
      break;
    case Op::Symlink:
      step.s1 = StringProp(obj, "target");
      step.s2 = StringProp(obj, "linkpath");
      break;
    case Op::Sethostname: case Op::Setdomainname: step.s1 = StringProp(obj, "name"); break;
    case Op::Umask: step.n1 = NumberProp(obj, "mask"); break;
    case Op::LinkUp:
      step.s1 = StringProp(obj, "name");
      if (step.s1.size() >= IFNAMSIZ) throw Napi::TypeError::New(env, "interface name too long: " + step.s1);
      break;
    case Op::WriteFile:
      step.s1 = StringProp(obj, "path");
      step.s2 = StringProp(obj, "data");
      break;
    case Op::Unshare: step.flags = CloneFlags(env, obj.Get("flags")); break;
    case Op::Setns: {
      step.s1 = StringProp(obj, "path");
      Napi::Array nstype = Napi::Array::New(env, 1);
      nstype.Set(0u, obj.Get("nstype"));
      step.n1 = (long)CloneFlags(env, nstype);
      break;
    }
    case Op::Setgroups: {
      Napi::Array gids = obj.Get("gids").As<Napi::Array>();
      for (uint32_t i = 0; i < gids.Length(); i++) step.gids.push_back(gids.Get(i).As<Napi::Number>().Uint32Value());
      break;
    }
    case Op::Setgid: step.n1 = NumberProp(obj, "gid"); break;
    case Op::Setuid: step.n1 = NumberProp(obj, "uid"); break;
    case Op::CapbsetDrop: case Op::CapAmbientRaise: step.flags = CapabilityMask(env, obj, "caps"); break;
    case Op::Capset:
      step.n1 = (long)CapabilityMask(env, obj, "effective");
      step.n2 = (long)CapabilityMask(env, obj, "permitted");
      step.n3 = (long)CapabilityMask(env, obj, "inheritable");
      break;
    case Op::Prctl:
      step.n1 = NameToValue(env, kPrctlOptions, StringProp(obj, "option"));
      step.n2 = NumberProp(obj, "value");
      break;
    case Op::Setrlimit:
      step.n1 = NameToValue(env, kResources, StringProp(obj, "resource"));
      step.n2 = NumberProp(obj, "soft");
      step.n3 = NumberProp(obj, "hard");
      break;
    case Op::Seccomp:
      step.s1 = StringProp(obj, "filter");
      step.program = DecodeBase64(step.s1);
      if (step.program.empty() || step.program.size() % 8 != 0) throw Napi::TypeError::New(env, "seccomp filter must be a BPF program in base64");
      break;
    case Op::OpenPty:
      step.n1 = NumberProp(obj, "rows");
      step.n2 = NumberProp(obj, "cols");
      break;
    case Op::Execve: {
      std::string file = StringProp(obj, "file");
      if (file.find('/') != std::string::npos) {
        step.candidates.push_back(file);
      } else {
        for (const std::string& dir : StringArrayProp(obj, "search")) {
          step.candidates.push_back((dir.empty() ? "." : dir) + "/" + file);
        }
      }
      step.argv_store = StringArrayProp(obj, "argv");
      step.envp_store = StringArrayProp(obj, "envp");
      Napi::Value hooks = obj.Get("hooks");
      Napi::Array list = hooks.IsArray() ? hooks.As<Napi::Array>() : Napi::Array::New(env);
      step.hook_args = {std::to_string(list.Length())};
      for (uint32_t i = 0; i < list.Length(); i++) {
        Napi::Object hook = list.Get(i).As<Napi::Object>();
        std::vector<std::string> argv = StringArrayProp(hook, "argv"), envp = StringArrayProp(hook, "envp");
        for (const std::string& field : {StringProp(hook, "path"), std::to_string(NumberProp(hook, "timeout")), StringProp(hook, "state"), std::to_string(argv.size())}) {
          step.hook_args.push_back(field);
        }
        step.hook_args.insert(step.hook_args.end(), argv.begin(), argv.end());
        step.hook_args.push_back(std::to_string(envp.size()));
        step.hook_args.insert(step.hook_args.end(), envp.begin(), envp.end());
      }
      break;
    }
    case Op::RunHook:
      step.s1 = StringProp(obj, "path");
      step.s2 = StringProp(obj, "state");
      step.n1 = NumberProp(obj, "timeout");
      step.argv_store = StringArrayProp(obj, "argv");
      step.envp_store = StringArrayProp(obj, "envp");
      break;
  }
  PlanInRoot(step);
  return step;
}

// ---- back in the parent ----

void CloseAll(std::initializer_list<int> fds) {
  for (int fd : fds) {
    if (fd >= 0) close(fd);
  }
}

void UnmapTimes(Napi::Env, void* times, size_t* length) {
  munmap(times, *length);
  delete length;
}

// The request's steps, each with every string and number it needs (see Step).
std::vector<Step> ParseSteps(Napi::Env env, const Napi::Object& request) {
  Napi::Array js_steps = request.Get("steps").As<Napi::Array>();
  std::vector<Step> steps;
  for (uint32_t i = 0; i < js_steps.Length(); i++) steps.push_back(ParseStep(env, js_steps.Get(i).As<Napi::Object>()));
  return steps;
}

// A copy of tsrun's memory for the child costs milliseconds: the kernel copies the page tables of all
// Node has touched (tens of megabytes), and each page either process writes before the child's execve
// is copied again. So, as posix_spawn does, the child borrows tsrun's memory instead (CLONE_VM), on a
// stack of its own, while the thread that cloned it waits (CLONE_VFORK) until its execve or its exit.
// The child writes only to that stack, to the times it shares with tsrun anyway, and, after a fork step,
// the pid of the process that goes on with the steps (child.cc).
constexpr size_t kChildStackSize = 256 * 1024;

int ChildOnItsStack(void* ctx) {
  RunChild(*static_cast<const ChildContext*>(ctx));
}

// The child's pid, once it has called execve or exited (-1 and errno if clone failed); never 0.
long CloneSharingMemory(unsigned long clone_flags, const ChildContext& ctx) {
  void* stack = mmap(nullptr, kChildStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return -1;
  long pid = clone(ChildOnItsStack, static_cast<char*>(stack) + kChildStackSize,
                   (int)(clone_flags | CLONE_VM | CLONE_VFORK | SIGCHLD), const_cast<ChildContext*>(&ctx));
  int clone_errno = errno;
  munmap(stack, kChildStackSize);
  errno = clone_errno;
  return pid;
}

// spawn({cloneFlags, steps, stdio, dieWithParent, execHelper, awaitStart, preserveFds}) -> {pid, errorFd, consoleFd, times}
Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object request = info[0].As<Napi::Object>();
  unsigned long clone_flags = CloneFlags(env, request.Get("cloneFlags"));
  std::vector<Step> steps = ParseSteps(env, request);
  bool wants_pty = false;
  for (const Step& step : steps) wants_pty = wants_pty || step.op == Op::OpenPty;
  Napi::Array js_stdio = request.Get("stdio").As<Napi::Array>();

  // A copy for each spawn, not one kept for the process: `tsrun run` spawns once, and a copy takes 0.3 ms.
  std::string exec_helper_path = StringProp(request, "execHelper");
  const char* failed = nullptr;
  int exec_helper = SealedCopy(exec_helper_path.c_str(), &failed);
  if (exec_helper < 0) ThrowErrno(env, errno, failed, exec_helper_path);

  int error_pipe[2], console[2] = {-1, -1};
  if (pipe2(error_pipe, O_CLOEXEC) != 0) {
    int err = errno;
    CloseAll({exec_helper});
    ThrowErrno(env, err, "pipe2");
  }
  if (wants_pty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) != 0) {
    int err = errno;
    CloseAll({exec_helper, error_pipe[0], error_pipe[1]});
    ThrowErrno(env, err, "socketpair");
  }
  // tsrun-oci create: the command waits on this FIFO until `tsrun-oci start` opens it (exec.c).
  Napi::Value await_start = request.Get("awaitStart");
  int start_fd = await_start.IsNumber() ? await_start.As<Napi::Number>().Int32Value() : -1;
  PlanExecve(steps, error_pipe[1], start_fd);

  // One slot for clone, one for the child's start, one per step, one for the end of a failed last step.
  size_t times_length = (kFirstStepSlot + steps.size() + 1) * sizeof(int64_t);
  void* times = mmap(nullptr, times_length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (times == MAP_FAILED) {
    int err = errno;
    CloseAll({exec_helper, error_pipe[0], error_pipe[1], console[0], console[1]});
    ThrowErrno(env, err, "mmap");
  }

  ChildContext ctx;
  ctx.steps = &steps;
  ctx.times = static_cast<int64_t*>(times);
  for (int fd = 0; fd < 3; fd++) ctx.stdio[fd] = js_stdio.Get(fd).As<Napi::Number>().Int32Value();
  ctx.error_write = error_pipe[1];
  ctx.exec_helper = exec_helper;
  ctx.console_child = console[1];
  ctx.start_fd = start_fd;
  ctx.parent_ends[0] = error_pipe[0];
  ctx.parent_ends[1] = console[0];
  ctx.die_with_parent = request.Get("dieWithParent").ToBoolean();
  Napi::Value preserve_fds = request.Get("preserveFds");
  ctx.preserve_fds = preserve_fds.IsNumber() ? preserve_fds.As<Napi::Number>().Int32Value() : 0;

  // Block every signal around clone so no handler of Node's runs in the child.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  int dumpable = prctl(PR_GET_DUMPABLE);
  ctx.times[kCloneSlot] = MonotonicNanoseconds();
  pid_t forked = 0;
  ctx.forked = &forked;
  long pid = CloneSharingMemory(clone_flags, ctx);
  int clone_errno = errno;
  // The child, which shared this memory until its execve, made it not dumpable (child.cc). No process
  // shares it now, not even one a fork step made: tsrun is made dumpable again, as it was. Meanwhile
  // nothing of tsrun's minded: a process may always read its own /proc/self, and tsrun runs as root.
  if (dumpable == 1) prctl(PR_SET_DUMPABLE, 1);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (pid > 0 && forked > 0) {
    // A fork step made the process that runs the command, tsrun's child too, and this one has left: reap it.
    while (waitpid((pid_t)pid, nullptr, 0) < 0 && errno == EINTR) {}
    pid = forked;
  }

  CloseAll({exec_helper, error_pipe[1], console[1]});
  if (pid < 0) {
    CloseAll({error_pipe[0], console[0]});
    munmap(times, times_length);
    ThrowErrno(env, clone_errno, "clone");
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, (double)pid));
  result.Set("errorFd", Napi::Number::New(env, error_pipe[0]));
  result.Set("consoleFd", Napi::Number::New(env, console[0]));
  // The mapping is unmapped when JavaScript no longer holds the buffer.
  result.Set("times", Napi::ArrayBuffer::New(env, times, times_length, UnmapTimes, new size_t(times_length)));
  return result;
}

// encodeSpawn({cloneFlags, steps, execHelper}) -> Buffer: the same request, as tsrun-monitor reads it on its standard input.
Napi::Value EncodeSpawnRequest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object request = info[0].As<Napi::Object>();
  std::string bytes = EncodeSpawn(CloneFlags(env, request.Get("cloneFlags")), StringProp(request, "execHelper"), ParseSteps(env, request));
  return Napi::Buffer<char>::Copy(env, bytes.data(), bytes.size());
}

}  // namespace

Napi::Object InitSpawn(Napi::Env env, Napi::Object exports) {
  exports.Set("spawn", Napi::Function::New(env, Spawn, "spawn"));
  exports.Set("encodeSpawn", Napi::Function::New(env, EncodeSpawnRequest, "encodeSpawn"));
  return exports;
}

}  // namespace tsrun
