#include "store/reopening_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "env/env.h"
#include "testutil/fault_env.h"
#include "testutil/temp_dir.h"

namespace mailvault::store {
namespace {

std::string Message(int i) {
  return "From: a@example.com\r\nSubject: reopen " + std::to_string(i) + "\r\n\r\nbody " +
         std::to_string(i) + "\r\n";
}

PutRequest Request(const std::string& raw) {
  PutRequest r;
  r.raw = raw;
  r.rcpt = {"b@example.org"};
  return r;
}

TEST(ReopeningStore, RecoversAfterAFailedFsyncWithoutLosingAnything) {
  TempDir tmp("mv-reopen");
  StoreOptions o;
  o.dir = tmp.File("data");
  ASSERT_TRUE(Store::Init(o).ok());
  FaultEnv fault(PosixEnv());
  o.env = &fault;
  std::vector<std::string> events;
  std::mutex events_mu;
  o.on_event = [&](std::string_view kind, std::string_view) {
    std::lock_guard<std::mutex> l(events_mu);
    events.emplace_back(kind);
  };
  auto store = ReopeningStore::Open(o, /*retry_micros=*/20'000);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->SetMaxSize(3'000'000'000).ok());

  CopyId before = (*store)->Put(Request(Message(1))).value();
  fault.FailAt(FaultEnv::Op::kSync, 1, /*sticky=*/true);
  auto failed = (*store)->Put(Request(Message(2)));
  EXPECT_EQ(failed.status().code(), Code::kUnavailable);
  // While the disk keeps failing, every put fails again (the store may have
  // been reopened meanwhile, and stops again at the next fsync); the
  // administrator's size cap holds throughout.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE((*store)->Put(Request(Message(3))).ok());
  EXPECT_EQ((*store)->max_size(), 3'000'000'000u);

  fault.FailAt(FaultEnv::Op::kSync, 0);  // the disk is back
  Result<CopyId> after = Status::Unavailable("not tried");
  for (int i = 0; i < 250 && !after.ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    after = (*store)->Put(Request(Message(4)));
  }
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ((*store)->Read(before).value(), Message(1));
  EXPECT_EQ((*store)->Read(*after).value(), Message(4));
  EXPECT_EQ((*store)->max_size(), 3'000'000'000u);
  EXPECT_TRUE((*store)->Verify()->problems.empty());
  std::lock_guard<std::mutex> l(events_mu);
  EXPECT_NE(std::find(events.begin(), events.end(), "reopened"), events.end());
}

}  // namespace
}  // namespace mailvault::store
