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

void CallJsTrampoline(Napi::Env env, Napi::Function, Executor* self, Job* job) {
  // `job` heads a chain of finished jobs (one batch).
  while (job != nullptr) {
    Job* next = job->next;
    if (env == nullptr)  // the environment is going away: nobody to tell
      delete job;
    else
      self->Complete(env, job);
    job = next;
  }
}

Executor* Executor::Get(Napi::Env env) {
  AddonData* d = Data(env);
  if (d->executor) return d->executor;
  auto* ex = new Executor();
  ex->home_ = fcntl(d->homeNs, F_DUPFD_CLOEXEC, 3);
  if (ex->home_ < 0) {
    int err = errno;
    delete ex;
    ThrowErrno(env, err, "fcntl(F_DUPFD_CLOEXEC)");
  }
  ex->tsfn_ = ExecTsfn::New(env, "netns executor", 0, 1, ex);
  ex->tsfn_.Unref(env);
  // Registered after the thread-safe function, so it runs before the TSFN's own hook.
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
  napi_value promise;
  napi_status s = napi_create_promise(env, &job->deferred, &promise);
  if (s != napi_ok) {
    delete job;
    NAPI_THROW(Napi::Error::New(env, "netns: cannot create a promise"), Napi::Value());
  }
  if (inflight_++ == 0) tsfn_.Ref(env);
  {
    std::lock_guard<std::mutex> lk(mu_);
    queue_.push_back(job);
    queued_.store(queue_.size(), std::memory_order_release);
    if (idle_ == 0 && live_ < kMaxThreads) StartThreadLocked();
  }
  cv_.notify_one();  // no system call when the thread is spinning (no waiter)
  return Napi::Value(env, promise);
}

Napi::Value Executor::SubmitOwnThread(Napi::Env env, Job* job) {
  napi_value promise;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok) {
    delete job;
    NAPI_THROW(Napi::Error::New(env, "netns: cannot create a promise"), Napi::Value());
  }
  std::vector<std::thread> finished;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto it = solos_.begin(); it != solos_.end();) {
      if (it->job == nullptr) {
        finished.push_back(std::move(it->thread));
        it = solos_.erase(it);
      } else {
        ++it;
      }
    }
    solos_.emplace_back();
    Solo* solo = &solos_.back();
    solo->job = job;
    try {
      solo->thread = std::thread([this, solo, job] {
        pthread_setname_np(pthread_self(), "netns-helper-io");
        job->Work();
        {
          std::lock_guard<std::mutex> g(mu_);
          solo->job = nullptr;
        }
        tsfn_.BlockingCall(job);  // unbounded queue: never blocks
      });
    } catch (const std::system_error& e) {
      solos_.pop_back();
      for (auto& t : finished) t.join();
      napi_reject_deferred(env, job->deferred, ErrnoObject(env, e.code().value() ? e.code().value() : EAGAIN, "pthread_create"));
      delete job;
      return Napi::Value(env, promise);
    }
  }
  for (auto& t : finished) t.join();  // each has left its Work() and is exiting
  if (inflight_++ == 0) tsfn_.Ref(env);
  return Napi::Value(env, promise);
}

void Executor::Complete(Napi::Env env, Job* raw) {
  // The job (and the namespace fd it holds) is released whatever happens below.
  std::unique_ptr<Job> job(raw);
  bool last = --inflight_ == 0;
  try {
    Napi::HandleScope scope(env);
    bool reject = false;
    Napi::Value v;
    if (job->enterErr) {
      v = job->wayBackErr ? WayBackBarred(env, job->enterErr) : ErrnoObject(env, job->enterErr, "setns");
      reject = true;
    } else {
      try {
        v = job->Result(env, reject);
      } catch (const Napi::Error& e) {
        v = e.Value();
        reject = true;
      }
    }
    if (reject)
      napi_reject_deferred(env, job->deferred, v);
    else
      napi_resolve_deferred(env, job->deferred, v);
    if (last) tsfn_.Unref(env);
  } catch (const Napi::Error&) {
    // Only when the environment is being torn down (worker.terminate()): JavaScript can no
    // longer run, so there is nobody to resolve the promise for. An exception must not
    // escape this callback: it would terminate the whole process.
  }
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
    if (done > 0) tsfn_.BlockingCall(batch[0]);  // unbounded queue: never blocks
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
// inode) share one switch in and one switch back; the thread is always home again before it
// returns, i.e. before it waits for more work. Returns how many jobs ran; fewer than all
// only when switching back failed (`healthy` is then false and the thread must retire).
size_t Executor::RunBatch(std::vector<Job*>& batch, bool& healthy) {
  bool inside = false, insideKnown = false;
  dev_t inDev = 0;
  ino_t inIno = 0;
  size_t i = 0;
  auto leave = [&]() -> bool {
    inside = false;
    if (LeaveOrRetire(home_)) return true;
    fprintf(stderr,
            "netns: executor thread could not switch back to its namespace; retiring it "
            "(a new thread takes its place)\n");
    healthy = false;
    return false;
  };
  for (; i < batch.size(); i++) {
    Job* job = batch[i];
    if (job->nsfd >= 0) {
      // The identity is needed only to compare with a neighbour in this batch: a batch of one
      // (1 in flight) skips the fstat.
      struct stat st;
      bool needId = inside || i + 1 < batch.size();
      bool known = needId && fstat(job->nsfd, &st) == 0;
      bool same = inside && insideKnown && known && st.st_dev == inDev && st.st_ino == inIno;
      if (!same) {
        if (inside && !leave()) break;
        // Refuse, rather than strand the thread, when the way back is barred (checked once
        // per thread: the answer depends on the process's credentials, not on the job).
        static thread_local int wayBack = -1;
        int back = wayBack >= 0 ? wayBack : CheckWayBack(home_);
        if (IsSettledWayBack(back)) wayBack = back;  // transient failures are asked again
        job->wayBackErr = back != 0;
        job->enterErr = back ? back : Enter(job->nsfd);
        if (!job->enterErr) {
          inside = true;
          insideKnown = known;
          inDev = known ? st.st_dev : 0;
          inIno = known ? st.st_ino : 0;
        }
      }
      if (!job->enterErr) job->Work();
    } else {
      if (inside && !leave()) break;
      job->Work();
    }
    // The private dup is closed here rather than on the JS thread.
    close(job->nsfd);
    job->nsfd = -1;
  }
  if (inside) leave();  // on failure `healthy` is false: the thread retires after reporting
  return i;
}

void Executor::Shutdown(void* arg) {
  auto* ex = static_cast<Executor*>(arg);
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lk(ex->mu_);
    ex->stopping_ = true;
    threads.swap(ex->threads_);
    for (Solo& s : ex->solos_) {
      if (s.job) s.job->Abort();  // wake a thread still waiting (it completes with an error)
      threads.push_back(std::move(s.thread));
    }
    // The Solo entries stay until every thread is joined: a thread still writes its own.
  }
  ex->cv_.notify_all();
  for (auto& t : threads) t.join();  // every thread has left addon code after this
  ex->solos_.clear();
  for (Job* j : ex->queue_) delete j;
  ex->queue_.clear();
  ex->tsfn_.Release();
  close(ex->home_);
  delete ex;
}

}  // namespace netns
