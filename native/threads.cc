#include "threads.h"

#include <pthread.h>

#include <cerrno>
#include <memory>
#include <new>
#include <system_error>

#include "netns.h"

namespace netns {

static int ThreadErrno(const std::system_error& e) {
  return e.code().value() ? e.code().value() : EAGAIN;
}

void Task::RunWork() noexcept {
  try {
    Work();
  } catch (const std::bad_alloc&) {
    workErr = ENOMEM;
    workSyscall = "malloc";
  }
}

void CallJsTrampoline(Napi::Env env, Napi::Function, Threads* self, Task* chain) {
  while (chain != nullptr) {
    Task* next = chain->next;
    if (env == nullptr)  // the environment is going away: nobody to tell
      delete chain;
    else
      self->Settle(env, chain);
    chain = next;
  }
}

Threads* Threads::Get(Napi::Env env) {
  AddonData* d = Data(env);
  if (d->threads) return d->threads;
  std::unique_ptr<Threads> self(new Threads());
  self->tsfn_ = ThreadsTsfn::New(env, "netns threads", 0, 1, self.get());
  self->tsfn_.Unref(env);
  // Registered after the thread-safe function, so it runs before the TSFN's own hook; and
  // before the executor's (Executor::Get calls this first), so it runs after that one, whose
  // threads Deliver() here until they are joined.
  napi_add_env_cleanup_hook(env, Shutdown, self.get());
  d->threads = self.release();
  return d->threads;
}

Napi::Value Threads::Track(Napi::Env env, Task* task) {
  napi_value promise;
  if (napi_create_promise(env, &task->deferred, &promise) != napi_ok) {
    delete task;
    throw Napi::Error::New(env, "netns: cannot create a promise");
  }
  if (inflight_++ == 0) tsfn_.Ref(env);
  return Napi::Value(env, promise);
}

void Threads::Untrack(Napi::Env env) {
  if (--inflight_ == 0) tsfn_.Unref(env);
}

Napi::Value Threads::Run(Napi::Env env, Task* task, const char* name) {
  Napi::Value promise = Track(env, task);
  std::vector<std::thread> done;
  {
    std::lock_guard<std::mutex> lk(mu_);
    done.swap(finished_);
    auto it = live_.emplace(live_.end());
    it->task = task;
    try {
      // The thread takes mu_ before it touches its entry: it->thread is assigned by then.
      it->thread = std::thread([this, it, name] {
        pthread_setname_np(pthread_self(), name);
        Task* t = it->task;
        t->RunWork();
        std::lock_guard<std::mutex> g(mu_);
        finished_.push_back(std::move(it->thread));
        live_.erase(it);
        // Live threads end before the cleanup hook releases the TSFN, so this succeeds; if it
        // ever did not, the task (and its Promise) would simply never settle.
        if (tsfn_.BlockingCall(t) != napi_ok) delete t;  // unbounded queue: never blocks
        cv_.notify_all();
        // Nothing of `this` is touched once the lock is released.
      });
    } catch (const std::system_error& e) {
      live_.erase(it);
      task->workErr = ThreadErrno(e);
      task->workSyscall = "pthread_create";
    }
  }
  for (std::thread& t : done) t.join();  // each has delivered its task and is returning
  if (task->workErr) Settle(env, task);  // no thread was started: reject now
  return promise;
}

void Threads::Deliver(Task* chain) {
  tsfn_.BlockingCall(chain);  // unbounded queue: never blocks
}

void Threads::Settle(Napi::Env env, Task* raw) {
  // The task (and what it holds) is released whatever happens below.
  std::unique_ptr<Task> task(raw);
  try {
    Napi::HandleScope scope(env);
    bool reject = false;
    Napi::Value v;
    if (task->workErr) {
      v = ErrnoObject(env, task->workErr, task->workSyscall);
      reject = true;
    } else {
      try {
        v = task->Result(env, reject);
      } catch (const Napi::Error& e) {
        v = e.Value();
        reject = true;
      }
    }
    if (reject)
      napi_reject_deferred(env, task->deferred, v);
    else
      napi_resolve_deferred(env, task->deferred, v);
    Untrack(env);
  } catch (const Napi::Error&) {
    // Only when the environment is being torn down (worker.terminate()): JavaScript can no
    // longer run, so there is nobody to settle the Promise for. An exception must not escape
    // this callback: it would terminate the whole process.
  }
}

void Threads::Shutdown(void* arg) {
  auto* self = static_cast<Threads*>(arg);
  {
    std::unique_lock<std::mutex> lk(self->mu_);
    for (Solo& s : self->live_) {
      s.task->aborted.store(true);
      s.task->Abort();
    }
    self->cv_.wait(lk, [self] { return self->live_.empty(); });
  }
  for (std::thread& t : self->finished_) t.join();  // every thread has left addon code now
  self->tsfn_.Release();
  delete self;
}

int RunOnFreshThread(const char* name, const std::function<void()>& fn) {
  try {
    std::thread t([&] {
      pthread_setname_np(pthread_self(), name);
      fn();
    });
    t.join();
    return 0;
  } catch (const std::system_error& e) {
    return ThreadErrno(e);
  }
}

}  // namespace netns
