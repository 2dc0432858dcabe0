// Rootless mode: a helper process that owns a user namespace and, in it, a network namespace.
//
// Node is multithreaded, so it cannot enter a new user namespace itself. Instead we clone(2) a
// helper with CLONE_NEWUSER | CLONE_NEWNET. The parent maps its own uid/gid to 0 inside
// (setgroups "deny" first), then the helper serves requests over a SOCK_SEQPACKET socketpair:
//   OPEN   open sysctl files beneath its /proc/sys/net and pass the fds back (SCM_RIGHTS);
//   WALK   list /proc/sys/net (names, modes, optionally values), in chunks;
//   IDS    pass back fds on its net and user namespaces;
//   SPAWN  start a command inside: stdio fds come with the request, the command is made with
//          clone3(CLONE_PARENT | CLONE_PIDFD) so it is a child of Node (which reaps it) and
//          its pidfd goes back to the parent;
//   EXIT   (or EOF on the socket) end the helper.
//
// THE HELPER IS A FORKED COPY OF A MULTITHREADED PROCESS. Locks held by other Node threads at
// clone time stay locked forever in the copy, so for its whole life the helper uses only raw,
// async-signal-safe system calls and plain memory: no malloc, no C++ allocation, no stdio, no
// glibc fork() (its atfork handlers take malloc locks). Everything it needs is static storage
// (private to the helper after the clone; the parent never touches it) or on its own stack.
#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "netns.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef RESOLVE_NO_XDEV
#define RESOLVE_NO_XDEV 0x01
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#endif

