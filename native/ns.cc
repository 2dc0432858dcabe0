// Namespace primitives: raw setns/unshare, pidfds, identity, creation on an addon-owned
// thread, mounts for named namespaces, and runIn (a JS callback inside a namespace).
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "netns.h"
#include "syscompat.h"
#include "threads.h"

namespace netns {

static int ArgInt(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Number>().Int32Value();
}
static std::string ArgStr(const Napi::CallbackInfo& info, size_t i) { return BytesOf(info[i]); }

// Re-read which namespace the JS thread is in after a raw setns/unshare moved it.
static void RefreshCurrent(Napi::Env env) {
  AddonData* d = Data(env);
  int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (fd < 0) ThrowErrno(env, errno, "open", "/proc/thread-self/ns/net");
  if (d->curOwned) close(d->curNs);
  d->curNs = fd;
  d->curOwned = true;
}

// setns(fd, nstype) on the calling JS thread. Raw: the thread stays where it lands.
static Napi::Value Setns(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0), type = ArgInt(info, 1);
  if (setns(fd, type) != 0) ThrowErrno(info.Env(), errno, "setns");
  if (type == 0 || type == CLONE_NEWNET) RefreshCurrent(info.Env());
  return info.Env().Undefined();
}

// unshare(flags) on the calling JS thread. Raw.
static Napi::Value Unshare(const Napi::CallbackInfo& info) {
  int flags = ArgInt(info, 0);
  if (unshare(flags) != 0) ThrowErrno(info.Env(), errno, "unshare");
  if (flags & CLONE_NEWNET) RefreshCurrent(info.Env());
  return info.Env().Undefined();
}

static Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  int pid = ArgInt(info, 0);
  // pidfds are always close-on-exec.
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) ThrowErrno(info.Env(), errno, "pidfd_open");
  return Napi::Number::New(info.Env(), Own(info.Env(), fd));
}

// The net namespace of the process behind a pidfd (Linux >= 6.11). Throws ENOTTY/EINVAL
// on older kernels; TypeScript then falls back to /proc/PID/ns/net plus a liveness re-check.
static Napi::Value PidfdGetNetns(const Napi::CallbackInfo& info) {
  int pidfd = ArgInt(info, 0);
  int fd = ioctl(pidfd, PIDFD_GET_NET_NAMESPACE, 0);
  if (fd < 0) ThrowErrno(info.Env(), errno, "ioctl(PIDFD_GET_NET_NAMESPACE)");
  // The kernel opens it O_CLOEXEC already; make sure.
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  return Napi::Number::New(info.Env(), Own(info.Env(), fd));
}

// pidfd_send_signal(pidfd, sig): with sig 0, a race-free "is it still alive?".
static Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info) {
  int pidfd = ArgInt(info, 0), sig = ArgInt(info, 1);
  if (syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) != 0)
    ThrowErrno(info.Env(), errno, "pidfd_send_signal");
  return info.Env().Undefined();
}

// open(path, O_RDONLY|O_CLOEXEC [|O_DIRECTORY]) -> fd.
static Napi::Value Open(const Napi::CallbackInfo& info) {
  std::string path = ArgStr(info, 0);
  int extra = info.Length() > 1 ? ArgInt(info, 1) : 0;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | extra);
  if (fd < 0) ThrowErrno(info.Env(), errno, "open", path);
  return Napi::Number::New(info.Env(), Own(info.Env(), fd));
}

// openat(dirfd, name, O_RDONLY|O_CLOEXEC) -> fd. Used with a /proc/PID directory fd, which
// keeps referring to that one process: after it exits, lookups fail with ESRCH/ENOENT even
// if the pid number is reused.
static Napi::Value Openat(const Napi::CallbackInfo& info) {
  int dirfd = ArgInt(info, 0);
  std::string name = ArgStr(info, 1);
  int fd = openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) ThrowErrno(info.Env(), errno, "openat", name);
  return Napi::Number::New(info.Env(), Own(info.Env(), fd));
}

static Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0);
  Disown(info.Env(), fd);
  if (close(fd) != 0 && errno != EINTR) ThrowErrno(info.Env(), errno, "close");
  return info.Env().Undefined();
}

// fcntl(F_DUPFD_CLOEXEC): a private copy of a caller's fd.
static Napi::Value Dup(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0);
  int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (nfd < 0) ThrowErrno(info.Env(), errno, "fcntl(F_DUPFD_CLOEXEC)");
  return Napi::Number::New(info.Env(), Own(info.Env(), nfd));
}

