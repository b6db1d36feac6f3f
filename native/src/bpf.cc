// bpf(2), the two commands tsrun needs to fence in a cgroup v2 container's
// devices: load an eBPF program (built in src/cgroups/device-filter.ts) and
// attach it to the container's cgroup. glibc has no wrapper for bpf(2), so it
// is called by number, with the union bpf_attr the kernel reads its arguments from.
#include "common.h"

#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace tsrun {

namespace {

long Bpf(int cmd, union bpf_attr* attr) { return syscall(SYS_bpf, cmd, attr, sizeof(*attr)); }

// Room for the verifier's explanation of a program it refuses.
constexpr size_t kVerifierLogSize = 64 * 1024;

// bpf_prog_load('BPF_PROG_TYPE_CGROUP_DEVICE', insns, license): the program's fd (bpf fds are always close-on-exec)
Napi::Value BpfProgLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || info[0].As<Napi::String>().Utf8Value() != "BPF_PROG_TYPE_CGROUP_DEVICE") {
    throw Napi::TypeError::New(env, "the program type must be BPF_PROG_TYPE_CGROUP_DEVICE");
  }
  if (!info[1].IsBuffer() || info[1].As<Napi::Buffer<char>>().Length() % sizeof(struct bpf_insn) != 0) {
    throw Napi::TypeError::New(env, "insns must be a Buffer of 8-byte struct bpf_insn");
  }
  if (!info[2].IsString()) throw Napi::TypeError::New(env, "license must be a string");
  Napi::Buffer<char> insns = info[1].As<Napi::Buffer<char>>();
  std::string license = info[2].As<Napi::String>().Utf8Value();

  union bpf_attr attr = {};
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = reinterpret_cast<uintptr_t>(insns.Data());
  attr.insn_cnt = insns.Length() / sizeof(struct bpf_insn);
  attr.license = reinterpret_cast<uintptr_t>(license.c_str());
  int fd = Bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0) return Napi::Number::New(env, fd);
  int err = errno;

  // Refused: load it again with a log, so the error says why (a log that is too small would fail a good program).
  std::string log(kVerifierLogSize, '\0');
  attr.log_level = 1;
  attr.log_buf = reinterpret_cast<uintptr_t>(log.data());
  attr.log_size = log.size();
  Bpf(BPF_PROG_LOAD, &attr);
  log.resize(strnlen(log.data(), log.size()));
  try {
    ThrowErrno(env, err, "bpf", "BPF_PROG_LOAD");
  } catch (Napi::Error& error) {
    if (!log.empty()) error.Set("message", error.Message() + "\nthe verifier's log:\n" + log);
    throw;
  }
}

// bpf_prog_attach(progFd, targetFd, 'BPF_CGROUP_DEVICE', flags[]): flags are [] or ['BPF_F_ALLOW_MULTI']
Napi::Value BpfProgAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber()) throw Napi::TypeError::New(env, "progFd and targetFd must be numbers");
  if (!info[2].IsString() || info[2].As<Napi::String>().Utf8Value() != "BPF_CGROUP_DEVICE") {
    throw Napi::TypeError::New(env, "the attach type must be BPF_CGROUP_DEVICE");
  }
  if (!info[3].IsArray()) throw Napi::TypeError::New(env, "flags must be an array of names");
  Napi::Array names = info[3].As<Napi::Array>();
  unsigned int flags = 0;
  for (uint32_t i = 0; i < names.Length(); i++) {
    std::string name = names.Get(i).ToString().Utf8Value();
    if (name != "BPF_F_ALLOW_MULTI") throw Napi::TypeError::New(env, "unknown flag " + name);
    flags |= BPF_F_ALLOW_MULTI;
  }

  union bpf_attr attr = {};
  attr.attach_bpf_fd = info[0].As<Napi::Number>().Int32Value();
  attr.target_fd = info[1].As<Napi::Number>().Int32Value();
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = flags;
  if (Bpf(BPF_PROG_ATTACH, &attr) != 0) ThrowErrno(env, errno, "bpf", "BPF_PROG_ATTACH");
  return env.Undefined();
}

}  // namespace

Napi::Object InitBpf(Napi::Env env, Napi::Object exports) {
  exports.Set("bpf_prog_load", Napi::Function::New(env, BpfProgLoad, "bpf_prog_load"));
  exports.Set("bpf_prog_attach", Napi::Function::New(env, BpfProgAttach, "bpf_prog_attach"));
  return exports;
}

}  // namespace tsrun