namespace netns {

namespace {

// ---- wire protocol (both sides are this file, in the same build) ----

enum Op : uint32_t { kOpGo = 1, kOpOpen = 2, kOpWalk = 3, kOpIds = 4, kOpSpawn = 5, kOpExit = 6 };

// Which step failed, so the parent can name the syscall.
enum Step : uint32_t {
  kStepNone = 0,
  kStepOpen,
  kStepRead,
  kStepFstatfs,
  kStepClone,
  kStepPipe,
  kStepChdir,
  kStepExecve,
  kStepGetdents,
  kStepFstatat,
  kStepSend,
  kStepRecv,
  kStepProto,
  kStepSetsid,
  kStepCount
};
const char* const kStepNames[kStepCount] = {"",        "open",   "read",       "fstatfs",  "clone3",
                                            "pipe2",   "chdir",  "execve",     "getdents64", "fstatat",
                                            "sendmsg", "recvmsg", "rootless-protocol", "setsid"};

struct ReqHdr {
  uint32_t op;
  uint32_t n;      // OPEN: entries; WALK: flags; SPAWN: argc
  uint32_t a;      // SPAWN: envc
  uint32_t b;      // SPAWN: flags (kSpawnCwd, kSpawnSetsid)
};
struct RespHdr {
  int32_t err;     // errno of a failure of the whole request, 0 otherwise
  uint32_t step;   // Step of that failure
  uint32_t n;      // entries in this message
  uint32_t last;   // WALK: 1 on the final chunk
};
struct ReadyBody {
  uint64_t capEff;
};
struct OpenRes {
  int32_t err;       // errno when nothing could be opened
  int32_t denyErr;   // errno of the stronger access that was refused (granted < requested)
  uint8_t hasFd;
  uint8_t granted;   // 0 read-only, 1 read-write, 2 write-only
  uint8_t pad[2];
};
struct WalkEnt {
  uint32_t relLen;
  uint32_t mode;
  int32_t err;
  uint32_t step;
  uint32_t valLen;  // kNoValue when not read / failed
};
constexpr uint32_t kNoValue = 0xFFFFFFFFu;
struct SpawnBody {
  int32_t pid;
};
enum { kSpawnCwd = 1, kSpawnSetsid = 2 };

constexpr size_t kInCap = 256 * 1024;   // largest request (SPAWN argv + env)
constexpr size_t kOutCap = 60 * 1024;   // largest reply chunk (fits any SEQPACKET send buffer)
constexpr int kMaxFdsPerMsg = 200;      // below SCM_MAX_FD (253)
constexpr size_t kMaxPtrs = 16384;      // argv + envp entries for SPAWN
constexpr size_t kHelperStack = 512 * 1024;

// ============================================================================================
// Helper side. Everything below until "Parent side" runs in the helper (or its command child)
// and obeys the async-signal-safe rule above.
// ============================================================================================

alignas(16) char g_in[kInCap];
alignas(16) char g_out[kOutCap];
char* g_ptrs[kMaxPtrs];
int g_rootFd = -1;  // /proc/sys/net in the helper's namespace

struct HelperArgs {
  pid_t parent;   // the parent's pid before clone
  int sock;       // the helper's end of the socketpair
};

void SafeClose(int fd) {
  if (fd >= 0) close(fd);
}

// sendmsg with optional fds; returns 0 or errno.
int SendMsg(int sock, const void* buf, size_t len, const int* fds, int nfds) {
  struct iovec iov;
  iov.iov_base = const_cast<void*>(buf);
  iov.iov_len = len;
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * kMaxFdsPerMsg)];
  if (nfds > 0) {
    mh.msg_control = cbuf;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  for (;;) {
    ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
    if (n >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

// recvmsg with fds (received close-on-exec). Returns bytes (0 = EOF) or -errno.
ssize_t RecvMsg(int sock, void* buf, size_t cap, int* fds, int maxFds, int* nfds) {
  struct iovec iov;
  iov.iov_base = buf;
  iov.iov_len = cap;
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * kMaxFdsPerMsg)];
  mh.msg_control = cbuf;
  mh.msg_controllen = sizeof cbuf;
  ssize_t n;
  for (;;) {
    n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    if (n >= 0) break;
    if (errno != EINTR) return -errno;
  }
  *nfds = 0;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int cnt = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    int* p = (int*)CMSG_DATA(c);
    for (int i = 0; i < cnt; i++) {
      if (*nfds < maxFds)
        fds[(*nfds)++] = p[i];
      else
        close(p[i]);  // more than the caller expected: never leak
    }
  }
  if (mh.msg_flags & MSG_TRUNC) return -EMSGSIZE;
  return n;
}

struct OpenHowCompat {
  uint64_t flags, mode, resolve;
};

// Open `rel` beneath `root` without following any symlink: openat2, or a component walk.
int HelperOpenBeneath(int root, const char* rel, int flags) {
  OpenHowCompat how;
  memset(&how, 0, sizeof how);
  how.flags = (uint64_t)(flags | O_CLOEXEC | O_NOCTTY);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  int fd = (int)syscall(SYS_openat2, root, rel, &how, sizeof how);
  if (fd >= 0) return fd;
  if (errno != ENOSYS) return -errno;
  // Walk: copy one component at a time into a stack buffer.
  char comp[256];
  int dir = root;
  const char* p = rel;
  if (p[0] == '.' && p[1] == 0) return (int)fcntl(root, F_DUPFD_CLOEXEC, 3);
  for (;;) {
    const char* slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    if (len == 0 || len >= sizeof comp || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) {
      if (dir != root) close(dir);
      return -EINVAL;
    }
    memcpy(comp, p, len);
    comp[len] = 0;
    int f = slash ? openat(dir, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                  : openat(dir, comp, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    int err = errno;
    if (dir != root) close(dir);
    if (f < 0) return -err;
    if (!slash) return f;
    dir = f;
    p = slash + 1;
  }
}

void ReplyErr(int sock, int err, uint32_t step) {
  RespHdr h{err, step, 0, 1};
  SendMsg(sock, &h, sizeof h, nullptr, 0);
}

// OPEN: n × [u8 access][rel\0]. access 0 read-only, 1 read-write with fallbacks.
void HelperOpen(int sock, const char* body, size_t len, uint32_t n) {
  if (n > (uint32_t)kMaxFdsPerMsg) return ReplyErr(sock, E2BIG, kStepProto);
  RespHdr* h = (RespHdr*)g_out;
  OpenRes* res = (OpenRes*)(g_out + sizeof(RespHdr));
  int fds[kMaxFdsPerMsg];
  int nfds = 0;
  size_t off = 0;
  for (uint32_t i = 0; i < n; i++) {
    OpenRes& r = res[i];
    memset(&r, 0, sizeof r);
    if (off >= len) {
      r.err = EINVAL;
      continue;
    }
    uint8_t access = (uint8_t)body[off++];
    const char* rel = body + off;
    const char* end = (const char*)memchr(rel, 0, len - off);
    if (!end) {
      r.err = EINVAL;
      off = len;
      continue;
    }
    off += (size_t)(end - rel) + 1;
    int fd;
    if (access == 1) {
      fd = HelperOpenBeneath(g_rootFd, rel, O_RDWR);
      r.granted = 1;
      if (fd == -EACCES || fd == -EPERM || fd == -EROFS) {
        int rwErr = -fd;
        int rfd = HelperOpenBeneath(g_rootFd, rel, O_RDONLY);
        if (rfd >= 0) {
          fd = rfd;
          r.granted = 0;
          r.denyErr = rwErr;
        } else {
          int roErr = -rfd;
          rfd = HelperOpenBeneath(g_rootFd, rel, O_WRONLY);
          if (rfd >= 0) {
            fd = rfd;
            r.granted = 2;
            r.denyErr = roErr;
          }
        }
      }
    } else {
      fd = HelperOpenBeneath(g_rootFd, rel, O_RDONLY);
      r.granted = 0;
    }
    if (fd < 0) {
      r.err = -fd;
      continue;
    }
    r.hasFd = 1;
    fds[nfds++] = fd;
  }
  h->err = 0;
  h->step = 0;
  h->n = n;
  h->last = 1;
  SendMsg(sock, g_out, sizeof(RespHdr) + n * sizeof(OpenRes), fds, nfds);
  for (int i = 0; i < nfds; i++) close(fds[i]);
}

// ---- WALK ----

struct WalkState {
  int sock;
  int flags;   // 1 read values, 2 modes
  size_t used; // bytes in g_out (after the header)
  uint32_t count;
  int sendErr;
};

bool WalkFlush(WalkState& w, bool last, int err, uint32_t step) {
  RespHdr* h = (RespHdr*)g_out;
  h->err = err;
  h->step = step;
  h->n = w.count;
  h->last = last ? 1 : 0;
  int e = SendMsg(w.sock, g_out, sizeof(RespHdr) + w.used, nullptr, 0);
  w.used = 0;
  w.count = 0;
  if (e) w.sendErr = e;
  return e == 0;
}

struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

// Read a sysctl file into dst (cap bytes) with small reads. Returns bytes or -errno.
ssize_t ReadInto(int fd, char* dst, size_t cap) {
  size_t got = 0;
  for (;;) {
    size_t want = cap - got < 4096 ? cap - got : 4096;
    if (want == 0) return -EFBIG;
    ssize_t n = pread(fd, dst + got, want, (off_t)got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    got += (size_t)n;
    if ((size_t)n < want || n == 0) return (ssize_t)got;
  }
}

void WalkDir(WalkState& w, int dfd, char* rel, size_t relLen, int depth) {
  alignas(8) char dbuf[4096];
  for (;;) {
    long nread = syscall(SYS_getdents64, dfd, dbuf, sizeof dbuf);
    if (nread <= 0) break;
    for (long pos = 0; pos < nread;) {
      LinuxDirent64* d = (LinuxDirent64*)(dbuf + pos);
      pos += d->d_reclen;
      const char* name = d->d_name;
      if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
      size_t nl = strlen(name);
      if (relLen + 1 + nl >= 4096) continue;
      size_t newLen = relLen;
      if (relLen) rel[newLen++] = '/';
      memcpy(rel + newLen, name, nl);
      newLen += nl;
      rel[newLen] = 0;
      unsigned char type = d->d_type;
      uint32_t mode = 0;
      if (type == DT_UNKNOWN || (w.flags & 2)) {
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        mode = st.st_mode & 07777;
        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
      }
      if (type == DT_DIR) {
        if (depth < 16) {
          int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub >= 0) {
            WalkDir(w, sub, rel, newLen, depth + 1);
            close(sub);
          }
        }
        rel[relLen] = 0;
        continue;
      }
      if (type != DT_REG) {
        rel[relLen] = 0;
        continue;
      }
      // Room for the entry header + name + a value of at least 4 KiB, else flush first.
      size_t need = sizeof(WalkEnt) + newLen + ((w.flags & 1) ? 4096 : 0);
      if (sizeof(RespHdr) + w.used + need > kOutCap && w.count > 0) {
        if (!WalkFlush(w, false, 0, 0)) return;
      }
      char* p = g_out + sizeof(RespHdr) + w.used;
      WalkEnt* e = (WalkEnt*)p;
      e->relLen = (uint32_t)newLen;
      e->mode = mode;
      e->err = 0;
      e->step = 0;
      e->valLen = kNoValue;
      memcpy(p + sizeof(WalkEnt), rel, newLen);
      size_t entLen = sizeof(WalkEnt) + newLen;
      if (w.flags & 1) {
        int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
          e->err = errno;
          e->step = kStepOpen;
        } else {
          size_t room = kOutCap - sizeof(RespHdr) - w.used - entLen;
          ssize_t n = ReadInto(fd, p + entLen, room);
          close(fd);
          if (n < 0) {
            e->err = (int32_t)-n;
            e->step = kStepRead;
          } else {
            e->valLen = (uint32_t)n;
            entLen += (size_t)n;
          }
        }
      }
      entLen = (entLen + 3) & ~(size_t)3;  // keep headers aligned
      w.used += entLen;
      w.count++;
      rel[relLen] = 0;
    }
  }
}

void HelperWalk(int sock, const char* body, size_t len, uint32_t flags) {
  static char rel[4096];
  const char* end = (const char*)memchr(body, 0, len);
  if (!end || (size_t)(end - body) >= sizeof rel) return ReplyErr(sock, EINVAL, kStepProto);
  size_t plen = (size_t)(end - body);
  memcpy(rel, body, plen + 1);
  WalkState w{sock, (int)flags, 0, 0, 0};
  int fd = HelperOpenBeneath(g_rootFd, plen ? rel : ".", O_RDONLY | O_DIRECTORY);
  if (fd < 0) {
    WalkFlush(w, true, -fd, kStepOpen);
    return;
  }
  WalkDir(w, fd, rel, plen, 0);
  close(fd);
  if (!w.sendErr) WalkFlush(w, true, 0, 0);
}

void HelperIds(int sock) {
  int fds[2];
  fds[0] = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (fds[0] < 0) return ReplyErr(sock, errno, kStepOpen);
  fds[1] = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
  if (fds[1] < 0) {
    int e = errno;
    close(fds[0]);
    return ReplyErr(sock, e, kStepOpen);
  }
  RespHdr h{0, 0, 2, 1};
  SendMsg(sock, &h, sizeof h, fds, 2);
  close(fds[0]);
  close(fds[1]);
}

void ResetSignals() {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < _NSIG; s++) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    sigaction(s, &sa, nullptr);  // fails harmlessly for the reserved real-time signals
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

long Clone3(uint64_t flags, int* pidfd) {
  struct clone_args ca;
  memset(&ca, 0, sizeof ca);
  ca.flags = flags;
  ca.pidfd = (uint64_t)(uintptr_t)pidfd;
  // clone3 wants exit_signal 0 with CLONE_PARENT: the child then inherits ours (SIGCHLD).
  ca.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
  long r = syscall(SYS_clone3, &ca, sizeof ca);
  if (r >= 0 || errno != ENOSYS) return r;
#if defined(__x86_64__) || defined(__aarch64__) || defined(__i386__) || defined(__arm__)
  // clone(flags, stack, parent_tid, ...): with CLONE_PIDFD the pidfd lands in parent_tid.
  return syscall(SYS_clone, (unsigned long)(flags | SIGCHLD), 0UL, pidfd, 0UL, 0UL);
#else
  return r;
#endif
}

// SPAWN: strings path, argv[argc], envp[envc], [cwd]; 3 stdio fds attached.
void HelperSpawn(int sock, const char* body, size_t len, const ReqHdr& rq, int* fds, int nfds) {
  auto done = [&](int err, uint32_t step, int pid, int pidfd) {
    struct {
      RespHdr h;
      SpawnBody b;
    } r;
    r.h = RespHdr{err, step, 0, 1};
    r.b.pid = pid;
    SendMsg(sock, &r, sizeof r, pidfd >= 0 ? &pidfd : nullptr, pidfd >= 0 ? 1 : 0);
    SafeClose(pidfd);
    for (int i = 0; i < nfds; i++) close(fds[i]);
  };
  uint32_t argc = rq.n, envc = rq.a, flags = rq.b;
  size_t nstr = 1 + argc + envc + ((flags & kSpawnCwd) ? 1 : 0);
  if (nfds != 3 || argc + envc + 2 > kMaxPtrs) return done(EINVAL, kStepProto, 0, -1);
  // Point at each NUL-terminated string in place.
  size_t off = 0;
  char** argv = g_ptrs;
  char** envp = g_ptrs + argc + 1;
  const char* path = nullptr;
  const char* cwd = nullptr;
  for (size_t i = 0; i < nstr; i++) {
    if (off >= len) return done(EINVAL, kStepProto, 0, -1);
    const char* s = body + off;
    const char* end = (const char*)memchr(s, 0, len - off);
    if (!end) return done(EINVAL, kStepProto, 0, -1);
    off += (size_t)(end - s) + 1;
    if (i == 0)
      path = s;
    else if (i <= argc)
      argv[i - 1] = const_cast<char*>(s);
    else if (i <= argc + envc)
      envp[i - 1 - argc] = const_cast<char*>(s);
    else
      cwd = s;
  }
  argv[argc] = nullptr;
  envp[envc] = nullptr;

  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) != 0) return done(errno, kStepPipe, 0, -1);
  int pidfd = -1;
  long pid = Clone3(CLONE_PARENT | CLONE_PIDFD, &pidfd);
  if (pid < 0) {
    int e = errno;
    close(pfd[0]);
    close(pfd[1]);
    return done(e, kStepClone, 0, -1);
  }
  if (pid == 0) {
    // The command child: set up and exec, or report {errno, step} through the pipe.
    close(pfd[0]);
    int32_t report[2] = {0, 0};
    ResetSignals();
    if (flags & kSpawnSetsid) {
      if (setsid() < 0) {
        report[0] = errno;
        report[1] = kStepSetsid;
        goto fail;
      }
    }
    // Received fds are >= 3 (0-2 are taken in the helper), so dup2 never clobbers a source.
    for (int i = 0; i < 3; i++) {
      if (dup2(fds[i], i) < 0) {
        report[0] = errno;
        report[1] = kStepOpen;
        goto fail;
      }
    }
    if (cwd && chdir(cwd) != 0) {
      report[0] = errno;
      report[1] = kStepChdir;
      goto fail;
    }
    execve(path, argv, envp);
    report[0] = errno;
    report[1] = kStepExecve;
  fail:
    (void)!write(pfd[1], report, sizeof report);
    _exit(127);
  }
  close(pfd[1]);
  int32_t report[2] = {0, 0};
  ssize_t n;
  do {
    n = read(pfd[0], report, sizeof report);
  } while (n < 0 && errno == EINTR);
  close(pfd[0]);
  if (n == (ssize_t)sizeof report) return done(report[0], (uint32_t)report[1], (int)pid, pidfd);
  done(0, 0, (int)pid, pidfd);  // EOF: execve succeeded (the pipe was close-on-exec)
}

