#include "intake/task_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>

namespace mailvault::intake {
namespace {

TEST(TaskPool, RunsEveryTaskAndReusesThreads) {
  std::atomic<int> done{0};
  std::mutex mu;
  std::set<std::thread::id> ids;
  {
    TaskPool pool(4);
    for (int round = 0; round < 50; ++round) {
      std::vector<std::future<void>> waits;
      for (int i = 0; i < 3; ++i) {
        auto p = std::make_shared<std::promise<void>>();
        waits.push_back(p->get_future());
        pool.Run([&, p] {
          {
            std::lock_guard<std::mutex> lock(mu);
            ids.insert(std::this_thread::get_id());
          }
          ++done;
          p->set_value();
        });
      }
      for (auto& w : waits) w.get();
    }
  }
  EXPECT_EQ(done.load(), 150);
  EXPECT_LE(ids.size(), 4u);  // 150 tasks, at most max_threads threads
}

TEST(TaskPool, TasksBeyondTheLimitWaitTheirTurn) {
  TaskPool pool(1);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> order{0};
  int first = -1, second = -1;
  std::promise<void> both;
  pool.Run([&, gate] {
    gate.wait();
    first = order++;
  });
  pool.Run([&] {
    second = order++;
    both.set_value();
  });
  release.set_value();
  both.get_future().wait();
  EXPECT_EQ(first, 0);
  EXPECT_EQ(second, 1);
}

TEST(TaskPool, DestructorFinishesQueuedTasks) {
  std::atomic<int> done{0};
  {
    TaskPool pool(2);
    for (int i = 0; i < 20; ++i) pool.Run([&] { ++done; });
  }
  EXPECT_EQ(done.load(), 20);
}

}  // namespace
}  // namespace mailvault::intake
