// The daemon's background sync: it syncs at start without blocking the
// caller, again on demand, keeps reporting failures (a server that is not
// there), and stops promptly though the interval is an hour.
#include "directory/ldap_syncer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "crypto/keyring.h"
#include "env/data_dir.h"
#include "env/env.h"
#include "testutil/temp_dir.h"

namespace mailvault::directory {
namespace {

TEST(LdapSyncer, SyncsAtStartOnDemandAndStops) {
  TempDir tmp;
  DataDir data(tmp.path());
  auto keys = crypto::KeyRing::Create(*PosixEnv(), data.keys());
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  LdapOptions o;
  o.enabled = true;
  o.servers = {"ldap://127.0.0.1:1"};  // nothing listens on port 1
  o.base_dn = "dc=example,dc=com";
  o.timeout_micros = 2'000'000;
  auto dir = LdapDirectory::Open(o, *PosixEnv(), data, **keys, false);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  std::atomic<int> failures{0};
  auto syncer = LdapSyncer::Start(**dir, 3'600'000'000, [&](const Result<LdapSyncReport>& r) {
    EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
    ++failures;
  });
  auto wait_for = [&](int n) {
    for (int i = 0; i < 500 && syncer->completed() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return syncer->completed() >= n;
  };
  ASSERT_TRUE(wait_for(1));
  syncer->SyncNow();
  ASSERT_TRUE(wait_for(2));
  EXPECT_EQ(failures.load(), 2);
  auto st = (*dir)->State();
  ASSERT_TRUE(st.ok());
  EXPECT_NE(st->last_error.find("no LDAP server reachable"), std::string::npos) << st->last_error;
  EXPECT_EQ(st->last_success, 0);
  syncer->Stop();  // returns although the next sync is an hour away
  EXPECT_EQ(syncer->completed(), 2);
}

}  // namespace
}  // namespace mailvault::directory
