// StoreImpl: the local, embedded Store (segments + encrypted index).
//
// Design note: the write path is a two-stage pipeline.
//  1. Each Put encrypts its record on the caller's thread (so 8 writers
//     encrypt on all cores; a large message is instead read from the
//     request's source and encrypted by the leader straight into the
//     segment, which is safe because its Put waits for the answer and so
//     keeps the source alive), then joins the writer queue. The
//     writer at the front is the leader: it takes everything queued behind it
//     (up to kMaxBatchBytes), appends it to the active segment, fsyncs once,
//     answers the whole batch and steps down. The copies are durable: the
//     segments are the source of truth. A large message whose source fails
//     to read is cut off the segment again and fails alone.
//  2. The indexer thread takes every synced batch waiting, inserts them in
//     one index transaction that also moves the watermark, and then evicts
//     whole oldest segments if the store is above its cap. Indexing thus
//     overlaps the next batches' encryption, appending and syncing instead
//     of adding to every Put's latency. Reads keep read-your-writes: each
//     read first waits (CatchUp) until everything acknowledged before it is
//     indexed, which is at most one index transaction away. A crash loses
//     nothing: recovery indexes whatever lies past the watermark.
// After a failed fsync or a failed index commit the store stops taking
// writes (Unavailable) until it is reopened and recovery has established
// what is on disk.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "crypto/keyring.h"
#include "crypto/page_cipher.h"
#include "env/env.h"
#include "index/index.h"
#include "mailvault/byte_source.h"
#include "mailvault/store.h"
#include "store/segments.h"

namespace mailvault::store {

class StoreImpl final : public Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~StoreImpl() override;

  Result<CopyId> Put(const PutRequest& request) override;
  Result<CopyMeta> Get(CopyId id) override;
  Result<std::string> Read(CopyId id) override;
  Status ReadTo(CopyId id, const std::function<Status(std::string_view)>& sink) override;
  Result<SearchPage> Search(const SearchQuery& query) override;
  Status Delete(const std::vector<CopyId>& ids) override;
  Status Writable() override { return CheckWritable(); }
  Result<StoreStats> Stats() override;
  Result<VerifyReport> Verify() override;
  Status RebuildIndex() override;
  StoreSettings settings() override;
  Status UpdateSettings(const StoreSettings& settings) override;
  Result<KeyInfo> AddKey() override;
  std::vector<KeyInfo> Keys() override;

 private:
  // One waiting Put. Lives on its Put's stack; the leader uses it (and
  // `body`) only until it sets `done`, and its Put returns only after that.
  struct Writer {
    CopyMeta meta;
    std::string record;                // built by the caller, or empty when streamed
    const ByteSource* body = nullptr;  // a streamed (large) message: read by the leader
    index::Location loc;
    Status unreadable;  // set by the leader when `body` failed: this put alone fails
    Status status;
    bool done = false;
  };
  using Batch = std::vector<Writer*>;

  explicit StoreImpl(const StoreOptions& options, Env& env) : options_(options), env_(env) {}

  Status Recover();
  // Waits until every batch acknowledged so far is indexed (or the store
  // failed or is stopping).
  void CatchUp();
  Status IndexSegmentsFrom(const index::Watermark& from, bool cut_torn_tail);
  Status CheckWritable();
  Status AppendBatch(const Batch& batch);
  void IndexerLoop();
  void Evict();
  void CheckFreeSpace();
  void Event(std::string_view kind, const std::string& message);
  uint64_t SegmentTarget();

  const StoreOptions options_;
  Env& env_;
  std::unique_ptr<FileLock> lock_;
  std::shared_mutex keys_mu_;  // AddKey excludes sealing
  std::unique_ptr<crypto::KeyRing> keys_;
  std::unique_ptr<crypto::PageCipher> meta_cipher_;
  std::unique_ptr<index::Index> index_;
  std::unique_ptr<Segments> segments_;

  std::mutex mu_;
  std::condition_variable cv_;                      // writers wait here for their turn or result
  std::condition_variable indexer_cv_;              // the indexer waits here for batches
  std::condition_variable indexed_cv_;              // readers wait here in CatchUp
  std::deque<Writer*> writers_;                     // guarded by mu_
  std::deque<std::vector<index::Entry>> to_index_;  // synced, not yet indexed; guarded by mu_
  uint64_t synced_batches_ = 0;                     // guarded by mu_
  uint64_t indexed_batches_ = 0;                    // guarded by mu_
  bool stopping_ = false;                           // guarded by mu_
  Status failed_;                                   // non-OK once writes must stop; guarded by mu_
  CopyId next_id_ = 1;                              // guarded by mu_
  int64_t last_placed_ = 0;                         // guarded by mu_
  StoreSettings settings_;                          // guarded by mu_
  std::thread indexer_;

  std::mutex evict_mu_;             // one eviction at a time
  int64_t last_free_check_ = 0;     // guarded by evict_mu_
  bool low_free_reported_ = false;  // guarded by evict_mu_
};

}  // namespace mailvault::store
