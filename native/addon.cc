// Module entry, per-environment data, errors, namespace switching and the confined open.
#include "netns.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "executor.h"
#include "syscompat.h"
#include "sysctl_core.h"

namespace netns {

std::atomic<int> g_failSwitchBack{0};

AddonData* Data(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

int Own(Napi::Env env, int fd) {
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) == 0) Data(env)->owned[fd] = {st.st_dev, st.st_ino};
  return fd;
}

void Disown(Napi::Env env, int fd) { Data(env)->owned.erase(fd); }

Napi::Object ErrnoObject(Napi::Env env, int err, const char* syscall, const std::string& path) {
  Napi::Error e = Napi::Error::New(env, std::string(strerror(err)));
  Napi::Object o = e.Value();
  o.Set("errno", Napi::Number::New(env, err));
  o.Set("syscall", Napi::String::New(env, syscall));
  if (!path.empty()) o.Set("path", StringOf(env, path));
  o.Set("nativeErrno", Napi::Boolean::New(env, true));
  return o;
}

Napi::Object ErrnoRecord(Napi::Env env, int err, const char* syscall, const std::string& path) {
  // A plain object, no stack trace: cheap enough for per-key outcomes of batches and walks.
  Napi::Object o = Napi::Object::New(env);
  o.Set("errno", Napi::Number::New(env, err));
  o.Set("syscall", Napi::String::New(env, syscall));
  if (!path.empty()) o.Set("path", StringOf(env, path));
  o.Set("nativeErrno", Napi::Boolean::New(env, true));
  return o;
}

void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& path) {
  throw Napi::Error(env, ErrnoObject(env, err, syscall, path));
}

Napi::Object WayBackBarred(Napi::Env env, int err) {
  Napi::Object o = ErrnoObject(env, err, "setns", "/proc/thread-self/ns/net");
  o.Set("reason", Napi::String::New(env, kReasonWayBackBarred));
  return o;
}

void ThrowWayBackBarred(Napi::Env env, int err) { throw Napi::Error(env, WayBackBarred(env, err)); }

int Enter(int fd) {
  if (setns(fd, CLONE_NEWNET) != 0) return errno;
  return 0;
}