// NS_GET_NSTYPE where the ioctl itself is missing: the kernel never answers it with ENOSYS
// (a file that is not a namespace gets ENOTTY), but qemu-user does for every ioctl it does not
// know, NS_GET_NSTYPE among them (qemu 7.2), which is how the arm64 binaries are tested. The
// type is then read from the fd's /proc link ("net:[INO]"), for a namespace file (nsfs) only,
// and an O_PATH fd fails with EBADF as the ioctl does. Returns the type or -errno.
static int NsTypeFromLink(int fd, long fsType) {
  if ((unsigned long)fsType != (unsigned long)NSFS_MAGIC) return -ENOTTY;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return -errno;
  if (fl & O_PATH) return -EBADF;
  char path[64], link[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, link, sizeof link - 1);
  if (n < 0) return -errno;
  link[n] = '\0';
  static const struct {
    const char* name;
    int type;
  } kinds[] = {
      {"net:[", CLONE_NEWNET},       {"mnt:[", CLONE_NEWNS},    {"uts:[", CLONE_NEWUTS},
      {"ipc:[", CLONE_NEWIPC},       {"user:[", CLONE_NEWUSER}, {"pid:[", CLONE_NEWPID},
      {"cgroup:[", CLONE_NEWCGROUP}, {"time:[", CLONE_NEWTIME},
  };
  for (const auto& k : kinds)
    if (strncmp(link, k.name, strlen(k.name)) == 0) return k.type;
  return -ENOTTY;
}

// Test hook: answer NS_GET_NSTYPE with ENOSYS, as qemu-user does (the fallback above).
static std::atomic<bool> g_noNsTypeIoctl{false};
static Napi::Value TestForceNsTypeFallback(const Napi::CallbackInfo& info) {
  g_noNsTypeIoctl.store(info[0].ToBoolean());
  return info.Env().Undefined();
}

// Identity and kind of an fd: { dev, ino, fsType, nsType } where nsType is the CLONE_NEW*
// value from NS_GET_NSTYPE, or -errno when the fd is not a namespace.
static Napi::Value NsInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0);
  struct stat st;
  if (fstat(fd, &st) != 0) ThrowErrno(env, errno, "fstat");
  struct statfs sfs;
  if (fstatfs(fd, &sfs) != 0) ThrowErrno(env, errno, "fstatfs");
  int type = g_noNsTypeIoctl.load() ? (errno = ENOSYS, -1) : ioctl(fd, NS_GET_NSTYPE);
  int typeErr = type < 0 ? errno : 0;
  if (type < 0 && typeErr == ENOSYS) {
    type = NsTypeFromLink(fd, (long)sfs.f_type);
    typeErr = type < 0 ? -type : 0;
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("dev", Napi::Number::New(env, (double)st.st_dev));
  o.Set("ino", Napi::Number::New(env, (double)st.st_ino));
  o.Set("mode", Napi::Number::New(env, st.st_mode));
  o.Set("fsType", Napi::Number::New(env, (double)sfs.f_type));
  o.Set("nsType", Napi::Number::New(env, type < 0 ? -typeErr : type));
  return o;
}

// A new network namespace, made on a fresh thread the addon owns so that no Node thread ever
// moves: the thread unshares, opens its own ns/net, hands the fd back and ends, taking its
// namespace membership with it.
static Napi::Value CreateNetns(const Napi::CallbackInfo& info) {
  int fd = -1, err = 0;
  const char* failed = "unshare";
  int started = RunOnFreshThread("netns-create", [&] {
    if (unshare(CLONE_NEWNET) != 0) {
      err = errno;
      return;
    }
    fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      err = errno;
      failed = "open";
    }
  });
  if (started) ThrowErrno(info.Env(), started, "pthread_create");
  if (fd < 0)
    ThrowErrno(info.Env(), err, failed, failed[0] == 'o' ? "/proc/thread-self/ns/net" : "");
  return Napi::Number::New(info.Env(), Own(info.Env(), fd));
}

// mount(2), for named namespaces: source, target, fstype|null, flags, data|null.
static Napi::Value Mount(const Napi::CallbackInfo& info) {
  std::string src = info[0].IsString() ? ArgStr(info, 0) : "";
  std::string target = ArgStr(info, 1);
  std::string fstype = info[2].IsString() ? ArgStr(info, 2) : "";
  unsigned long flags = (unsigned long)info[3].As<Napi::Number>().Int64Value();
  if (mount(info[0].IsString() ? src.c_str() : nullptr, target.c_str(),
            info[2].IsString() ? fstype.c_str() : nullptr, flags, nullptr) != 0)
    ThrowErrno(info.Env(), errno, "mount", target);
  return info.Env().Undefined();
}

static Napi::Value Umount2(const Napi::CallbackInfo& info) {
  std::string target = ArgStr(info, 0);
  int flags = ArgInt(info, 1);
  if (umount2(target.c_str(), flags) != 0) ThrowErrno(info.Env(), errno, "umount2", target);
  return info.Env().Undefined();
}