// Move the socket to fd 3, point 0-2 at /dev/null and close everything else the clone copied
// from Node (listening sockets, epoll, other namespace fds...). Returns the socket fd.
int HelperFds(int sock) {
  int s = fcntl(sock, F_DUPFD_CLOEXEC, 10);
  if (s < 0) return -1;
  int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int i = 0; i < 3; i++) {
    if (nul >= 0)
      dup2(nul, i);
    else
      close(i);
  }
  if (dup3(s, 3, O_CLOEXEC) < 0) return -1;
  if (syscall(SYS_close_range, 4u, ~0u, 0u) != 0) {
    // No close_range (< 5.9): list /proc/self/fd with getdents64 and close what is there.
    int d = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d >= 0) {
      alignas(8) char dbuf[4096];
      long nread;
      while ((nread = syscall(SYS_getdents64, d, dbuf, sizeof dbuf)) > 0) {
        for (long pos = 0; pos < nread;) {
          LinuxDirent64* e = (LinuxDirent64*)(dbuf + pos);
          pos += e->d_reclen;
          int fd = 0;
          const char* c = e->d_name;
          if (*c < '0' || *c > '9') continue;
          for (; *c >= '0' && *c <= '9'; c++) fd = fd * 10 + (*c - '0');
          if (fd > 3 && fd != d) close(fd);
        }
      }
      close(d);
    }
  }
  return 3;
}

