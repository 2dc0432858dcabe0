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
#include <sys/eventfd.h>
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
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "netns.h"
#include "rootless/rootless_proto.h"
#include "syscompat.h"
#include "threads.h"

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
// Parent side (normal C++; runs on the JS thread, and the exchanges of Promise forms on
// threads of their own).
// ============================================================================================

int ArgInt(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Number>().Int32Value();
}

[[noreturn]] void ThrowStep(Napi::Env env, int err, uint32_t step, const std::string& path = "") {
  ThrowErrno(env, err, kStepNames[step < kStepCount ? step : kStepProto], path);
}

// ---- one request, one reply ----
//
// A helper either answers the request it was asked, or it is dead. Every request gets a fresh
// id and every message of its reply must carry it; the exchange (send, then every message of
// the reply) holds the socket's lock, so a sync call on the JS thread and a Promise form's
// thread never interleave on one helper. Any failure here (no reply in time, EOF, a reply to
// another request, a malformed reply) leaves the helper unusable: TypeScript tears it down.

std::atomic<uint32_t> g_nextId{0};
uint32_t NextId() {
  uint32_t id;
  do id = g_nextId.fetch_add(1) + 1;
  while (id == 0);
  return id;
}

// Striped locks, by the socket's inode (shared by every dup of it).
std::mutex g_sockLocks[128];
std::mutex& SockLock(int sock) {
  struct stat st;
  size_t k = fstat(sock, &st) == 0 ? (size_t)st.st_ino : (size_t)sock;
  return g_sockLocks[k % 128];
}

struct Reply {
  int err = 0;  // transport or protocol failure (errno), 0 when a reply arrived
  const char* syscall = "";
  std::string path;
  std::vector<std::vector<char>> msgs;  // the reply's messages (several for WALK), each >= RespHdr
  std::vector<int> fds;                 // every fd received, in order
  void Fail(int e, const char* sc, const char* p) {
    err = e;
    syscall = sc;
    path = p;
    for (int fd : fds) close(fd);
    fds.clear();
  }
  ~Reply() {
    for (int fd : fds) close(fd);
  }
  std::vector<int> Take() {
    std::vector<int> out;
    out.swap(fds);
    return out;
  }
};

std::string Header(uint32_t op, uint32_t id, uint32_t n = 0, uint32_t a = 0, uint32_t b = 0) {
  ReqHdr h{op, n, a, b, id, 0};
  return std::string((const char*)&h, sizeof h);
}

// Send `msg` (whose header carries a fresh id) and receive its reply: one message, or for a
// chunked reply (WALK) every message up to the one marked last. No JavaScript: runs on any thread.
void Exchange(int sock, uint32_t op, uint32_t n, uint32_t a, uint32_t b, const std::string& body,
              const int* sendFds, int nSendFds, int maxFds, bool chunked, Reply& r) {
  uint32_t id = NextId();
  std::string msg = Header(op, id, n, a, b) + body;
  std::lock_guard<std::mutex> lk(SockLock(sock));
  int e = SendMsg(sock, msg.data(), msg.size(), sendFds, nSendFds);
  if (e == EPIPE || e == ECONNRESET || e == ENOTCONN)
    return r.Fail(ESRCH, "sendmsg", "rootless helper (it has exited)");
  if (e == EAGAIN) return r.Fail(ETIMEDOUT, "sendmsg", "rootless helper (not reading)");
  if (e) return r.Fail(e, "sendmsg", "rootless helper");
  for (;;) {
    std::vector<char> buf(kOutCap + 64);
    int got[kMaxFdsPerMsg];
    int nfds = 0;
    ssize_t m = RecvMsg(sock, buf.data(), buf.size(), got, maxFds, &nfds);
    r.fds.insert(r.fds.end(), got, got + nfds);
    if (m == 0 || m == -ECONNRESET)
      return r.Fail(ESRCH, "recvmsg", "rootless helper (it has exited)");
    if (m == -EAGAIN) return r.Fail(ETIMEDOUT, "recvmsg", "rootless helper (no reply in time)");
    if (m < 0) return r.Fail((int)-m, "recvmsg", "rootless helper");
    if ((size_t)m < sizeof(RespHdr))
      return r.Fail(EPROTO, "recvmsg", "rootless helper (a malformed reply)");
    RespHdr h;
    memcpy(&h, buf.data(), sizeof h);
    if (h.id != id)
      return r.Fail(EPROTO, "recvmsg", "rootless helper (a reply to another request)");
    buf.resize((size_t)m);
    r.msgs.push_back(std::move(buf));
    if (!chunked || h.last) return;
  }
}