bool IsCurrent(int fd) {
  struct stat a, b;
  if (fstat(fd, &a) != 0 || stat("/proc/thread-self/ns/net", &b) != 0) return false;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int CheckWayBack(int home) {
  if (setns(home, CLONE_NEWNET) != 0) return errno;
  return 0;
}

bool IsSettledWayBack(int r) { return r == 0 || r == EPERM; }

int CheckWayBackSync(Napi::Env env) { return CheckWayBackSync(Data(env)); }

int CheckWayBackSync(AddonData* d) {
  if (d->curNs != d->homeNs) return CheckWayBack(d->curNs);  // inside runSync: rare, not cached
  if (d->homeWayBack >= 0) return d->homeWayBack;
  int r = CheckWayBack(d->homeNs);
  if (IsSettledWayBack(r)) d->homeWayBack = r;  // a transient failure is asked again next time
  return r;
}

void LeaveOrDie(int home, const char* during) {
  bool injected = false;
  int expected = g_failSwitchBack.load();
  while (expected > 0 && !g_failSwitchBack.compare_exchange_weak(expected, expected - 1)) {
  }
  if (expected > 0) injected = true;
  if (setns(home, CLONE_NEWNET) != 0 || injected) {
    int err = injected ? EINVAL : errno;
    fprintf(stderr,
            "netns: FATAL: cannot switch thread %ld back to its own network namespace after %s "
            "(setns: %s%s). Aborting: a Node thread left in a foreign network namespace would make "
            "every later network operation silently wrong.\n",
            (long)syscall(SYS_gettid), during, strerror(err),
            injected ? ", injected by test hook" : "");
    fflush(stderr);
    abort();
  }
}

bool LeaveOrRetire(int home) {
  int expected = g_failSwitchBack.load();
  while (expected > 0 && !g_failSwitchBack.compare_exchange_weak(expected, expected - 1)) {
  }
  bool ok = setns(home, CLONE_NEWNET) == 0;
  return ok && expected <= 0;
}

// ---- confined open beneath /proc/sys/net (the open itself: sysctl_core.h) ----

// O_PATH fd of /proc/sys/net, verified to be procfs; -1 until one open succeeds. Only success
// is kept: a failure (EMFILE at the limit, ENOMEM...) is returned to that caller and the next
// call tries again, so one early error cannot break sysctl access for the rest of the process.
static std::atomic<int> g_rootFd{-1};

int NetRoot() {
  int fd = g_rootFd.load(std::memory_order_acquire);
  if (fd >= 0) return fd;
  bool atStatfs;
  fd = core::OpenNetRoot(&atStatfs);
  if (fd < 0) return fd;
  int expected = -1;
  if (!g_rootFd.compare_exchange_strong(expected, fd, std::memory_order_acq_rel)) {
    close(fd);  // another thread got there first: use its fd
    return expected;
  }
  return fd;
}

int OpenConfined(const char* rel, int flags) {
  int root = NetRoot();
  return root < 0 ? root : core::OpenBeneath(root, rel, flags);
}

// Test hook: the executor's spin after a batch, in µs (< 0: back to the default).
static Napi::Value TestExecutorSpin(const Napi::CallbackInfo& info) {
  double us = info[0].As<Napi::Number>().DoubleValue();
  g_spinOverrideNs.store(us < 0 ? -1 : (long)(us > 1000 ? 1000000 : us * 1000));
  return info.Env().Undefined();
}

// Test hook: open as on a kernel without openat2 (core::OpenByComponents), or probe again.
static Napi::Value TestForceOpenFallback(const Napi::CallbackInfo& info) {
  core::g_haveOpenat2.store(info[0].ToBoolean() ? 0 : -1);
  return info.Env().Undefined();
}

// Test hook: from now on openat2 fails with ENOSYS, as before Linux 5.6, in every thread of this
// process and in every child it makes (clone children, the rootless helper after its exec:
// a seccomp filter is inherited and cannot be removed; for a throwaway test process only).
// The addon then probes for openat2 again, and each backend falls back on its own.
static Napi::Value TestDenyOpenat2(const Napi::CallbackInfo& info) {
#if defined(__x86_64__)
  const uint32_t arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
  const uint32_t arch = AUDIT_ARCH_AARCH64;
#else
  const uint32_t arch = 0;
  ThrowErrno(info.Env(), ENOSYS, "seccomp");
#endif
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {(unsigned short)(sizeof f / sizeof f[0]), f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ThrowErrno(info.Env(), errno, "prctl");
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0)
    ThrowErrno(info.Env(), errno, "seccomp");
  core::g_haveOpenat2.store(-1);
  return info.Env().Undefined();
}

int ReadSmall(int fd, std::string& out) {
  // The kernel zeroes a buffer of the requested size on every sysctl read: ask for 4 KiB,
  // and only grow for the rare longer value.
  char buf[4096];
  out.clear();
  off_t off = 0;
  for (;;) {
    ssize_t n = pread(fd, buf, sizeof buf, off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    out.append(buf, (size_t)n);
    if ((size_t)n < sizeof buf) return 0;
    off += n;
    if (out.size() > (1u << 20)) return EFBIG;
  }
}

static void Cleanup(Napi::Env, AddonData* d) {
  for (const auto& [fd, id] : d->owned) {
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_dev == id.first && st.st_ino == id.second) close(fd);
  }
  // Their sockets are closed now: rootless helpers exit on EOF. Reap them (SIGKILL after 1 s).
  for (const auto& [pid, pidfd] : d->helpers) {
    struct pollfd p {
      pidfd, POLLIN, 0
    };
    int r;
    do {
      r = poll(&p, 1, 1000);
    } while (r < 0 && errno == EINTR);
    if (r == 0) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    siginfo_t si;
    WaitChild(pid, pidfd, &si);
    close(pidfd);
  }
  if (d->curOwned && d->curNs >= 0) close(d->curNs);
  if (d->homeNs >= 0) close(d->homeNs);
  delete d;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* d = new AddonData();
  d->homeNs = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (d->homeNs < 0) {
    int err = errno;
    delete d;
    ThrowErrno(env, err, "open", "/proc/thread-self/ns/net");
  }
  d->curNs = d->homeNs;
  env.SetInstanceData<AddonData, Cleanup>(d);
  InitNs(env, exports);
  InitBytes(env, exports);
  exports.Get("testing").As<Napi::Object>().Set(
      "forceOpenFallback", Napi::Function::New(env, TestForceOpenFallback, "forceOpenFallback"));
  exports.Get("testing").As<Napi::Object>().Set(
      "executorSpin", Napi::Function::New(env, TestExecutorSpin, "executorSpin"));
  exports.Get("testing").As<Napi::Object>().Set(
      "denyOpenat2", Napi::Function::New(env, TestDenyOpenat2, "denyOpenat2"));
  InitSysctl(env, exports);
  InitClone(env, exports);
  InitRootless(env, exports);
  return exports;
}

}  // namespace netns

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return netns::Init(env, exports);
}
NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitModule)