int HelperMain(void* argp) {
  HelperArgs* a = (HelperArgs*)argp;
  // Die with the parent. The parent may already have died between clone and prctl: then we
  // have been re-parented and must not linger.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != a->parent) _exit(1);
  ResetSignals();
  // Terminal signals are for Node to handle; the helper lives until close() or Node's death.
  struct sigaction ign;
  memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  const int ignored[] = {SIGINT, SIGQUIT, SIGHUP, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE};
  for (int s : ignored) sigaction(s, &ign, nullptr);
  prctl(PR_SET_NAME, "netns-rootless");
  int sock = HelperFds(a->sock);
  if (sock < 0) _exit(2);

  // Wait for the parent to write our uid/gid maps.
  int fds[kMaxFdsPerMsg];
  int nfds = 0;
  ssize_t n = RecvMsg(sock, g_in, kInCap, fds, 3, &nfds);
  for (int i = 0; i < nfds; i++) close(fds[i]);
  if (n < (ssize_t)sizeof(ReqHdr) || ((ReqHdr*)g_in)->op != kOpGo) _exit(0);

  struct {
    RespHdr h;
    ReadyBody b;
  } ready;
  memset(&ready, 0, sizeof ready);
  ready.h.last = 1;
  g_rootFd = open("/proc/sys/net", O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (g_rootFd < 0) {
    ready.h.err = errno;
    ready.h.step = kStepOpen;
  } else {
    struct statfs sfs;
    if (fstatfs(g_rootFd, &sfs) != 0) {
      ready.h.err = errno;
      ready.h.step = kStepFstatfs;
    } else if (sfs.f_type != PROC_SUPER_MAGIC) {
      ready.h.err = EXDEV;
      ready.h.step = kStepFstatfs;
    }
  }
  struct __user_cap_header_struct ch;
  struct __user_cap_data_struct cd[2];
  memset(&ch, 0, sizeof ch);
  memset(cd, 0, sizeof cd);
  ch.version = _LINUX_CAPABILITY_VERSION_3;
  if (syscall(SYS_capget, &ch, cd) == 0)
    ready.b.capEff = (uint64_t)cd[0].effective | ((uint64_t)cd[1].effective << 32);
  if (SendMsg(sock, &ready, sizeof ready, nullptr, 0) != 0 || ready.h.err) _exit(0);

  for (;;) {
    n = RecvMsg(sock, g_in, kInCap, fds, kMaxFdsPerMsg, &nfds);
    if (n == -EMSGSIZE) {
      for (int i = 0; i < nfds; i++) close(fds[i]);
      ReplyErr(sock, E2BIG, kStepProto);
      continue;
    }
    if (n <= 0) _exit(0);  // EOF: the parent closed the handle (or died)
    if ((size_t)n < sizeof(ReqHdr)) {
      for (int i = 0; i < nfds; i++) close(fds[i]);
      ReplyErr(sock, EINVAL, kStepProto);
      continue;
    }
    ReqHdr rq;
    memcpy(&rq, g_in, sizeof rq);
    const char* body = g_in + sizeof(ReqHdr);
    size_t blen = (size_t)n - sizeof(ReqHdr);
    if (rq.op != kOpSpawn) {
      for (int i = 0; i < nfds; i++) close(fds[i]);
      nfds = 0;
    }
    switch (rq.op) {
      case kOpOpen:
        HelperOpen(sock, body, blen, rq.n);
        break;
      case kOpWalk:
        HelperWalk(sock, body, blen, rq.n);
        break;
      case kOpIds:
        HelperIds(sock);
        break;
      case kOpSpawn:
        HelperSpawn(sock, body, blen, rq, fds, nfds);
        break;
      case kOpExit:
        _exit(0);
      default:
        ReplyErr(sock, EINVAL, kStepProto);
    }
  }
}

// ============================================================================================
// Parent side (normal C++; runs on the JS thread).
// ============================================================================================

int ArgInt(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }

[[noreturn]] void ThrowStep(Napi::Env env, int err, uint32_t step, const std::string& path = "") {
  ThrowErrno(env, err, kStepNames[step < kStepCount ? step : kStepProto], path);
}

// Receive one reply, with fds. Throws on EOF (helper gone) or timeout.
size_t RecvReply(Napi::Env env, int sock, std::vector<char>& buf, std::vector<int>& fds, int maxFds) {
  buf.resize(kOutCap + 64);
  int got[kMaxFdsPerMsg];
  int nfds = 0;
  ssize_t n = RecvMsg(sock, buf.data(), buf.size(), got, maxFds, &nfds);
  fds.assign(got, got + nfds);
  if (n == 0 || n == -ECONNRESET)
    ThrowErrno(env, ESRCH, "recvmsg", "rootless helper (it has exited)");
  if (n == -EAGAIN) ThrowErrno(env, ETIMEDOUT, "recvmsg", "rootless helper (no reply)");
  if (n < 0) ThrowErrno(env, (int)-n, "recvmsg");
  if ((size_t)n < sizeof(RespHdr)) {
    for (int fd : fds) close(fd);
    ThrowErrno(env, EPROTO, "recvmsg", "rootless helper");
  }
  buf.resize((size_t)n);
  return (size_t)n;
}

void SendRequest(Napi::Env env, int sock, const std::string& msg, const int* fds, int nfds) {
  int e = SendMsg(sock, msg.data(), msg.size(), fds, nfds);
  if (e == EPIPE || e == ECONNRESET || e == ENOTCONN) ThrowErrno(env, ESRCH, "sendmsg", "rootless helper (it has exited)");
  if (e == EAGAIN) ThrowErrno(env, ETIMEDOUT, "sendmsg", "rootless helper (not reading)");
  if (e) ThrowErrno(env, e, "sendmsg");
}

std::string Header(uint32_t op, uint32_t n = 0, uint32_t a = 0, uint32_t b = 0) {
  ReqHdr h{op, n, a, b};
  return std::string((const char*)&h, sizeof h);
}

void KillAndReap(pid_t pid, int pidfd) {
  if (pidfd >= 0)
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
  else
    kill(pid, SIGKILL);
  while (waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
  }
}

int WriteFile(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t n = write(fd, text.data(), text.size());
  int e = n < 0 ? errno : (size_t)n != text.size() ? EIO : 0;
  close(fd);
  return e;
}

// rootlessStart(uid, gid, timeoutMs) -> { pid, pidfd, sock, capEff }
Napi::Value RootlessStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uid_t uid = (uid_t)info[0].As<Napi::Number>().Int64Value();
  gid_t gid = (gid_t)info[1].As<Napi::Number>().Int64Value();
  int timeoutMs = ArgInt(info, 2);

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) ThrowErrno(env, errno, "socketpair");
  struct timeval tv;
  tv.tv_sec = timeoutMs / 1000;
  tv.tv_usec = (timeoutMs % 1000) * 1000;
  setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

  void* stack = mmap(nullptr, kHelperStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    int e = errno;
    close(sv[0]);
    close(sv[1]);
    ThrowErrno(env, e, "mmap");
  }
  HelperArgs args{getpid(), sv[1]};
  int pidfd = -1;
  char* top = (char*)stack + kHelperStack;
  int flags = CLONE_NEWUSER | CLONE_NEWNET | SIGCHLD;
  pid_t pid = clone(HelperMain, top, flags | CLONE_PIDFD, &args, &pidfd);
  if (pid < 0 && errno == EINVAL) {
    pidfd = -1;
    pid = clone(HelperMain, top, flags, &args);  // kernel < 5.2: no CLONE_PIDFD
    if (pid > 0) pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  }
  int cloneErr = errno;
  munmap(stack, kHelperStack);  // the helper has its own copy
  close(sv[1]);
  if (pid < 0) {
    close(sv[0]);
    ThrowErrno(env, cloneErr, "clone");
  }
  auto fail = [&](int err, const char* sc, const std::string& path) {
    close(sv[0]);
    KillAndReap(pid, pidfd);
    SafeClose(pidfd);
    ThrowErrno(env, err, sc, path);
  };
  std::string base = "/proc/" + std::to_string(pid) + "/";
  int e = WriteFile(base + "setgroups", "deny");
  if (e && e != ENOENT) fail(e, "write", base + "setgroups");
  e = WriteFile(base + "uid_map", "0 " + std::to_string(uid) + " 1\n");
  if (e) fail(e, "write", base + "uid_map");
  e = WriteFile(base + "gid_map", "0 " + std::to_string(gid) + " 1\n");
  if (e) fail(e, "write", base + "gid_map");

  std::string go = Header(kOpGo);
  e = SendMsg(sv[0], go.data(), go.size(), nullptr, 0);
  if (e) fail(e == EPIPE ? ESRCH : e, "sendmsg", "rootless helper");
  char buf[sizeof(RespHdr) + sizeof(ReadyBody) + 16];
  int nf = 0, junk[4];
  ssize_t n = RecvMsg(sv[0], buf, sizeof buf, junk, 4, &nf);
  for (int i = 0; i < nf; i++) close(junk[i]);
  if (n == 0) fail(ESRCH, "recvmsg", "rootless helper (it exited during setup)");
  if (n == -EAGAIN) fail(ETIMEDOUT, "recvmsg", "rootless helper (no reply during setup)");
  if (n < 0) fail((int)-n, "recvmsg", "rootless helper");
  if ((size_t)n < sizeof(RespHdr) + sizeof(ReadyBody)) fail(EPROTO, "recvmsg", "rootless helper");
  RespHdr h;
  ReadyBody rb;
  memcpy(&h, buf, sizeof h);
  memcpy(&rb, buf + sizeof h, sizeof rb);
  if (h.err) fail(h.err, kStepNames[h.step < kStepCount ? h.step : kStepProto], "/proc/sys/net (in the rootless helper)");

  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, pid));
  o.Set("pidfd", Napi::Number::New(env, pidfd));
  o.Set("sock", Napi::Number::New(env, sv[0]));
  o.Set("capEff", Napi::BigInt::New(env, (uint64_t)rb.capEff));
  return o;
}