[[noreturn]] void ThrowReply(Napi::Env env, const Reply& r) {
  ThrowErrno(env, r.err, r.syscall, r.path);
}

RespHdr HeaderOf(const std::vector<char>& m) {
  RespHdr h;
  memcpy(&h, m.data(), sizeof h);
  return h;
}

void KillAndReap(pid_t pid, int pidfd) {
  if (pidfd >= 0)
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
  else
    kill(pid, SIGKILL);
  while (waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
  }
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
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    ThrowErrno(env, errno, "socketpair");
  struct timeval tv;
  tv.tv_sec = timeoutMs / 1000;
  tv.tv_usec = (timeoutMs % 1000) * 1000;
  setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

  void* stack = mmap(nullptr, kHelperStack, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
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
  std::string mapPath;
  int e = WriteIdMaps(pid, uid, gid, &mapPath);
  if (e) fail(e, "write", mapPath);

  std::string go = Header(kOpGo, 0);
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

// ---- OPEN ----

struct OpenReq {
  std::vector<std::string> names;
  std::string body;
  uint32_t n = 0;
};

// rels[] and access[] into an OPEN request; throws E2BIG when it cannot be one message.
void ParseOpen(const Napi::CallbackInfo& info, size_t first, OpenReq& q) {
  Napi::Env env = info.Env();
  Napi::Array rels = info[first].As<Napi::Array>();
  Napi::Array acc = info[first + 1].As<Napi::Array>();
  q.n = rels.Length();
  if (q.n > (uint32_t)kMaxFdsPerMsg) ThrowErrno(env, E2BIG, "rootless-open");
  q.names.resize(q.n);
  for (uint32_t i = 0; i < q.n; i++) {
    q.names[i] = BytesOf(rels.Get(i));
    q.body.push_back((char)acc.Get(i).As<Napi::Number>().Int32Value());
    q.body.append(q.names[i]);
    q.body.push_back('\0');
  }
  if (q.body.size() + sizeof(ReqHdr) > kInCap) ThrowErrno(env, E2BIG, "rootless-open");
}

void OpenExchange(int sock, const OpenReq& q, Reply& r) {
  Exchange(sock, kOpOpen, q.n, 0, 0, q.body, nullptr, 0, kMaxFdsPerMsg, false, r);
  if (r.err) return;
  const std::vector<char>& m = r.msgs[0];
  RespHdr h = HeaderOf(m);
  if (h.err) return;  // a refusal of the whole request, reported by OpenValue
  if (h.n != q.n || m.size() < sizeof(RespHdr) + (size_t)q.n * sizeof(OpenRes))
    r.Fail(EPROTO, "recvmsg", "rootless helper (a malformed reply)");
}

// Per key: [fd, granted, denyErrno] or an errno object. Throws on a failed exchange.
Napi::Value OpenValue(Napi::Env env, const OpenReq& q, Reply& r) {
  if (r.err) ThrowReply(env, r);
  const std::vector<char>& m = r.msgs[0];
  RespHdr h = HeaderOf(m);
  if (h.err) ThrowStep(env, h.err, h.step);
  std::vector<int> fds = r.Take();
  Napi::Array out = Napi::Array::New(env, q.n);
  size_t next = 0;
  for (uint32_t i = 0; i < q.n; i++) {
    OpenRes res;
    memcpy(&res, m.data() + sizeof(RespHdr) + i * sizeof(OpenRes), sizeof res);
    if (res.hasFd && next < fds.size()) {
      Napi::Array t = Napi::Array::New(env, 3);
      t.Set(0u, Napi::Number::New(env, Own(env, fds[next++])));
      t.Set(1u, Napi::Number::New(env, res.granted));
      t.Set(2u, Napi::Number::New(env, res.denyErr));
      out.Set(i, t);
    } else {
      out.Set(i,
              ErrnoObject(env, res.err ? res.err : EPROTO, "open", "/proc/sys/net/" + q.names[i]));
    }
  }
  for (; next < fds.size(); next++) close(fds[next]);
  return out;
}

// rootlessOpen(sock, rels[], access[]) -> per key: [fd, granted, denyErrno] or an errno object.
Napi::Value RootlessOpen(const Napi::CallbackInfo& info) {
  OpenReq q;
  ParseOpen(info, 1, q);
  Reply r;
  OpenExchange(ArgInt(info, 0), q, r);
  return OpenValue(info.Env(), q, r);
}

// ---- WALK ----

// The packed walk (sysctl_core.h) the chunks make together, as sysctlWalk returns it.
Napi::Value WalkValueOf(Napi::Env env, const std::string& prefix, const Reply& r) {
  if (r.err) ThrowReply(env, r);
  std::string packed;
  for (const std::vector<char>& buf : r.msgs) {
    RespHdr h = HeaderOf(buf);
    packed.append(buf.data() + sizeof h, buf.size() - sizeof h);
    if (h.last && h.err) ThrowStep(env, h.err, h.step, "/proc/sys/net/" + prefix);
  }
  return StringOf(env, packed);
}

std::string WalkBody(const std::string& prefix) { return prefix + std::string(1, '\0'); }

// rootlessWalk(sock, prefix, flags) -> the packed walk (sysctl_core.h), as sysctlWalk returns.
Napi::Value RootlessWalk(const Napi::CallbackInfo& info) {
  std::string prefix = BytesOf(info[1]);
  int flags = ArgInt(info, 2);
  Reply r;
  Exchange(ArgInt(info, 0), kOpWalk, (uint32_t)flags, 0, 0, WalkBody(prefix), nullptr, 0, 0, true,
           r);
  return WalkValueOf(info.Env(), prefix, r);
}

// ---- Promise forms: the exchange runs on a thread of its own ----
//
// A helper may take up to the reply timeout to answer (or never: it is stopped). The Promise
// forms wait on a thread of their own (Threads::Run), never on the JS thread nor on the
// executor's queue (one slow helper must not hold up every other namespace's jobs). Each works
// on a private dup of the socket; at environment teardown the socket is shut down to wake it.

struct HelperJob : Task {
  int sock = -1;  // private dup
  Reply r;
  ~HelperJob() override { SafeClose(sock); }
  void Abort() override { shutdown(sock, SHUT_RDWR); }
};

struct OpenJob : HelperJob {
  OpenReq q;
  void Work() override { OpenExchange(sock, q, r); }
  Napi::Value Result(Napi::Env env, bool&) override { return OpenValue(env, q, r); }
};

struct WalkJob : HelperJob {
  std::string prefix;
  int flags = 0;
  void Work() override {
    Exchange(sock, kOpWalk, (uint32_t)flags, 0, 0, WalkBody(prefix), nullptr, 0, 0, true, r);
  }
  Napi::Value Result(Napi::Env env, bool&) override { return WalkValueOf(env, prefix, r); }
};

Napi::Value SubmitHelperJob(const Napi::CallbackInfo& info, std::unique_ptr<HelperJob> job) {
  Napi::Env env = info.Env();
  job->sock = fcntl(ArgInt(info, 0), F_DUPFD_CLOEXEC, 3);
  if (job->sock < 0) ThrowErrno(env, errno, "fcntl(F_DUPFD_CLOEXEC)");
  return Threads::Get(env)->Run(env, job.release(), "netns-helper-io");
}

// rootlessOpenAsync(sock, rels[], access[]) -> Promise of what rootlessOpen returns.
Napi::Value RootlessOpenAsync(const Napi::CallbackInfo& info) {
  std::unique_ptr<OpenJob> job(new OpenJob());
  ParseOpen(info, 1, job->q);
  return SubmitHelperJob(info, std::move(job));
}

// rootlessWalkAsync(sock, prefix, flags) -> Promise of what rootlessWalk returns.
Napi::Value RootlessWalkAsync(const Napi::CallbackInfo& info) {
  std::unique_ptr<WalkJob> job(new WalkJob());
  job->prefix = BytesOf(info[1]);
  job->flags = ArgInt(info, 2);
  return SubmitHelperJob(info, std::move(job));
}

// ---- IDS, SPAWN (sync: used while creating a namespace and starting a command) ----

// rootlessIds(sock) -> [netnsFd, userNsFd], both owned by the caller.
Napi::Value RootlessIds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Reply r;
  Exchange(ArgInt(info, 0), kOpIds, 0, 0, 0, "", nullptr, 0, 2, false, r);
  if (r.err) ThrowReply(env, r);
  RespHdr h = HeaderOf(r.msgs[0]);
  if (h.err) ThrowStep(env, h.err, h.step);
  if (r.fds.size() != 2) ThrowErrno(env, EPROTO, "recvmsg", "rootless helper");
  std::vector<int> fds = r.Take();
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, Napi::Number::New(env, Own(env, fds[0])));
  a.Set(1u, Napi::Number::New(env, Own(env, fds[1])));
  return a;
}

