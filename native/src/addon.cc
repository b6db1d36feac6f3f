// The native module: thin system call wrappers (syscalls.cc, bpf.cc), rtnetlink messages (netlink.cc),
// spawn (spawn.cc) and the seccomp filter compiler (seccomp.cc).
#include "common.h"

namespace tsrun {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitSyscalls(env, exports);
  InitSpawn(env, exports);
  InitSeccomp(env, exports);
  InitBpf(env, exports);
  InitNetlink(env, exports);
  return exports;
}

NODE_API_MODULE(tsrun_native, Init)

}  // namespace tsrun
