// ReopeningStore: a writable Store that recovers by itself after a failure
// that needs a reopen (a failed fsync or index commit stops a store's
// writes, CONVENTIONS.md §6). A watcher thread notices that the store
// stopped taking writes, closes it and opens it again, which runs recovery
// (torn tail cut, missed records indexed); while the disk is still failing
// it retries every `retry` interval. Meanwhile every call answers
// Unavailable with the reason, so the gateway's unavailable_action applies,
// and nothing acknowledged is lost: acknowledgement always meant synced.
//
// This is what a long-running daemon wants; the CLI opens stores directly.
// Thread-safe: calls run concurrently under a shared lock; a reopen takes it
// exclusively, so it waits for calls in flight.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "mailvault/store.h"
#include "store/availability.h"

namespace mailvault::store {

class ReopeningStore final : public Store {
 public:
  // Opens the store (like Store::Open) and starts the watcher.
  static Result<std::unique_ptr<ReopeningStore>> Open(const StoreOptions& options,
                                                      int64_t retry_micros);
  ~ReopeningStore() override;

  Result<CopyId> Put(const PutRequest& request) override;
  Result<CopyMeta> Get(CopyId id) override;
  Result<std::vector<CopyId>> PossibleDuplicates(CopyId id) override;
  Status ReadTo(CopyId id, const std::function<Status(std::string_view)>& sink) override;
  Result<SearchPage> Search(const SearchQuery& query) override;
  Status Delete(const std::vector<CopyId>& ids) override;
  Status Writable() override;
  Result<StoreStats> Stats() override;
  // Tracked here, across reopens (a store being recovered refuses too).
  Availability availability() override { return availability_.Get(); }
  Result<VerifyReport> Verify() override;
  Status RebuildIndex() override;
  Result<LossReport> AcceptLoss() override;
  // The cap as last known while the store is being recovered.
  uint64_t max_size() override;
  Status SetMaxSize(uint64_t bytes) override;
  Result<KeyInfo> AddKey() override;
  std::vector<KeyInfo> Keys() override;

  // Reopens now if the store has stopped taking writes; OK if it takes
  // writes afterwards. The watcher calls this; tests may too.
  Status RecoverIfStopped();

 private:
  ReopeningStore(const StoreOptions& options, int64_t retry_micros)
      : options_(options), retry_micros_(retry_micros) {}
  void Watch();
  // Runs fn on the open store, or answers why there is none.
  template <typename R, typename Fn>
  R With(Fn&& fn);

  const StoreOptions options_;
  const int64_t retry_micros_;
  std::shared_mutex mu_;
  std::unique_ptr<Store> inner_;              // null while reopening failed; guarded by mu_
  Status down_;                               // why inner_ is null; guarded by mu_
  uint64_t last_max_size_ = kDefaultMaxSize;  // the cap as last known; guarded by mu_
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // guarded by stop_mu_
  std::thread watcher_;
  AvailabilityTracker availability_;
};

}  // namespace mailvault::store
