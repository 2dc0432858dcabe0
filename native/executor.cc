#include "executor.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>

#include "netns.h"

namespace netns {

// Threads per environment. One: jobs run in the order they were submitted, so two Promise-form
// writes to the same key land in call order (a pool of threads would reorder them). A job is a
// few microseconds; the JavaScript side, not this thread, bounds the throughput.
static const int kMaxThreads = 1;
// Most jobs the thread takes from the queue at once (one wake-up, one completion call).
static const size_t kMaxBatch = 64;
// After a batch, how long the thread watches the queue before it sleeps on the condvar: a job
// submitted meanwhile (the next await of a loop) needs no wake-up. Bounded, so an idle
// executor costs no CPU; NETNS_EXECUTOR_SPIN_US overrides it (0: never spin) for measuring.
static long SpinNsDefault() {
  static const long ns = [] {
    const char* e = getenv("NETNS_EXECUTOR_SPIN_US");
    long us = e && *e ? strtol(e, nullptr, 10) : 50;
    return us < 0 ? 0 : us > 1000 ? 1000000 : us * 1000;
  }();
  return ns;
}
// Test hook (testing.executorSpin): -1 = the default above.
std::atomic<long> g_spinOverrideNs{-1};
static long SpinNs() {
  long o = g_spinOverrideNs.load(std::memory_order_relaxed);
  return o >= 0 ? o : SpinNsDefault();
}

static inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield");
#endif
}

// Wait up to `ns` for `queued` to become non-zero, without sleeping. True if it did.
static bool SpinForWork(const std::atomic<size_t>& queued, long ns) {
  if (ns <= 0) return false;
  auto end = std::chrono::steady_clock::now() + std::chrono::nanoseconds(ns);
  for (unsigned i = 1;; i++) {
    if (queued.load(std::memory_order_acquire) != 0) return true;
    CpuRelax();
    if ((i & 31) == 0 && std::chrono::steady_clock::now() >= end) return false;
  }
}

Job::~Job() {
  if (nsfd >= 0) close(nsfd);
}

Napi::Value Job::Result(Napi::Env env, bool& reject) {
  if (enterErr) {
    reject = true;
    return wayBackErr ? WayBackBarred(env, enterErr) : ErrnoObject(env, enterErr, "setns");
  }
  return Value(env, reject);
}

Executor* Executor::Get(Napi::Env env) {
  AddonData* d = Data(env);
  if (d->executor) return d->executor;
  // First, so that its cleanup hook runs after ours (hooks run in reverse order): our threads
  // deliver through it until Shutdown has joined them.
  Threads* facility = Threads::Get(env);
  auto* ex = new Executor();
  ex->facility_ = facility;
  ex->home_ = fcntl(d->homeNs, F_DUPFD_CLOEXEC, 3);
  if (ex->home_ < 0) {
    int err = errno;
    delete ex;
    ThrowErrno(env, err, "fcntl(F_DUPFD_CLOEXEC)");
  }
  napi_add_env_cleanup_hook(env, Shutdown, ex);
  d->executor = ex;
  return ex;
}

Napi::Value Executor::Submit(Napi::Env env, Job* job, int targetFd) {
  AddonData* d = Data(env);
  if (targetFd < 0 && d->curNs != d->homeNs) targetFd = d->curNs;  // inside runSync
  if (targetFd >= 0) {
    job->nsfd = fcntl(targetFd, F_DUPFD_CLOEXEC, 3);
    if (job->nsfd < 0) {
      int err = errno;
      delete job;
      ThrowErrno(env, err, "fcntl(F_DUPFD_CLOEXEC)");
    }
  }
  Napi::Value promise = facility_->Track(env, job);
  {
    std::lock_guard<std::mutex> lk(mu_);
    queue_.push_back(job);
    queued_.store(queue_.size(), std::memory_order_release);
    if (idle_ == 0 && live_ < kMaxThreads) StartThreadLocked();
  }
  cv_.notify_one();  // no system call when the thread is spinning (no waiter)
  return promise;
}

void Executor::StartThreadLocked() {
  try {
    threads_.emplace_back([this] { Loop(); });
    live_++;
  } catch (const std::system_error&) {
    // No thread could be started: jobs stay queued until a later submit manages to.
  }
}