// rootlessSpawn(sock, path, argv[], env[], cwd|null, [fd0, fd1, fd2], setsid) -> [pid, pidfd]
Napi::Value RootlessSpawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sock = ArgInt(info, 0);
  std::string path = BytesOf(info[1]);
  Napi::Array argv = info[2].As<Napi::Array>();
  Napi::Array envp = info[3].As<Napi::Array>();
  bool hasCwd = info[4].IsString();
  Napi::Array stdio = info[5].As<Napi::Array>();
  bool setsid = info.Length() > 6 && info[6].ToBoolean();
  uint32_t flags = (hasCwd ? kSpawnCwd : 0) | (setsid ? kSpawnSetsid : 0);
  std::string body;
  auto add = [&](const std::string& s) {
    body.append(s);
    body.push_back('\0');
  };
  add(path);
  for (uint32_t i = 0; i < argv.Length(); i++) add(BytesOf(argv.Get(i)));
  for (uint32_t i = 0; i < envp.Length(); i++) add(BytesOf(envp.Get(i)));
  std::string cwd = hasCwd ? BytesOf(info[4]) : "";
  if (hasCwd) add(cwd);
  if (body.size() + sizeof(ReqHdr) > kInCap || argv.Length() + envp.Length() + 2 > kMaxPtrs)
    ThrowErrno(env, E2BIG, "execve", path);
  int fds[3];
  for (uint32_t i = 0; i < 3; i++) fds[i] = stdio.Get(i).As<Napi::Number>().Int32Value();
  Reply r;
  Exchange(sock, kOpSpawn, argv.Length(), envp.Length(), flags, body, fds, 3, 1, false, r);
  if (r.err) ThrowReply(env, r);
  const std::vector<char>& m = r.msgs[0];
  if (m.size() < sizeof(RespHdr) + sizeof(SpawnBody))
    ThrowErrno(env, EPROTO, "recvmsg", "rootless helper");
  RespHdr h = HeaderOf(m);
  SpawnBody b;
  memcpy(&b, m.data() + sizeof h, sizeof b);
  std::vector<int> got = r.Take();
  int pidfd = got.empty() ? -1 : got[0];
  for (size_t i = 1; i < got.size(); i++) close(got[i]);
  if (h.err) {
    // The command child exists (it is our child, via CLONE_PARENT) and has exited: reap it.
    if (b.pid > 0) {
      while (waitpid(b.pid, nullptr, __WALL) < 0 && errno == EINTR) {
      }
    }
    SafeClose(pidfd);
    ThrowStep(env, h.err, h.step, h.step == kStepChdir && hasCwd ? cwd : path);
  }
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, Napi::Number::New(env, b.pid));
  // Owned by JavaScript from here (RootlessChild closes it): the environment's cleanup closes
  // it if a Worker is terminated first.
  a.Set(1u, Napi::Number::New(env, Own(env, pidfd)));
  return a;
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
    // shutdown, not only close: a Promise form's exchange may hold a dup of the socket; the
    // helper must see EOF now and that exchange must end (with ESRCH) now.
    shutdown(sock, SHUT_RDWR);
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
    struct pollfd p {
      pidfd, POLLIN, 0
    };
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
  WaitChild(pid, pidfd, &si);
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
// thread of its own (Threads::Run: an unbounded wait must not hold the libuv pool or the
// executor), on its own dup of the pidfd, so the caller may close theirs at any time. If the
// environment goes away first, the wait ends: the command keeps running (as Node leaves the
// child processes of a Worker that exits), and is reaped here if it has already exited.
struct WaitTask : Task {
  int pidfd = -1;   // private dup, or -1 (a kernel without pidfds: polled by pid)
  int stopFd = -1;  // eventfd: readable once Abort() has been called
  pid_t pid = 0;
  int err = 0;
  int code = -1;
  int sig = 0;
  ~WaitTask() override {
    SafeClose(pidfd);
    SafeClose(stopFd);
  }
  void Abort() override {
    uint64_t one = 1;
    (void)!write(stopFd, &one, sizeof one);
  }