// rootlessOpen(sock, rels[], access[]) -> per key: [fd, granted, denyErrno] or an errno object.
Napi::Value RootlessOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sock = ArgInt(info, 0);
  Napi::Array rels = info[1].As<Napi::Array>();
  Napi::Array acc = info[2].As<Napi::Array>();
  uint32_t n = rels.Length();
  if (n > (uint32_t)kMaxFdsPerMsg) ThrowErrno(env, E2BIG, "rootless-open");
  std::string msg = Header(kOpOpen, n);
  std::vector<std::string> names(n);
  for (uint32_t i = 0; i < n; i++) {
    names[i] = rels.Get(i).As<Napi::String>().Utf8Value();
    msg.push_back((char)acc.Get(i).As<Napi::Number>().Int32Value());
    msg.append(names[i]);
    msg.push_back('\0');
  }
  if (msg.size() > kInCap) ThrowErrno(env, E2BIG, "rootless-open");
  SendRequest(env, sock, msg, nullptr, 0);
  std::vector<char> buf;
  std::vector<int> fds;
  RecvReply(env, sock, buf, fds, kMaxFdsPerMsg);
  RespHdr h;
  memcpy(&h, buf.data(), sizeof h);
  size_t need = sizeof(RespHdr) + (size_t)n * sizeof(OpenRes);
  if (h.err || h.n != n || buf.size() < need) {
    for (int fd : fds) close(fd);
    if (h.err) ThrowStep(env, h.err, h.step);
    ThrowErrno(env, EPROTO, "recvmsg", "rootless helper");
  }
  Napi::Array out = Napi::Array::New(env, n);
  size_t next = 0;
  for (uint32_t i = 0; i < n; i++) {
    OpenRes r;
    memcpy(&r, buf.data() + sizeof(RespHdr) + i * sizeof(OpenRes), sizeof r);
    if (r.hasFd && next < fds.size()) {
      Napi::Array t = Napi::Array::New(env, 3);
      t.Set(0u, Napi::Number::New(env, fds[next++]));
      t.Set(1u, Napi::Number::New(env, r.granted));
      t.Set(2u, Napi::Number::New(env, r.denyErr));
      out.Set(i, t);
    } else {
      out.Set(i, ErrnoObject(env, r.err ? r.err : EPROTO, "open", "/proc/sys/net/" + names[i]));
    }
  }
  for (; next < fds.size(); next++) close(fds[next]);
  return out;
}