// runIn(fd, fn): call fn with the JS thread inside namespace fd, and switch back before
// returning, whether fn returns or throws (InsideJs). Nested calls return to the enclosing
// namespace.
static Napi::Value RunIn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* d = Data(env);
  int fd = ArgInt(info, 0);
  Napi::Function fn = info[1].As<Napi::Function>();
  // A private dup: the namespace the JS thread is in (curNs) while fn runs, whatever fn closes.
  int mine = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (mine < 0) ThrowErrno(env, errno, "fcntl(F_DUPFD_CLOEXEC)");
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{mine};
  Napi::Value result;
  InsideJs(env, mine, "runSync", [&] {
    int saved = d->curNs;
    bool savedOwned = d->curOwned;
    d->curNs = mine;
    d->curOwned = false;
    auto restore = [&] {
      // A raw setns/unshare inside fn replaced curNs with an fd of its own: release it.
      if (d->curOwned && d->curNs != mine && d->curNs != saved) close(d->curNs);
      d->curNs = saved;
      d->curOwned = savedOwned;
    };
    try {
      result = fn.Call({});
    } catch (...) {
      restore();
      throw;
    }
    restore();
  });
  return result;
}

// wayBack(): 0 when the JS thread could switch back to its namespace after entering another
// (CAP_SYS_ADMIN over the user namespace that owns it), else the errno setns would give.
// Root of a user namespace of its own (rootless containers) can enter namespaces it makes but
// not come back: create() then picks a rootless namespace.
static Napi::Value WayBack(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), CheckWayBackSync(info.Env()));
}

// callerNs(): where a Promise form called now without a target runs (Executor::Submit): -1
// for the addon's home namespace, else an owned dup of the namespace the JS thread is in
// (inside runSync). Lets a job submitted later still run where it was called.
static Napi::Value CallerNs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* d = Data(env);
  if (d->curNs == d->homeNs) return Napi::Number::New(env, -1);
  int fd = fcntl(d->curNs, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) ThrowErrno(env, errno, "fcntl(F_DUPFD_CLOEXEC)");
  return Napi::Number::New(env, Own(env, fd));
}

// Test hook: the next n switch-backs report failure (the real switch is still attempted).
static Napi::Value TestFailSwitchBack(const Napi::CallbackInfo& info) {
  g_failSwitchBack.store(ArgInt(info, 0));
  return info.Env().Undefined();
}

void InitNs(Napi::Env env, Napi::Object exports) {
  exports.Set("setns", Napi::Function::New(env, Setns, "setns"));
  exports.Set("unshare", Napi::Function::New(env, Unshare, "unshare"));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen, "pidfdOpen"));
  exports.Set("pidfdGetNetns", Napi::Function::New(env, PidfdGetNetns, "pidfdGetNetns"));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal, "pidfdSendSignal"));
  exports.Set("open", Napi::Function::New(env, Open, "open"));
  exports.Set("openat", Napi::Function::New(env, Openat, "openat"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("dup", Napi::Function::New(env, Dup, "dup"));
  exports.Set("nsInfo", Napi::Function::New(env, NsInfo, "nsInfo"));
  exports.Set("createNetns", Napi::Function::New(env, CreateNetns, "createNetns"));
  exports.Set("mount", Napi::Function::New(env, Mount, "mount"));
  exports.Set("umount2", Napi::Function::New(env, Umount2, "umount2"));
  exports.Set("runIn", Napi::Function::New(env, RunIn, "runIn"));
  exports.Set("wayBack", Napi::Function::New(env, WayBack, "wayBack"));
  exports.Set("callerNs", Napi::Function::New(env, CallerNs, "callerNs"));
  // Test-only hooks, apart from the production functions (typed in lib/native/testing.ts).
  Napi::Object testing = Napi::Object::New(env);
  testing.Set("failSwitchBack", Napi::Function::New(env, TestFailSwitchBack, "failSwitchBack"));
  testing.Set("forceNsTypeFallback",
              Napi::Function::New(env, TestForceNsTypeFallback, "forceNsTypeFallback"));
  exports.Set("testing", testing);

  Napi::Object c = Napi::Object::New(env);
  c.Set("CLONE_NEWNS", CLONE_NEWNS);
  c.Set("CLONE_NEWCGROUP", CLONE_NEWCGROUP);
  c.Set("CLONE_NEWUTS", CLONE_NEWUTS);
  c.Set("CLONE_NEWIPC", CLONE_NEWIPC);
  c.Set("CLONE_NEWUSER", CLONE_NEWUSER);
  c.Set("CLONE_NEWPID", CLONE_NEWPID);
  c.Set("CLONE_NEWNET", CLONE_NEWNET);
#ifdef CLONE_NEWTIME
  c.Set("CLONE_NEWTIME", CLONE_NEWTIME);
#else
  c.Set("CLONE_NEWTIME", 0x80);
#endif
  c.Set("MS_BIND", (double)MS_BIND);
  c.Set("MS_REC", (double)MS_REC);
  c.Set("MS_SHARED", (double)MS_SHARED);
  c.Set("MNT_DETACH", (int)MNT_DETACH);
  c.Set("NSFS_MAGIC", (double)NSFS_MAGIC);
  c.Set("PROC_SUPER_MAGIC", (double)PROC_SUPER_MAGIC);
  c.Set("O_DIRECTORY", O_DIRECTORY);
  exports.Set("constants", c);
}

}  // namespace netns
