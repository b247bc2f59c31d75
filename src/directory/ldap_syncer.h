// LdapSyncer: the daemon's background refresh of the LDAP cache. A thread
// of its own syncs once at start (the caller goes on at once: the milter
// and the console never wait for the directory), then every
// sync_interval, and whenever SyncNow() asks. Each outcome goes to
// `on_result` (the daemon logs it); the cache's own state (LdapDirectory::
// State) keeps the last success and the last error for health reports and
// `mailvault ldap show`.
//
// Thread-safe. `directory` must outlive the syncer; Stop() (or the
// destructor) ends the thread, waiting at most for a sync in progress,
// which the per-operation timeout bounds.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "directory/ldap_directory.h"

namespace mailvault::directory {

class LdapSyncer {
 public:
  using OnResult = std::function<void(const Result<LdapSyncReport>&)>;

  static std::unique_ptr<LdapSyncer> Start(LdapDirectory& directory, int64_t interval_micros,
                                           OnResult on_result);
  ~LdapSyncer();
  LdapSyncer(const LdapSyncer&) = delete;
  LdapSyncer& operator=(const LdapSyncer&) = delete;

  // Asks for a sync as soon as the current one (if any) ends.
  void SyncNow();
  // How many syncs have ended (for tests).
  int64_t completed() const;
  void Stop();

 private:
  LdapSyncer(LdapDirectory& directory, int64_t interval_micros, OnResult on_result);
  void Run();

  LdapDirectory& directory_;
  const int64_t interval_micros_;
  const OnResult on_result_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;      // guarded by mu_
  bool requested_ = true;  // guarded by mu_: the first sync, at start
  int64_t completed_ = 0;  // guarded by mu_
  std::thread thread_;
};

}  // namespace mailvault::directory