void Executor::Loop() {
  // A recognisable name (ps -L, /proc/PID/task/TID/comm): tests and operators can tell the
  // addon's threads, which may sit in a foreign namespace mid-job, from Node's own.
  pthread_setname_np(pthread_self(), "netns-exec");
  // A thread starts in the namespace of the thread that created it: go home explicitly, unless
  // it is there already (setns needs CAP_SYS_ADMIN even for a switch to where the thread is:
  // an unprivileged process would never get a healthy thread, and its jobs would wait forever).
  bool healthy = IsCurrent(home_) || setns(home_, CLONE_NEWNET) == 0;
  std::vector<Job*> batch;
  batch.reserve(kMaxBatch);
  std::unique_lock<std::mutex> lk(mu_);
  // Spin after a batch only while it pays: the batch had several jobs (several in flight), or
  // the next job came within the spin window after the last batch (caught by the spin, or, when
  // there was no spin, seen to arrive that soon). One job at a time that arrives too late to be
  // caught (1 in flight on a loaded machine) then costs no spinning at all, and a job stream
  // that speeds up again is spun for again.
  bool spin = false, lastHit = true, haveDone = false;
  std::chrono::steady_clock::time_point doneAt;
  while (healthy) {
    bool spun = false;
    if (spin && queue_.empty() && !stopping_) {
      lk.unlock();
      lastHit = SpinForWork(queued_, SpinNs());
      spun = true;
      lk.lock();
    }
    idle_++;
    cv_.wait(lk, [this] { return stopping_ || !queue_.empty(); });
    idle_--;
    if (queue_.empty()) break;  // stopping
    if (!spun && haveDone)
      lastHit = std::chrono::steady_clock::now() - doneAt <= std::chrono::nanoseconds(SpinNs());
    // Take every queued job (bounded): one wake-up and one completion call serve them all.
    batch.clear();
    while (!queue_.empty() && batch.size() < kMaxBatch) {
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    queued_.store(queue_.size(), std::memory_order_release);
    spin = batch.size() > 1 || lastHit;
    lk.unlock();
    size_t done = RunBatch(batch, healthy);
    // Finished jobs go back to JavaScript in one call, chained through Job::next.
    for (size_t i = 0; i + 1 < done; i++) batch[i]->next = batch[i + 1];
    if (done > 0) facility_->Deliver(batch[0]);
    doneAt = std::chrono::steady_clock::now();
    haveDone = true;
    lk.lock();
    // Jobs not started because this thread is retiring go back to the front of the queue.
    for (size_t i = batch.size(); i > done; i--) queue_.push_front(batch[i - 1]);
    queued_.store(queue_.size(), std::memory_order_release);
  }
  live_--;
  if (!healthy && !stopping_ && !queue_.empty() && live_ < kMaxThreads) StartThreadLocked();
  cv_.notify_all();
  return;  // the unique_lock releases mu_; nothing of `this` is touched after that
}

// Runs the jobs in order. Consecutive jobs for the same namespace (same nsfs device and
// inode) share one switch in and one switch back (Inside); the thread is always home again
// before it returns, i.e. before it waits for more work. Returns how many jobs ran; fewer than
// all only when switching back failed (`healthy` is then false and the thread must retire).
size_t Executor::RunBatch(std::vector<Job*>& batch, bool& healthy) {
  const size_t n = batch.size();
  // Identity of each job's namespace, needed only to compare neighbours: a batch of one (1 in
  // flight) skips the fstat. An fd whose identity is unknown shares no switch.
  struct Id {
    bool known;
    dev_t dev;
    ino_t ino;
  } ids[kMaxBatch];
  if (n > 1) {
    for (size_t i = 0; i < n; i++) {
      struct stat st;
      ids[i].known = batch[i]->nsfd >= 0 && fstat(batch[i]->nsfd, &st) == 0;
      ids[i].dev = ids[i].known ? st.st_dev : 0;
      ids[i].ino = ids[i].known ? st.st_ino : 0;
    }
  }
  auto sameNs = [&](size_t a, size_t b) {
    if (batch[a]->nsfd < 0 || batch[b]->nsfd < 0) return batch[a]->nsfd < 0 && batch[b]->nsfd < 0;
    return ids[a].known && ids[b].known && ids[a].dev == ids[b].dev && ids[a].ino == ids[b].ino;
  };
  for (size_t i = 0; i < n;) {
    size_t end = i + 1;
    while (end < n && sameNs(i, end)) end++;
    auto work = [&] {
      for (size_t k = i; k < end; k++) batch[k]->RunWork();
    };
    int nsfd = batch[i]->nsfd;
    if (nsfd < 0) {
      work();  // at home
    } else {
      // Refuse, rather than strand the thread, when the way back is barred (checked once per
      // thread: the answer depends on the process's credentials, not on the job).
      static thread_local int wayBack = -1;
      int back = wayBack >= 0 ? wayBack : CheckWayBack(home_);
      if (IsSettledWayBack(back)) wayBack = back;  // transient failures are asked again
      int r = back ? back : Inside(nsfd, home_, OnStuck::kRetire, "a Promise-form job", work);
      if (r == kStuck) {
        fprintf(stderr,
                "netns: executor thread could not switch back to its namespace; retiring it "
                "(a new thread takes its place)\n");
        healthy = false;
        return end;  // the jobs ran; the rest go back to the queue
      }
      for (size_t k = i; k < end && r; k++) {
        batch[k]->enterErr = r;
        batch[k]->wayBackErr = back != 0;
      }
    }
    // The private dups are closed here rather than on the JS thread.
    for (size_t k = i; k < end; k++) {
      if (batch[k]->nsfd >= 0) close(batch[k]->nsfd);
      batch[k]->nsfd = -1;
    }
    i = end;
  }
  return n;
}

void Executor::Shutdown(void* arg) {
  auto* ex = static_cast<Executor*>(arg);
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lk(ex->mu_);
    ex->stopping_ = true;
    threads.swap(ex->threads_);
  }
  ex->cv_.notify_all();
  for (auto& t : threads) t.join();  // every thread has left addon code after this
  for (Job* j : ex->queue_) delete j;
  ex->queue_.clear();
  close(ex->home_);
  delete ex;
}

}  // namespace netns
