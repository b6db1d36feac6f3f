// Shared helpers for the syscall layer: Node-shaped errors and flag tables.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

namespace tsrun {

// Throws an Error shaped like Node's own system errors:
// { code: 'EPERM', errno: -1, syscall: 'mount', path: '/x', message: 'mount /x: EPERM (Operation not permitted)' }
[[noreturn]] void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& path = "");

// The name of an errno value ("EPERM"), as Node's os.constants.errno uses.
const char* ErrnoName(int err);

// Turns ['MS_RDONLY', 'MS_NOSUID'] into the OR of their values; an unknown name throws.
unsigned long MountFlags(Napi::Env env, const Napi::Value& names);
int Umount2Flags(Napi::Env env, const Napi::Value& names);
unsigned long CloneFlags(Napi::Env env, const Napi::Value& names);

std::string StringProp(const Napi::Object& obj, const char* key);
std::vector<std::string> StringArrayProp(const Napi::Object& obj, const char* key);

Napi::Object InitSyscalls(Napi::Env env, Napi::Object exports);
Napi::Object InitSpawn(Napi::Env env, Napi::Object exports);
Napi::Object InitSeccomp(Napi::Env env, Napi::Object exports);
Napi::Object InitBpf(Napi::Env env, Napi::Object exports);
Napi::Object InitNetlink(Napi::Env env, Napi::Object exports);

}  // namespace tsrun
