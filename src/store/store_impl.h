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
//
// A damaged index (a page that fails authentication, a b-tree SQLite finds
// corrupt) is derived data: the first index call that meets the damage
// leaves a marker file (index.rebuild) and stops writes like a failed
// commit; the next writer open (ReopeningStore reopens by itself) sets the
// damaged file aside (index.db.damaged-<time>), builds a new index from the
// segments, swaps it in and syncs the directory. index_ is swapped only
// under index_mu_ held exclusively; every other use holds it shared (Idx()),
// and nobody takes mu_ before index_mu_ exclusively, so the two never
// deadlock.
#pragma once

#include <atomic>
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
#include "env/data_dir.h"
#include "env/env.h"
#include "mailvault/byte_source.h"
#include "mailvault/store.h"
#include "store/availability.h"
#include "store/index/index.h"
#include "store/segments.h"

namespace mailvault::store {

class StoreImpl final : public Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~StoreImpl() override;

  Result<CopyId> Put(const PutRequest& request) override;
  Result<CopyMeta> Get(CopyId id) override;
  Result<std::vector<CopyId>> PossibleDuplicates(CopyId id) override;
  Status ReadTo(CopyId id, const std::function<Status(std::string_view)>& sink) override;
  Result<SearchPage> Search(const SearchQuery& query) override;
  Status Delete(const std::vector<CopyId>& ids) override;
  Status Writable() override { return CheckWritable(); }
  Result<StoreStats> Stats() override;
  Availability availability() override { return availability_.Get(); }
  Result<VerifyReport> Verify() override;
  Status RebuildIndex() override;
  Result<LossReport> AcceptLoss() override;
  uint64_t max_size() override;
  Status SetMaxSize(uint64_t bytes) override;
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

  explicit StoreImpl(const StoreOptions& options, Env& env)
      : options_(options), data_(options.dir, options.keys_dir), env_(env) {}

  // The index, held shared: a rebuild swaps it only under index_mu_.
  class IndexRef {
   public:
    IndexRef(std::shared_mutex& mu, index::Index* idx) : lock_(mu), idx_(idx) {}
    index::Index* operator->() const { return idx_; }
    index::Index& operator*() const { return *idx_; }

   private:
    std::shared_lock<std::shared_mutex> lock_;
    index::Index* idx_;
  };
  IndexRef Idx();
  // Passes `s` through; a Corruption (the index is damaged) is reported
  // once and schedules a rebuild (OnIndexDamaged).
  Status Checked(Status s);
  template <typename T>
  Result<T> Checked(Result<T> r) {
    if (!r.ok()) return Checked(r.status());
    return r;
  }
  void OnIndexDamaged(const Status& why);

  // Opening for a writer: the index (rebuilt if asked or damaged), then
  // recovery.
  Status OpenIndexAndRecover();
  Status OpenIndex();
  // Builds a complete index of the segments in a new file beside index.db
  // (index.db.new, closed when done).
  Status BuildFreshIndex();
  // With index_ closed: moves the old index aside (`set_aside`, as
  // index.db.damaged-<time>) or removes it, renames the fresh one into
  // place, syncs the directory, drops the marker and opens it.
  Status SwapInFreshIndex(bool set_aside, const std::string& why);
  void CheckIndexInBackground();

  Result<CopyId> DoPut(const PutRequest& request);

  Status Recover();
  // At open: if the segment of the watermark is shorter than the watermark
  // (cut inside indexed records), cuts it back to its last good record,
  // records the copies lost (losses.h), forgets them and moves *mark.
  Status CutBelowWatermark(index::Watermark* mark);
  // Holds new appends and waits for those in flight to be indexed
  // (RebuildIndex, AcceptLoss); Release lets them go on.
  Status HoldWrites();
  void ReleaseWrites();
  // Waits until every batch acknowledged so far is indexed (or the store
  // failed or is stopping).
  void CatchUp();
  Status IndexSegmentsFrom(index::Index& idx, const index::Watermark& from, bool cut_torn_tail);
  Status CheckWritable();
  Status AppendBatch(const Batch& batch);
  void IndexerLoop();
  void Evict();
  void CheckFreeSpace();
  void Event(std::string_view kind, const std::string& message);
  uint64_t SegmentTarget();

  const StoreOptions options_;
  const DataDir data_;  // the paths of options_.dir
  Env& env_;
  std::unique_ptr<FileLock> lock_;
  std::shared_mutex keys_mu_;                  // AddKey excludes sealing
  std::unique_ptr<crypto::KeyRing> own_keys_;  // when options_.keys is null
  crypto::KeyRing* keys_ = nullptr;            // options_.keys or own_keys_
  std::unique_ptr<crypto::PageCipher> meta_cipher_;
  std::shared_mutex index_mu_;           // see IndexRef
  std::unique_ptr<index::Index> index_;  // guarded by index_mu_ (never null once open)
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
  uint64_t max_size_ = kDefaultMaxSize;             // guarded by mu_
  bool index_damaged_ = false;                      // guarded by mu_
  bool rebuilding_ = false;                         // RebuildIndex holds writes; guarded by mu_
  bool appending_ = false;                          // a leader is appending; guarded by mu_
  std::thread indexer_;
  std::atomic<bool> stop_check_{false};
  std::thread checker_;   // the background index check (options_.check_index)
  bool rebuilt_ = false;  // the index was rebuilt at open (so not checked again)

  AvailabilityTracker availability_;

  std::mutex marker_mu_;         // one SetMaxSize at a time (it rewrites store.json)
  std::mutex evict_mu_;          // one eviction at a time
  int64_t last_free_check_ = 0;  // guarded by evict_mu_
};

}  // namespace mailvault::store
