{
  "targets": [
    {
      "target_name": "netns",
      "sources": [
        "native/addon.cc",
        "native/bytes.cc",
        "native/ns.cc",
        "native/sysctl.cc",
        "native/executor.cc",
        "native/threads.cc",
        "native/child.cc",
        "native/clone.cc",
        "native/rootless/rootless.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "include_dirs": [ "native" ],
      "defines": [ "NAPI_VERSION=8", "_GNU_SOURCE", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS" ],
      "cflags": [ "-Wall", "-Wextra", "-fvisibility=hidden" ],
      "cflags_cc": [ "-std=c++17", "-Wall", "-Wextra", "-fvisibility=hidden" ],
      "cflags_cc!": [ "-std=gnu++17", "-std=gnu++20" ],
      "conditions": [
        [ "OS!='linux'", { "type": "none" } ]
      ]
    },
    {
      "target_name": "netns-rootless",
      "type": "executable",
      "sources": [ "native/rootless/rootless_helper.cc" ],
      "include_dirs": [ "native" ],
      "defines": [ "_GNU_SOURCE" ],
      "cflags_cc": [ "-std=c++17", "-Wall", "-Wextra", "-fno-exceptions" ],
      "cflags_cc!": [ "-std=gnu++17", "-std=gnu++20", "-fno-rtti" ],
      "conditions": [
        [ "OS!='linux'", { "type": "none" } ]
      ]
    }
  ]
}
