{
  "targets": [
    {
      "target_name": "tsrun_native",
      "sources": ["src/addon.cc", "src/syscalls.cc", "src/bpf.cc", "src/spawn.cc", "src/child.cc", "src/hook.c", "src/seccomp.cc", "src/netlink.cc"],
      "libraries": ["-lseccomp"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions"]
    },
    {
      "target_name": "tsrun-monitor",
      "type": "executable",
      "sources": ["src/monitor.cc", "src/child.cc", "src/hook.c"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Os"],
      "ldflags": ["-static-libstdc++", "-static-libgcc"]
    },
    {
      "target_name": "tsrun-exec",
      "type": "none",
      "actions": [
        {
          "action_name": "link_with_musl",
          "inputs": ["src/exec.c", "src/hook.c"],
          "outputs": ["<(PRODUCT_DIR)/tsrun-exec"],
          "action": ["musl-gcc", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Os", "-static", "-s", "-o", "<@(_outputs)", "<@(_inputs)"]
        }
      ]
    }
  ]
}