// rootlessWalk(sock, prefix, flags) -> { keys, values, modes } like sysctlWalk.
Napi::Value RootlessWalk(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sock = ArgInt(info, 0);
  std::string prefix = info[1].As<Napi::String>().Utf8Value();
  int flags = ArgInt(info, 2);
  std::string msg = Header(kOpWalk, (uint32_t)flags);
  msg.append(prefix);
  msg.push_back('\0');
  SendRequest(env, sock, msg, nullptr, 0);
  Napi::Array keys = Napi::Array::New(env);
  Napi::Array values = Napi::Array::New(env);
  Napi::Array modes = Napi::Array::New(env);
  uint32_t count = 0;
  std::vector<char> buf;
  std::vector<int> fds;
  for (;;) {
    RecvReply(env, sock, buf, fds, 0);
    RespHdr h;
    memcpy(&h, buf.data(), sizeof h);
    size_t off = sizeof(RespHdr);
    for (uint32_t i = 0; i < h.n; i++) {
      WalkEnt e;
      if (off + sizeof e > buf.size()) ThrowErrno(env, EPROTO, "recvmsg", "rootless helper");
      memcpy(&e, buf.data() + off, sizeof e);
      size_t entLen = sizeof e + e.relLen + (e.valLen == kNoValue ? 0 : e.valLen);
      if (off + entLen > buf.size()) ThrowErrno(env, EPROTO, "recvmsg", "rootless helper");
      std::string rel(buf.data() + off + sizeof e, e.relLen);
      keys.Set(count, Napi::String::New(env, rel));
      if (flags & 1) {
        if (e.err)
          values.Set(count, ErrnoObject(env, e.err, kStepNames[e.step < kStepCount ? e.step : kStepProto], "/proc/sys/net/" + rel));
        else if (e.valLen == kNoValue)
          values.Set(count, env.Null());
        else
          values.Set(count, Napi::String::New(env, buf.data() + off + sizeof e + e.relLen, e.valLen));
      }
      if (flags & 2) modes.Set(count, Napi::Number::New(env, e.mode));
      count++;
      off += (entLen + 3) & ~(size_t)3;
    }
    if (h.last) {
      if (h.err) ThrowStep(env, h.err, h.step, "/proc/sys/net/" + prefix);
      break;
    }
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("keys", keys);
  o.Set("values", values);
  o.Set("modes", modes);
  return o;
}

// rootlessIds(sock) -> [netnsFd, userNsFd], both owned by the caller.
Napi::Value RootlessIds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sock = ArgInt(info, 0);
  SendRequest(env, sock, Header(kOpIds), nullptr, 0);
  std::vector<char> buf;
  std::vector<int> fds;
  RecvReply(env, sock, buf, fds, 2);
  RespHdr h;
  memcpy(&h, buf.data(), sizeof h);
  if (h.err || fds.size() != 2) {
    for (int fd : fds) close(fd);
    if (h.err) ThrowStep(env, h.err, h.step);
    ThrowErrno(env, EPROTO, "recvmsg", "rootless helper");
  }
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, Napi::Number::New(env, fds[0]));
  a.Set(1u, Napi::Number::New(env, fds[1]));
  return a;
}