  void Work() override {
    struct pollfd p[2] = {{stopFd, POLLIN, 0}, {pidfd, POLLIN, 0}};
    siginfo_t si;
    for (;;) {
      // Without a pidfd, look every 50 ms whether it has exited.
      int r = poll(p, pidfd >= 0 ? 2 : 1, pidfd >= 0 ? -1 : 50);
      if (r < 0 && errno != EINTR) {
        err = errno;
        return;
      }
      bool stop = r > 0 && p[0].revents != 0;
      if (stop || pidfd < 0) {
        err = WaitChild(pid, pidfd, &si, WNOHANG);
        if (err || si.si_pid != 0) break;
        if (stop) {
          err = ECANCELED;
          return;
        }
      } else if (r > 0 && p[1].revents != 0) {
        err = WaitChild(pid, pidfd, &si);
        break;
      }
    }
    if (err) return;
    if (si.si_code == CLD_EXITED)
      code = si.si_status;
    else
      sig = si.si_status;
  }

  Napi::Value Result(Napi::Env env, bool& reject) override {
    if (err) {
      reject = true;
      return ErrnoObject(env, err, "waitid");
    }
    Napi::Array a = Napi::Array::New(env, 2);
    a.Set(0u, sig ? env.Null() : Napi::Number::New(env, code));
    a.Set(1u, sig ? Napi::Number::New(env, sig) : env.Null());
    return a;
  }
};

