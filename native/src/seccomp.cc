// seccomp_export_bpf(filter): compiles a resolved seccomp filter (src/security/seccomp.ts's
// SeccompFilter) into the classic BPF program the kernel runs for every system call, and returns it
// as a Buffer of struct sock_filter, 8 bytes each. Loading it is the container's child's job
// (seccomp(SECCOMP_SET_MODE_FILTER)), last before execve.
//
// libseccomp writes the program, not tsrun: it knows every architecture's system call numbers by
// name, compares 64-bit arguments with BPF's 32-bit instructions, and checks each call's
// architecture, so that a process can't reach refused calls through i386's or x32's numbers.
#include "common.h"

#include <errno.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

namespace tsrun {

namespace {

// A libseccomp context and a file descriptor, released however we leave (errors are thrown).
struct Context {
  scmp_filter_ctx ctx;
  ~Context() { seccomp_release(ctx); }
};
struct Fd {
  int fd;
  ~Fd() { if (fd >= 0) close(fd); }
};

uint32_t Action(Napi::Env env, const std::string& name, const Napi::Value& errnoValue) {
  uint16_t err = errnoValue.IsNumber() ? (uint16_t)errnoValue.As<Napi::Number>().Uint32Value() : EPERM;
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(err);
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;  // KILL as runc reads it
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(err);
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  throw Napi::TypeError::New(env, "unknown seccomp action " + name);
}

scmp_compare Operator(Napi::Env env, const std::string& name) {
  if (name == "SCMP_CMP_NE") return SCMP_CMP_NE;
  if (name == "SCMP_CMP_LT") return SCMP_CMP_LT;
  if (name == "SCMP_CMP_LE") return SCMP_CMP_LE;
  if (name == "SCMP_CMP_EQ") return SCMP_CMP_EQ;
  if (name == "SCMP_CMP_GE") return SCMP_CMP_GE;
  if (name == "SCMP_CMP_GT") return SCMP_CMP_GT;
  if (name == "SCMP_CMP_MASKED_EQ") return SCMP_CMP_MASKED_EQ;
  throw Napi::TypeError::New(env, "unknown seccomp comparison " + name);
}

uint64_t NumberProp(const Napi::Object& obj, const char* key) {
  Napi::Value value = obj.Get(key);
  if (!value.IsNumber()) throw Napi::TypeError::New(obj.Env(), std::string(key) + " must be a number");
  return (uint64_t)value.As<Napi::Number>().Int64Value();
}

Napi::Array ArrayProp(const Napi::Object& obj, const char* key) {
  Napi::Value value = obj.Get(key);
  if (!value.IsArray()) throw Napi::TypeError::New(obj.Env(), std::string(key) + " must be an array");
  return value.As<Napi::Array>();
}

// seccomp_export_bpf({defaultAction, defaultErrno?, architectures, rules: [{names, action, errno?, args}]}): Buffer
Napi::Value SeccompExportBpf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "filter must be an object");
  Napi::Object filter = info[0].As<Napi::Object>();

  uint32_t defaultAction = Action(env, StringProp(filter, "defaultAction"), filter.Get("defaultErrno"));
  Context context{seccomp_init(defaultAction)};
  if (!context.ctx) ThrowErrno(env, EINVAL, "seccomp_init");

  // The native architecture is in the filter from seccomp_init on; the others are added.
  for (const std::string& name : StringArrayProp(filter, "architectures")) {
    std::string lower = name.rfind("SCMP_ARCH_", 0) == 0 ? name.substr(10) : name;  // libseccomp's name: "x86_64"
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    uint32_t arch = seccomp_arch_resolve_name(lower.c_str());
    if (arch == 0) ThrowErrno(env, EINVAL, "seccomp_arch_add", name);
    int rc = seccomp_arch_add(context.ctx, arch);
    if (rc < 0 && rc != -EEXIST) ThrowErrno(env, -rc, "seccomp_arch_add", name);
  }

  Napi::Array rules = ArrayProp(filter, "rules");
  size_t added = 0;
  for (uint32_t i = 0; i < rules.Length(); i++) {
    if (!rules.Get(i).IsObject()) throw Napi::TypeError::New(env, "rules must be objects");
    Napi::Object rule = rules.Get(i).As<Napi::Object>();
    uint32_t action = Action(env, StringProp(rule, "action"), rule.Get("errno"));
    // libseccomp refuses a rule that only repeats the default action; it changes nothing anyway.
    if (action == defaultAction) continue;

    std::vector<scmp_arg_cmp> comparisons;
    bool sameArgumentTwice = false;
    Napi::Array args = ArrayProp(rule, "args");
    for (uint32_t j = 0; j < args.Length(); j++) {
      if (!args.Get(j).IsObject()) throw Napi::TypeError::New(env, "args must be objects");
      Napi::Object arg = args.Get(j).As<Napi::Object>();
      scmp_arg_cmp comparison = {(unsigned int)NumberProp(arg, "index"), Operator(env, StringProp(arg, "op")),
                                 NumberProp(arg, "value"), NumberProp(arg, "valueTwo")};
      for (const scmp_arg_cmp& earlier : comparisons) sameArgumentTwice |= earlier.arg == comparison.arg;
      comparisons.push_back(comparison);
    }

    for (const std::string& name : StringArrayProp(rule, "names")) {
      // A call this libseccomp has never heard of (newer than it) is left to the default action, as runc does.
      int syscall = seccomp_syscall_resolve_name(name.c_str());
      if (syscall == __NR_SCMP_ERROR) continue;
      // One libseccomp rule can compare an argument only once. Like runc, two comparisons of the same
      // argument become a rule each, so either one matching is enough (an OR, where one rule is an AND).
      int rc = 0;
      if (!sameArgumentTwice) {
        rc = seccomp_rule_add_array(context.ctx, action, syscall, comparisons.size(), comparisons.data());
      } else {
        for (const scmp_arg_cmp& comparison : comparisons) {
          if ((rc = seccomp_rule_add_array(context.ctx, action, syscall, 1, &comparison)) < 0) break;
        }
      }
      if (rc < 0) ThrowErrno(env, -rc, "seccomp_rule_add", name);
      added++;
    }
  }
  // Many calls are found by a binary search on their numbers rather than one comparison after another,
  // as runc does above 32 (libseccomp 2.5.4 and older misbehave with it on an empty filter). Not fatal if missing.
  if (added > 32) seccomp_attr_set(context.ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);

  // libseccomp 2.5 writes the program only to a file descriptor: a memfd, read back whole.
  Fd program{memfd_create("seccomp-bpf", MFD_CLOEXEC)};
  if (program.fd < 0) ThrowErrno(env, errno, "memfd_create");
  int rc = seccomp_export_bpf(context.ctx, program.fd);
  if (rc < 0) ThrowErrno(env, -rc, "seccomp_export_bpf");
  off_t size = lseek(program.fd, 0, SEEK_END);
  if (size < 0) ThrowErrno(env, errno, "lseek");
  Napi::Buffer<char> out = Napi::Buffer<char>::New(env, size);
  for (off_t done = 0; done < size;) {
    ssize_t got = pread(program.fd, out.Data() + done, size - done, done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) ThrowErrno(env, got < 0 ? errno : EIO, "pread");
    done += got;
  }
  return out;
}

}  // namespace

Napi::Object InitSeccomp(Napi::Env env, Napi::Object exports) {
  exports.Set("seccomp_export_bpf", Napi::Function::New(env, SeccompExportBpf, "seccomp_export_bpf"));
  return exports;
}

}  // namespace tsrun