// rootlessSpawn(sock, path, argv[], env[], cwd|null, [fd0, fd1, fd2], setsid) -> [pid, pidfd]
Napi::Value RootlessSpawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sock = ArgInt(info, 0);
  std::string path = info[1].As<Napi::String>().Utf8Value();
  Napi::Array argv = info[2].As<Napi::Array>();
  Napi::Array envp = info[3].As<Napi::Array>();
  bool hasCwd = info[4].IsString();
  Napi::Array stdio = info[5].As<Napi::Array>();
  bool setsid = info.Length() > 6 && info[6].ToBoolean();
  uint32_t flags = (hasCwd ? kSpawnCwd : 0) | (setsid ? kSpawnSetsid : 0);
  std::string msg = Header(kOpSpawn, argv.Length(), envp.Length(), flags);
  auto add = [&](const std::string& s) {
    msg.append(s);
    msg.push_back('\0');
  };
  add(path);
  for (uint32_t i = 0; i < argv.Length(); i++) add(argv.Get(i).As<Napi::String>().Utf8Value());
  for (uint32_t i = 0; i < envp.Length(); i++) add(envp.Get(i).As<Napi::String>().Utf8Value());
  if (hasCwd) add(info[4].As<Napi::String>().Utf8Value());
  if (msg.size() > kInCap || argv.Length() + envp.Length() + 2 > kMaxPtrs) ThrowErrno(env, E2BIG, "execve", path);
  int fds[3];
  for (uint32_t i = 0; i < 3; i++) fds[i] = stdio.Get(i).As<Napi::Number>().Int32Value();
  SendRequest(env, sock, msg, fds, 3);
  std::vector<char> buf;
  std::vector<int> got;
  RecvReply(env, sock, buf, got, 1);
  if (buf.size() < sizeof(RespHdr) + sizeof(SpawnBody)) {
    for (int fd : got) close(fd);
    ThrowErrno(env, EPROTO, "recvmsg", "rootless helper");
  }
  RespHdr h;
  SpawnBody b;
  memcpy(&h, buf.data(), sizeof h);
  memcpy(&b, buf.data() + sizeof h, sizeof b);
  int pidfd = got.empty() ? -1 : got[0];
  for (size_t i = 1; i < got.size(); i++) close(got[i]);
  if (h.err) {
    // The command child exists (it is our child, via CLONE_PARENT) and has exited: reap it.
    if (b.pid > 0) {
      while (waitpid(b.pid, nullptr, __WALL) < 0 && errno == EINTR) {
      }
    }
    SafeClose(pidfd);
    std::string p = h.step == kStepChdir && hasCwd ? info[4].As<Napi::String>().Utf8Value() : path;
    ThrowStep(env, h.err, h.step, p);
  }
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, Napi::Number::New(env, b.pid));
  a.Set(1u, Napi::Number::New(env, pidfd));
  return a;
}

