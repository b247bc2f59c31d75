// policy::Settings: the file of an older version loads (fixture), a change
// is kept across a reopen without touching what is not the policy's, a
// change on a full disk uses the reserve and leaves nothing behind, the
// free-space notice fires once per fall, and the size cap goes to the store.
#include "policy/settings.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "env/data_dir.h"
#include "env/reserve.h"
#include "testutil/fault_env.h"
#include "testutil/temp_dir.h"

namespace mailvault::policy {
namespace {

namespace fs = std::filesystem;

class SettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.File("data");
    fs::create_directory(dir_);
    opts_.dir = dir_;
    opts_.on_event = [this](std::string_view kind, std::string_view message) {
      events_.emplace_back(std::string(kind) + ": " + std::string(message));
    };
  }
  std::unique_ptr<Settings> Open() {
    auto s = Settings::Open(opts_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  TempDir tmp_{"mv-policy"};
  std::string dir_;
  SettingsOptions opts_;
  std::vector<std::string> events_;
};

// settings.json as `mailvault settings set` wrote it before the policy left
// the store (src/policy/testdata/settings-v1.json, the size cap included).
TEST_F(SettingsTest, FileOfTheVersionBeforeLoads) {
  fs::copy_file(fs::path(MV_SOURCE_DIR) / "src/policy/testdata/settings-v1.json",
                dir_ + "/settings.json");
  auto s = Open();
  ASSERT_NE(s, nullptr);
  Policy p = s->policy();
  EXPECT_EQ(p.notify_free_below, 2'000'000'000u);
  EXPECT_TRUE(p.allow_infected_delivery);
  EXPECT_EQ(p.unavailable_action, UnavailableAction::kReject);
  EXPECT_FALSE(p.html_preview);
  // A change keeps the size cap the store still reads from this file.
  p.html_preview = true;
  ASSERT_TRUE(s->Update(p).ok());
  EXPECT_NE(ReadAll(dir_ + "/settings.json").find("\"max_size\": 50000000"), std::string::npos);
  auto again = Open();
  EXPECT_TRUE(again->policy().html_preview);
  EXPECT_EQ(again->policy().unavailable_action, UnavailableAction::kReject);
}

TEST_F(SettingsTest, MissingFileIsTheDefaultAndADamagedOneIsRefused) {
  auto s = Open();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->policy().unavailable_action, UnavailableAction::kTempfail);
  EXPECT_FALSE(fs::exists(dir_ + "/settings.json"));
  {
    std::ofstream out(dir_ + "/settings.json");
    out << "{\"html_preview\": tru";
  }
  EXPECT_EQ(Settings::Open(opts_).status().code(), Code::kCorruption);
}

TEST_F(SettingsTest, ReadOnlyRefusesChanges) {
  opts_.read_only = true;
  auto s = Open();
  EXPECT_EQ(s->Update(Policy{}).code(), Code::kUnavailable);
  EXPECT_FALSE(fs::exists(dir_ + "/settings.json"));
}

// The administrator must be able to switch unavailable_action exactly when
// the disk is full: the reserve is released for it, and a write that still
// fails leaves no temp file behind and the policy as it was.
TEST_F(SettingsTest, ChangeOnAFullDiskUsesTheReserveAndLeavesNoTempFile) {
  FaultEnv fault(PosixEnv());
  opts_.env = &fault;
  ASSERT_TRUE(EnsureReserve(fault, dir_).ok());
  auto s = Open();
  fault.SetWriteBudget(0);
  Policy p = s->policy();
  p.unavailable_action = UnavailableAction::kReject;
  Status changed = s->Update(p);
  ASSERT_TRUE(changed.ok()) << changed.ToString();
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].rfind("reserve_released", 0), 0u) << events_[0];
  EXPECT_FALSE(fs::exists(dir_ + "/settings.json.tmp"));
  // No reserve left and still full: refused, and nothing left behind.
  fault.SetWriteBudget(0);
  p.html_preview = false;
  EXPECT_EQ(s->Update(p).code(), Code::kNoSpace);
  EXPECT_FALSE(fs::exists(dir_ + "/settings.json.tmp"));
  EXPECT_TRUE(s->policy().html_preview);
  fault.SetWriteBudget(UINT64_MAX);
  opts_.env = nullptr;
  EXPECT_EQ(Open()->policy().unavailable_action, UnavailableAction::kReject);
}

TEST_F(SettingsTest, LowFreeSpaceIsToldOncePerFall) {
  auto s = Open();
  Policy p = s->policy();
  p.notify_free_below = 1000;
  ASSERT_TRUE(s->Update(p).ok());
  s->OnFreeSpace(5000);
  EXPECT_TRUE(events_.empty());
  s->OnFreeSpace(999);
  s->OnFreeSpace(10);
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].rfind("low_free_space: ", 0), 0u) << events_[0];
  s->OnFreeSpace(1000);  // back above: the next fall is told again
  s->OnFreeSpace(500);
  EXPECT_EQ(events_.size(), 2u);
}

// Values and Apply: the size cap is the store's (kept in store.json), the
// rest goes to settings.json.
TEST_F(SettingsTest, ApplyGivesTheCapToTheStoreAndThePolicyToTheFile) {
  StoreOptions so;
  so.dir = tmp_.File("store");
  ASSERT_TRUE(Store::Init(so).ok());
  auto store = Store::Open(so);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  opts_.dir = so.dir;
  auto s = Open();
  SettingValues v = s->Values(**store);
  EXPECT_EQ(v.max_size, kDefaultMaxSize);
  ASSERT_TRUE(SetSetting(&v, "max_size", "2GB", nullptr).ok());
  ASSERT_TRUE(SetSetting(&v, "unavailable_action", "process", nullptr).ok());
  ASSERT_TRUE(s->Apply(**store, v).ok());
  EXPECT_EQ((*store)->max_size(), 2'000'000'000u);
  EXPECT_EQ(s->policy().unavailable_action, UnavailableAction::kProcess);
  EXPECT_EQ(ReadAll(so.dir + "/settings.json").find("max_size"), std::string::npos);
  EXPECT_NE(ReadAll(so.dir + "/store.json").find("2000000000"), std::string::npos);
  // A cap the store refuses changes nothing.
  v.max_size = 0;
  v.policy.html_preview = false;
  EXPECT_EQ(s->Apply(**store, v).code(), Code::kInvalidArgument);
  EXPECT_TRUE(s->policy().html_preview);
  EXPECT_EQ((*store)->max_size(), 2'000'000'000u);
}

}  // namespace
}  // namespace mailvault::policy
