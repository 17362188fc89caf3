// Blocking work pool (see emkit/work_pool.h).
#include "emkit/work_pool.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#if !defined(_WIN32)
#include <pthread.h>
#endif

namespace emkit {
namespace {

class WorkPool {
 public:
  // Runs one job; `call_mutex_` serialises concurrent callers.
  void run(int64_t n, int threads, const std::function<void(int64_t, int)>& fn) {
    std::lock_guard<std::mutex> call_lock(call_mutex_);
    const int helpers = threads - 1;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      while (static_cast<int>(workers_.size()) < helpers) {
        const int id = static_cast<int>(workers_.size()) + 1;
        workers_.emplace_back([this, id] { worker_loop(id); });
      }
      fn_ = &fn;
      n_ = n;
      next_.store(0);
      active_helpers_ = helpers;
      pending_ = helpers;
      ++generation_;
    }
    wake_.notify_all();
    drain(0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
    fn_ = nullptr;
  }

 private:
  void drain(int worker) {
    for (int64_t i = next_.fetch_add(1); i < n_; i = next_.fetch_add(1)) (*fn_)(i, worker);
  }

  void worker_loop(int id) {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (id > active_helpers_) continue;  // not needed for this job
      }
      drain(id);
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::mutex call_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(int64_t, int)>* fn_ = nullptr;
  int64_t n_ = 0;
  std::atomic<int64_t> next_{0};
  int active_helpers_ = 0;
  int pending_ = 0;
  uint64_t generation_ = 0;
};

// Intentionally leaked: workers never exit, and a forked child must not touch the
// parent's threads, mutexes or condition variables; it simply gets a new pool.
WorkPool* g_pool = nullptr;
std::once_flag g_atfork_once;

void forget_pool_in_child() { g_pool = nullptr; }

WorkPool& pool() {
#if !defined(_WIN32)
  std::call_once(g_atfork_once, [] { pthread_atfork(nullptr, nullptr, forget_pool_in_child); });
#endif
  static std::mutex create_mutex;
  std::lock_guard<std::mutex> lock(create_mutex);
  if (g_pool == nullptr) g_pool = new WorkPool();
  return *g_pool;
}

}  // namespace

void parallel_items(int64_t n, int threads, const std::function<void(int64_t, int)>& fn) {
  if (n <= 0) return;
  if (threads > n) threads = static_cast<int>(n);
  if (threads <= 1) {
    for (int64_t i = 0; i < n; ++i) fn(i, 0);
    return;
  }
  pool().run(n, threads, fn);
}

}  // namespace emkit
