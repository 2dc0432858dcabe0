// netns native core: shared declarations.
//
// Rules every file here follows:
//  * One exported function per syscall, or per "do this inside that namespace" primitive.
//    Parsing, validation and policy live in TypeScript (lib/).
//  * Every fd we create is O_CLOEXEC.
//  * A Node-owned thread (the JS thread) is never left in a foreign network namespace when
//    control returns to JavaScript: a switch and its undo happen inside one native call, and
//    if the undo fails the process aborts (Inside, below).
//  * Errors are thrown as Error objects carrying { errno (positive), syscall, path }; the
//    TypeScript layer turns them into NetnsError with Node's field conventions and a hint.
#pragma once

#include <napi.h>

#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>

namespace netns {

class Executor;
class Threads;

// Per-environment state (one per main thread / worker thread that loads the addon).
struct AddonData {
  int homeNs = -1;               // net namespace of the JS thread when the addon was loaded
  int curNs = -1;                // net namespace the JS thread is in now (== homeNs outside runIn)
  bool curOwned = false;         // curNs is a separate fd we must close when replaced
  Executor* executor = nullptr;  // created lazily by the first Promise-form call
  Threads* threads = nullptr;  // the environment's addon threads (threads.h), created on first use
  // fds handed to JavaScript (namespace handles, sysctl handles) and not yet closed through
  // the addon, with the identity they had. A terminated Worker runs no finalizers, so the
  // environment's cleanup closes what is left, each only if the number still names the same
  // file (if JS closed it behind our back, the number may belong to someone else by then).
  std::unordered_map<int, std::pair<dev_t, ino_t>> owned;
  // Rootless helpers not yet stopped: pid -> a private dup of their pidfd. At cleanup (a
  // terminated Worker, process exit) their sockets are closed with the owned fds, so they exit;
  // they are then reaped here rather than left as zombies of a process that never waits.
  std::unordered_map<int, int> helpers;
  int homeWayBack = -1;  // CheckWayBack(homeNs) once known: 0 or errno
  // Where the hot reads (fdPread, sysctlReadInto) leave the bytes, exported to JavaScript once
  // as an external ArrayBuffer (`readBuffer`).
  alignas(64) unsigned char readBuf[4096];
  // The call area: the hottest calls (a handle's read, get) take their arguments from, and
  // leave their result in, memory JavaScript also sees (one external ArrayBuffer, `callArea`),
  // the way Node core hands fs.stat results over in a shared Float64Array. Every JS value that
  // crosses N-API costs more than the rest of such a call: the key as a string argument (its
  // length, then its bytes) took more instructions than open, read and close together
  // (bench/analysis.md). Layout mirrored in lib/native/call.ts.
  alignas(64) struct CallArea {
    int32_t fd;      // in: the key fd (fdPread) or the namespace fd, -1 = where the thread is
    int32_t relLen;  // in: bytes of rel (sysctlReadInto)
    int32_t n;       // out: bytes read into readBuf
    int32_t spare;
    char rel[4096 + 1];  // in: a path relative to /proc/sys/net, validated by TypeScript
  } call;
};

// Size of AddonData::readBuf: the 4 KiB every sysctl read asks the kernel for.
constexpr size_t kReadBufSize = sizeof(AddonData::readBuf);
// Longest rel the call area takes (TypeScript's keys are at most 1 KiB).
constexpr size_t kCallRelCap = sizeof(AddonData::CallArea::rel) - 1;

AddonData* Data(Napi::Env env);

// Record that `fd` now belongs to JavaScript / no longer does (closed through the addon).
int Own(Napi::Env env, int fd);
void Disown(Napi::Env env, int fd);

// Throws a JS Error carrying errno/syscall/path (C++ exception mode).
[[noreturn]] void ThrowErrno(Napi::Env env, int err, const char* syscall,
                             const std::string& path = "");
Napi::Object ErrnoObject(Napi::Env env, int err, const char* syscall, const std::string& path = "");
// The same fields on a plain object (no stack capture), for per-key outcomes in batches/walks.
Napi::Object ErrnoRecord(Napi::Env env, int err, const char* syscall, const std::string& path = "");

// Switch the calling thread into the net namespace `fd`. Returns 0 or errno.
int Enter(int fd);
// Whether the calling thread is in the namespace `fd` refers to (same dev/ino).
bool IsCurrent(int fd);
// Whether the calling thread could switch back to `home` after leaving it: 0 or errno.
// setns() performs the same permission checks for a switch to the namespace the thread is
// already in as for the way back (CAP_SYS_ADMIN over the user namespace that owns `home`, and
// in our own). Root of a user namespace whose network namespace belongs to an ancestor
// (rootless containers, `unshare -r`) may enter namespaces it made but never come back.
int CheckWayBack(int home);
// The same for the JS thread's current namespace, cached for the addon's home namespace.
int CheckWayBackSync(Napi::Env env);
int CheckWayBackSync(AddonData* d);
// Whether a CheckWayBack answer is definitive (0, or EPERM: the credentials decide) and may be
// kept; any other errno (ENOMEM...) is transient and must be asked again.
bool IsSettledWayBack(int r);
// Refuse a switch because the way back is barred (CheckWayBack failed with `err`): a setns
// error whose `reason` is kReasonWayBackBarred (lib/errors.ts gives it its own hint).
Napi::Object WayBackBarred(Napi::Env env, int err);
[[noreturn]] void ThrowWayBackBarred(Napi::Env env, int err);
constexpr const char* kReasonWayBackBarred = "way-back-barred";
// Switch the calling Node-owned thread back to `home`, or abort the process. Use Inside().
void LeaveOrDie(int home, const char* during);
// The same for an addon-owned thread: returns false if the switch back failed (the thread must
// be retired). Honours the test-only fault injection counter. Use Inside().
bool LeaveOrRetire(int home);
// Test hook: make the next N switch-backs report failure (the real switch is still done).
extern std::atomic<int> g_failSwitchBack;

// What a thread does when it cannot switch back after Inside(): a Node-owned thread aborts the
// process loudly (it must never return to JavaScript in a foreign namespace); an addon-owned
// thread is retired: Inside() returns kStuck and the thread must end without running more
// work (CNI pkg/ns Do(): a thread that cannot switch back is destroyed).
enum class OnStuck { kAbort, kRetire };
constexpr int kStuck = -1;

// The one switch-in/switch-back primitive. Runs work() with the calling thread inside the
// network namespace `target`, then switches it back to `back`, also when work() throws: the
// exception leaves only once the thread is back (or the process has aborted: an exception has
// no caller left to retire the thread). Returns 0; the errno of a failed setns into `target`
// (work() not run); or kStuck (kRetire only).
template <class F>
int Inside(int target, int back, OnStuck onStuck, const char* during, F&& work) {
  if (int err = Enter(target)) return err;
  try {
    work();
  } catch (...) {
    LeaveOrDie(back, during);
    throw;
  }
  if (onStuck == OnStuck::kRetire) return LeaveOrRetire(back) ? 0 : kStuck;
  LeaveOrDie(back, during);
  return 0;
}

// Inside() on the JS thread, within one native call: work() runs where the thread is when
// `target` < 0; a barred way back is refused (way-back-barred) rather than entered and died
// of; a failed setns is thrown; the way back is where the JS thread is now (the namespace of
// an enclosing runSync, or home).
template <class F>
void InsideJs(Napi::Env env, AddonData* d, int target, const char* during, F&& work) {
  if (target < 0) {
    work();
    return;
  }
  if (int back = CheckWayBackSync(d)) ThrowWayBackBarred(env, back);
  if (int err = Inside(target, d->curNs, OnStuck::kAbort, during, work))
    ThrowErrno(env, err, "setns");
}
template <class F>
void InsideJs(Napi::Env env, int target, const char* during, F&& work) {
  InsideJs(env, Data(env), target, during, work);
}

// ---- children the addon clones (clone.cc, rootless/rootless.cc) ----

// The one writer of uid/gid maps: map uid/gid 0 of child `pid`'s new user namespace to `uid`
// and `gid` ("deny" to setgroups first, as an unprivileged writer of gid_map must; kernels
// before 3.19 have no setgroups file). Returns 0 or errno, with the file that failed in *path.
int WriteIdMaps(pid_t pid, uint32_t uid, uint32_t gid, std::string* path);
// Reap child `pid` through its pidfd (-1: none) when the kernel can, by pid otherwise.
// `options` adds to WEXITED | __WALL (WNOHANG: si->si_pid stays 0 while it runs).
// Returns 0 or errno.
int WaitChild(pid_t pid, int pidfd, siginfo_t* si, int options = 0);

// The process's O_PATH fd on /proc/sys/net (core::OpenNetRoot, opened once), or -errno.
int NetRoot();
// core::OpenBeneath(NetRoot(), rel, flags): `rel` (relative, already validated by TypeScript)
// opened confined beneath /proc/sys/net, in the calling thread's namespace. fd or -errno.
int OpenConfined(const char* rel, int flags);
// Read a small text file from offset 0 into `out`. Returns 0 or errno.
int ReadSmall(int fd, std::string& out);

// Strings <-> bytes (bytes.cc): every string that crosses the boundary as a path, a key or a
// value goes through these two, so that a name that is not UTF-8 round-trips exactly (each
// undecodable byte is the lone surrogate U+DC80 + (byte - 0x80), PEP 383's surrogateescape).
std::string BytesOf(const Napi::Value& v);  // also takes a Uint8Array: its bytes as they are
Napi::String StringOf(Napi::Env env, const char* p, size_t n);
inline Napi::String StringOf(Napi::Env env, const std::string& s) {
  return StringOf(env, s.data(), s.size());
}

void InitBytes(Napi::Env env, Napi::Object exports);
void InitNs(Napi::Env env, Napi::Object exports);
void InitSysctl(Napi::Env env, Napi::Object exports);
void InitClone(Napi::Env env, Napi::Object exports);
void InitRootless(Napi::Env env, Napi::Object exports);

}  // namespace netns