int WaitStatus(pid_t pid, int pidfd, siginfo_t& si) {
  memset(&si, 0, sizeof si);
  for (;;) {
    int r = pidfd >= 0 ? waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED | __WALL) : -1;
    if (r < 0 && (pidfd < 0 || errno == EINVAL)) r = waitid(P_PID, (id_t)pid, &si, WEXITED | __WALL);
    if (r == 0) return 0;
    if (errno != EINTR) return errno;
  }
}

// rootlessStop(sock, pid, pidfd, graceMs): close the socket (the helper exits on EOF), wait up
// to graceMs, then SIGKILL; reap. Closes sock and pidfd. Returns true if it exited by itself.
Napi::Value RootlessStop(const Napi::CallbackInfo& info) {
  int sock = ArgInt(info, 0);
  pid_t pid = ArgInt(info, 1);
  int pidfd = ArgInt(info, 2);
  int graceMs = ArgInt(info, 3);
  if (sock >= 0) close(sock);
  bool clean = true;
  if (pidfd >= 0) {
    struct pollfd p{pidfd, POLLIN, 0};
    int r;
    do {
      r = poll(&p, 1, graceMs);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
      clean = false;
      syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    }
  } else {
    clean = false;
    kill(pid, SIGKILL);
  }
  siginfo_t si;
  WaitStatus(pid, pidfd, si);
  SafeClose(pidfd);
  return Napi::Boolean::New(info.Env(), clean);
}

// pipe() -> [readFd, writeFd], close-on-exec.
Napi::Value Pipe(const Napi::CallbackInfo& info) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) ThrowErrno(info.Env(), errno, "pipe2");
  Napi::Array a = Napi::Array::New(info.Env(), 2);
  a.Set(0u, Napi::Number::New(info.Env(), p[0]));
  a.Set(1u, Napi::Number::New(info.Env(), p[1]));
  return a;
}

// pidfdWait(pidfd, pid) -> Promise<[exitCode|null, signal|null]>: reaps the child. Waits on a
// dedicated thread (an unbounded wait must not hold the libuv pool or the executor). The
// thread works on its own dup of the pidfd, so the caller may close theirs at any time.
struct WaitResult {
  int err = 0;
  int code = -1;
  int sig = 0;
  napi_deferred deferred = nullptr;
};

void WaitDone(Napi::Env env, Napi::Function, std::nullptr_t*, WaitResult* r) {
  if (env != nullptr) {
    napi_value v;
    if (r->err) {
      v = ErrnoObject(env, r->err, "waitid");
      napi_reject_deferred(env, r->deferred, v);
    } else {
      Napi::Array a = Napi::Array::New(env, 2);
      a.Set(0u, r->sig ? env.Null() : Napi::Number::New(env, r->code));
      a.Set(1u, r->sig ? Napi::Number::New(env, r->sig) : env.Null());
      napi_resolve_deferred(env, r->deferred, a);
    }
  }
  delete r;
}
using WaitTsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, WaitResult, WaitDone>;

Napi::Value PidfdWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pidfd = ArgInt(info, 0);
  pid_t pid = ArgInt(info, 1);
  int mine = pidfd >= 0 ? fcntl(pidfd, F_DUPFD_CLOEXEC, 3) : -1;
  if (pidfd >= 0 && mine < 0) ThrowErrno(env, errno, "fcntl(F_DUPFD_CLOEXEC)");
  auto* r = new WaitResult();
  napi_value promise;
  napi_create_promise(env, &r->deferred, &promise);
  WaitTsfn tsfn = WaitTsfn::New(env, "netns-pidfd-wait", 0, 1);
  std::thread([tsfn, r, mine, pid]() mutable {
    siginfo_t si;
    if (mine >= 0) {
      struct pollfd p{mine, POLLIN, 0};
      while (poll(&p, 1, -1) < 0 && errno == EINTR) {
      }
    }
    r->err = WaitStatus(pid, mine, si);
    if (!r->err) {
      if (si.si_code == CLD_EXITED)
        r->code = si.si_status;
      else
        r->sig = si.si_status;
    }
    SafeClose(mine);
    if (tsfn.BlockingCall(r) != napi_ok) delete r;
    tsfn.Release();
  }).detach();
  return Napi::Value(env, promise);
}

}  // namespace

void InitRootless(Napi::Env env, Napi::Object exports) {
  exports.Set("rootlessStart", Napi::Function::New(env, RootlessStart, "rootlessStart"));
  exports.Set("rootlessOpen", Napi::Function::New(env, RootlessOpen, "rootlessOpen"));
  exports.Set("rootlessWalk", Napi::Function::New(env, RootlessWalk, "rootlessWalk"));
  exports.Set("rootlessIds", Napi::Function::New(env, RootlessIds, "rootlessIds"));
  exports.Set("rootlessSpawn", Napi::Function::New(env, RootlessSpawn, "rootlessSpawn"));
  exports.Set("rootlessStop", Napi::Function::New(env, RootlessStop, "rootlessStop"));
  exports.Set("pipe", Napi::Function::New(env, Pipe, "pipe"));
  exports.Set("pidfdWait", Napi::Function::New(env, PidfdWait, "pidfdWait"));
}

}  // namespace netns
