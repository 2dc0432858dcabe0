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
// The cloned child is a copy of a multithreaded process: until it execs, it uses only raw,
// async-signal-safe system calls (no malloc, no C++ allocation, no stdio; locks held by other
// Node threads at clone time stay locked forever in the copy). Right after the parent has
// written its uid/gid maps it execs the helper program (rootless_helper.cc, built as
// build/Release/netns-rootless), so it does not pin a copy-on-write snapshot of Node's memory
// (measured: ~200 MB privately held after Node rewrote a 200 MB heap).
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
#include "rootless/rootless_proto.h"
#include "syscompat.h"


namespace netns {

namespace {

using namespace rootless;

// Move the socket to fd 3 (kept across exec), point 0-2 at /dev/null and close everything else
// the clone copied from Node (listening sockets, epoll, other namespace fds...).
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
  if (dup2(s, kHelperSock) < 0) return -1;  // dup2: not close-on-exec
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
  return kHelperSock;
}

struct HelperArgs {
  pid_t parent;           // the parent's pid before clone
  int sock;               // the helper's end of the socketpair
  const char* exe;        // the helper program
  const char* parentStr;  // `parent` in decimal, for its argv
};

// The cloned child, until it execs the helper program. It is a copy of the multithreaded Node
// process: raw async-signal-safe syscalls only. Order matters: the program must be executed
// after the uid/gid maps exist (as an unmapped uid, exec would drop every capability in the
// new user namespace, and with it PR_SET_PDEATHSIG), so it waits for GO first.
int HelperMain(void* argp) {
  HelperArgs* a = (HelperArgs*)argp;
  // Die with the parent. The parent may already have died between clone and prctl: then we
  // have been re-parented and must not linger.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != a->parent) _exit(1);
  ResetSignals();
  // Terminal signals are for Node to handle; the helper lives until close() or Node's death.
  // (Ignored dispositions survive exec.)
  struct sigaction ign;
  memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  const int ignored[] = {SIGINT, SIGQUIT, SIGHUP, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE};
  for (int s : ignored) sigaction(s, &ign, nullptr);
  int sock = HelperFds(a->sock);
  if (sock < 0) _exit(2);
  char buf[sizeof(ReqHdr) + 16];
  int fds[4];
  int nfds = 0;
  ssize_t n = RecvMsg(sock, buf, sizeof buf, fds, 4, &nfds);
  for (int i = 0; i < nfds; i++) close(fds[i]);
  if (n < (ssize_t)sizeof(ReqHdr) || ((ReqHdr*)buf)->op != kOpGo) _exit(0);
  char* argv[] = {const_cast<char*>("netns-rootless"), const_cast<char*>(a->parentStr), nullptr};
  char* envp[] = {nullptr};
  execve(a->exe, argv, envp);
  struct {
    RespHdr h;
    ReadyBody b;
  } fail;
  memset(&fail, 0, sizeof fail);
  fail.h.err = errno;
  fail.h.step = kStepExecve;
  fail.h.last = 1;
  SendMsg(sock, &fail, sizeof fail, nullptr, 0);
  _exit(127);
}

// Where the helper program is: next to this addon (build/Release/netns-rootless).
std::string HelperPath() {
  Dl_info info;
  if (dladdr((void*)&HelperPath, &info) == 0 || info.dli_fname == nullptr) return "";
  std::string p(info.dli_fname);
  size_t slash = p.rfind('/');
  return (slash == std::string::npos ? std::string(".") : p.substr(0, slash)) + "/netns-rootless";
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

  std::string exe = HelperPath();
  if (exe.empty()) ThrowErrno(env, ENOENT, "dladdr", "netns-rootless");
  if (access(exe.c_str(), X_OK) != 0) ThrowErrno(env, errno, "access", exe);
  std::string parentStr = std::to_string(getpid());

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
  HelperArgs args{getpid(), sv[1], exe.c_str(), parentStr.c_str()};
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
  if (h.err)
    fail(h.err, kStepNames[h.step < kStepCount ? h.step : kStepProto],
         h.step == kStepExecve ? exe : "/proc/sys/net (in the rootless helper)");

  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, pid));
  // Owned by JavaScript from here: the environment's cleanup closes them if a Worker is
  // terminated before close() (closing the socket ends the helper).
  Data(env)->helpers[pid] = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);  // reaped at cleanup if not stopped
  o.Set("pidfd", Napi::Number::New(env, Own(env, pidfd)));
  o.Set("sock", Napi::Number::New(env, Own(env, sv[0])));
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
      t.Set(0u, Napi::Number::New(env, Own(env, fds[next++])));
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

// rootlessWalk(sock, prefix, flags) -> the packed walk (sysctl_core.h), as sysctlWalk returns.
Napi::Value RootlessWalk(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sock = ArgInt(info, 0);
  std::string prefix = info[1].As<Napi::String>().Utf8Value();
  int flags = ArgInt(info, 2);
  std::string msg = Header(kOpWalk, (uint32_t)flags);
  msg.append(prefix);
  msg.push_back('\0');
  SendRequest(env, sock, msg, nullptr, 0);
  std::string packed;
  std::vector<char> buf;
  std::vector<int> fds;
  for (;;) {
    RecvReply(env, sock, buf, fds, 0);
    RespHdr h;
    memcpy(&h, buf.data(), sizeof h);
    packed.append(buf.data() + sizeof h, buf.size() - sizeof h);
    if (h.last) {
      if (h.err) ThrowStep(env, h.err, h.step, "/proc/sys/net/" + prefix);
      break;
    }
  }
  return Napi::String::New(env, packed);
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
  a.Set(0u, Napi::Number::New(env, Own(env, fds[0])));
  a.Set(1u, Napi::Number::New(env, Own(env, fds[1])));
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
  if (sock >= 0) {
    Disown(info.Env(), sock);
    close(sock);
  }
  if (pidfd >= 0) Disown(info.Env(), pidfd);
  {
    auto& helpers = Data(info.Env())->helpers;
    auto it = helpers.find(pid);
    if (it != helpers.end()) {
      if (it->second >= 0) close(it->second);
      helpers.erase(it);
    }
  }
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