Napi::Value PidfdWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::unique_ptr<WaitTask> w(new WaitTask());
  int pidfd = ArgInt(info, 0);
  w->pid = ArgInt(info, 1);
  if (pidfd >= 0) {
    w->pidfd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
    if (w->pidfd < 0) ThrowErrno(env, errno, "fcntl(F_DUPFD_CLOEXEC)");
  }
  w->stopFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (w->stopFd < 0) ThrowErrno(env, errno, "eventfd");
  return Threads::Get(env)->Run(env, w.release(), "netns-wait");
}

}  // namespace

void InitRootless(Napi::Env env, Napi::Object exports) {
  exports.Set("rootlessStart", Napi::Function::New(env, RootlessStart, "rootlessStart"));
  exports.Set("rootlessOpen", Napi::Function::New(env, RootlessOpen, "rootlessOpen"));
  exports.Set("rootlessWalk", Napi::Function::New(env, RootlessWalk, "rootlessWalk"));
  exports.Set("rootlessOpenAsync",
              Napi::Function::New(env, RootlessOpenAsync, "rootlessOpenAsync"));
  exports.Set("rootlessWalkAsync",
              Napi::Function::New(env, RootlessWalkAsync, "rootlessWalkAsync"));
  exports.Set("rootlessIds", Napi::Function::New(env, RootlessIds, "rootlessIds"));
  exports.Set("rootlessSpawn", Napi::Function::New(env, RootlessSpawn, "rootlessSpawn"));
  exports.Set("rootlessStop", Napi::Function::New(env, RootlessStop, "rootlessStop"));
  exports.Set("pipe", Napi::Function::New(env, Pipe, "pipe"));
  exports.Set("pidfdWait", Napi::Function::New(env, PidfdWait, "pidfdWait"));
}

}  // namespace netns
