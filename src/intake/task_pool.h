// TaskPool: long-lived threads for the engine scans of many messages.
//
// Each message asks clamd and rspamd at once; a thread per request would
// cost a clone/exit per scan (a measurable share of the intake's CPU, see
// BENCHMARKS.md). Threads are started on demand while none is idle, up to
// `max_threads`, and then stay; beyond that, tasks wait in order. Run is
// thread-safe; the destructor finishes the queued tasks and joins.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mailvault::intake {

class TaskPool {
 public:
  explicit TaskPool(size_t max_threads) : max_threads_(max_threads == 0 ? 1 : max_threads) {}
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  void Run(std::function<void()> task);

 private:
  void Loop();

  const size_t max_threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  size_t idle_ = 0;                          // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;         // guarded by mu_
};

}  // namespace mailvault::intake
