// StoreImpl's write pipeline: Put, group commit, indexing, eviction. See the
// design note in store_impl.h.
#include <algorithm>
#include <chrono>

#include "base/metrics.h"
#include "base/units.h"
#include "crypto/release.h"
#include "mime/metadata.h"
#include "store/codec.h"
#include "store/store_impl.h"

namespace mailvault::store {
namespace {

constexpr uint64_t kMaxBatchBytes = 16 << 20;
constexpr size_t kMaxBatchCount = 1024;
// Records of messages from kBigMessage up are not built in memory: the
// leader reads them from the request's source and encrypts them straight
// into the segment, one chunk at a time, so a put of any size costs the
// store about one chunk of memory. Smaller ones are read and encrypted into
// a record in memory by their own thread.
constexpr uint64_t kBigMessage = 1 << 20;
constexpr int64_t kFreeCheckEvery = 10'000'000;  // 10 s

// The store's metrics (docs/metrics.md).
struct StoreMetrics {
  metrics::Histogram& commit_seconds = metrics::Global().HistogramOf(
      "mailvault_store_commit_duration_seconds",
      "Group commits: appending one batch of copies to the segment and syncing it.",
      metrics::LatencyBuckets());
  metrics::Histogram& batch_copies = metrics::Global().HistogramOf(
      "mailvault_store_commit_batch_copies", "Copies made durable by one group commit (one fsync).",
      metrics::CountBuckets(kMaxBatchCount));
  metrics::Counter& commit_errors = metrics::Global().CounterOf(
      "mailvault_store_commit_errors_total", "Group commits that failed (nothing acknowledged).");
  metrics::Counter& evicted_segments = metrics::Global().CounterOf(
      "mailvault_store_evicted_segments_total",
      "Segment files removed because the store was above its size cap.");
  metrics::Counter& evicted_copies = metrics::Global().CounterOf(
      "mailvault_store_evicted_copies_total",
      "Copies removed with them (oldest first, to get below the size cap).");
};

StoreMetrics& Metrics() {
  static StoreMetrics m;
  return m;
}

// The digest of a message's body (what follows the first empty line) in
// crypto::BodyDigest's canonical form, fed in any chunking.
class BodyHasher {
 public:
  void Feed(std::string_view p) {
    size_t i = 0;
    for (; !in_body_ && i < p.size(); ++i) {
      const char c = p[i];
      in_body_ = c == '\n' && (prev1_ == '\n' || (prev1_ == '\r' && prev2_ == '\n'));
      prev2_ = prev1_;
      prev1_ = c;
    }
    if (in_body_ && i < p.size()) digest_.Update(p.substr(i));
  }
  std::string Finish() { return digest_.Finish(); }

 private:
  crypto::BodyDigest digest_;
  bool in_body_ = false;
  char prev1_ = 0, prev2_ = 0;
};

// Empty if the source cannot be read (the put then fails on its own).
std::string DigestOfBody(const ByteSource& body, std::string_view raw) {
  BodyHasher h;
  if (!raw.empty()) {
    h.Feed(raw);
    return h.Finish();
  }
  std::string chunk;
  for (uint64_t off = 0; off < body.size(); off += chunk.size()) {
    chunk.clear();
    if (!body.ReadAt(off, 64 << 10, &chunk).ok() || chunk.empty()) return "";
    h.Feed(chunk);
  }
  return h.Finish();
}

}  // namespace

uint64_t StoreImpl::SegmentTarget() {
  if (options_.segment_size > 0) return options_.segment_size;
  uint64_t max_size = this->max_size();
  return std::clamp<uint64_t>(max_size / 16, 64 << 10, 64 << 20);
}

Result<CopyId> StoreImpl::Put(const PutRequest& req) {
  Result<CopyId> r = DoPut(req);
  availability_.Note(r.status(), env_.NowMicros());
  return r;
}

Result<CopyId> StoreImpl::DoPut(const PutRequest& req) {
  MV_RETURN_IF_ERROR(CheckWritable());
  if (req.source != nullptr && !req.raw.empty()) {
    return Status::InvalidArgument("the message is given twice (raw and source)");
  }
  // Lives until Put returns, which is after the leader has read it.
  const StringSource raw_source(req.raw);
  const ByteSource& body = req.source != nullptr ? *req.source : raw_source;
  const uint64_t size = body.size();
  if (size == 0) return Status::InvalidArgument("the message is empty");
  if (size > kMaxPayload / 2) return Status::InvalidArgument("the message is too large");
  for (const auto& [engine, label] : req.statuses) {
    MV_RETURN_IF_ERROR(ValidateStatus(engine, label));
  }

  Writer w;
  CopyMeta& m = w.meta;
  // The caller's extraction when it gives one (the milter parsed the
  // message already), else ours; the same fields either way.
  mime::MessageHeaders extracted;
  if (req.metadata == nullptr) extracted = mime::ExtractMetadata(body);
  const MessageMetadata& h = req.metadata != nullptr ? *req.metadata : extracted;
  m.from = h.from;
  m.to = h.to;
  m.cc = h.cc;
  m.subject = h.subject;
  m.message_id = h.message_id;
  m.sent_at = h.sent_at;
  m.attachments = h.attachments;
  m.bcc = mime::BccFromEnvelope(req.rcpt, h.to_addresses);
  m.mail_from = req.mail_from;
  m.rcpt = req.rcpt;
  m.rule_id = req.rule_id;
  m.statuses = req.statuses;
  m.reason = req.reason;
  m.queue_id = req.queue_id;
  m.size = size;
  m.body_digest = DigestOfBody(body, req.raw);

  {
    // Ids and placement times grow together, so the index can turn a time
    // range into an id range.
    std::lock_guard<std::mutex> l(mu_);
    m.id = next_id_++;
    m.placed_at = std::max(env_.NowMicros(), last_placed_ + 1);
    last_placed_ = m.placed_at;
  }
  m.received_at = req.received_at != 0 ? req.received_at : m.placed_at;
  if (size >= kBigMessage) {
    w.body = &body;
  } else {
    std::shared_lock<std::shared_mutex> k(keys_mu_);
    Status s = EncodeCopyRecord(m, body, *keys_, *meta_cipher_, &w.record);
    if (!s.ok()) return s.Annotate("read the message");
    w.loc.key_id = keys_->current_id();
  }

  std::unique_lock<std::mutex> l(mu_);
  writers_.push_back(&w);
  cv_.wait(l, [&] { return w.done || (writers_.front() == &w && !rebuilding_); });
  if (w.done) {
    if (!w.status.ok()) return w.status;
    return m.id;
  }

  // Leader: take the queue up to the batch limits, append and sync it.
  Batch batch;
  uint64_t bytes = 0;
  for (Writer* x : writers_) {
    const uint64_t x_bytes = x->body != nullptr ? x->meta.size : x->record.size();
    if (!batch.empty() && (bytes + x_bytes > kMaxBatchBytes || batch.size() >= kMaxBatchCount)) {
      break;
    }
    batch.push_back(x);
    bytes += x_bytes;
  }
  Status s = failed_;
  if (s.ok()) {
    appending_ = true;
    l.unlock();
    const auto started = std::chrono::steady_clock::now();
    s = AppendBatch(batch);
    StoreMetrics& m = Metrics();
    m.commit_seconds.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    m.batch_copies.Observe(static_cast<double>(batch.size()));
    if (!s.ok()) m.commit_errors.Add();
    l.lock();
    appending_ = false;
  }
  writers_.erase(writers_.begin(), writers_.begin() + static_cast<long>(batch.size()));
  if (s.ok()) {
    // Durable now: hand the entries to the indexer and answer the batch.
    std::vector<index::Entry> entries;
    entries.reserve(batch.size());
    for (Writer* x : batch) {
      if (x->unreadable.ok()) entries.push_back({x->meta, x->loc});
    }
    if (!entries.empty()) {  // empty when no message of the batch could be read
      to_index_.push_back(std::move(entries));
      ++synced_batches_;
      indexer_cv_.notify_one();
    }
  }
  for (Writer* x : batch) {
    x->status = x->unreadable.ok() ? s : x->unreadable;
    x->done = true;
  }
  cv_.notify_all();
  if (!w.status.ok()) return w.status;
  return m.id;
}

Status StoreImpl::AppendBatch(const Batch& batch) {
  if (segments_->active_size() >= SegmentTarget()) {
    Status s = segments_->Roll(env_.NowMicros());
    if (!s.ok()) {
      std::lock_guard<std::mutex> l(mu_);
      failed_ = s.Annotate("cannot start a new segment; reopen the store");
      return s;
    }
  }
  uint64_t start = segments_->active_size();
  Status s;
  for (Writer* w : batch) {
    w->loc.segment = segments_->active_id();
    w->loc.offset = segments_->active_size();
    if (w->body == nullptr) {
      w->loc.length = w->record.size();
      s = segments_->Append(w->record);
    } else {
      std::shared_lock<std::shared_mutex> k(keys_mu_);
      w->loc.key_id = keys_->current_id();
      Status append;  // the segment's last answer, to tell its errors from the source's
      auto n = WriteCopyRecord(w->meta, *w->body, *keys_, *meta_cipher_, [&](std::string_view p) {
        append = segments_->Append(p);
        return append;
      });
      if (n.ok()) {
        w->loc.length = *n;
      } else if (append.ok()) {
        // Its message could not be read (a spool error): only this put
        // fails. Its partial record is cut off and the batch goes on.
        w->unreadable = n.status().Annotate("read the message");
        s = segments_->TruncateActive(w->loc.offset);
      } else {
        s = append;
      }
    }
    if (!s.ok()) break;
  }
  if (!s.ok()) {
    // Nothing of this batch was acknowledged: cut it off and carry on (a full
    // disk may clear). If even that fails, stop taking writes.
    Status t = segments_->TruncateActive(start);
    if (!t.ok()) {
      std::lock_guard<std::mutex> l(mu_);
      failed_ = t.Annotate("cannot undo a failed append; reopen the store");
    }
    return s;
  }
  s = segments_->Sync();
  if (!s.ok()) {
    // The kernel may have dropped the pages: only recovery can tell.
    std::lock_guard<std::mutex> l(mu_);
    failed_ = Status::Unavailable("store stopped after a failed fsync (" + s.message() +
                                  "); restart to recover");
    return failed_;  // not stored: the caller should act as for an unavailable store
  }
  for (Writer* w : batch) {
    w->record = std::string();  // free memory before indexing
    w->body = nullptr;
  }
  return Status::Ok();
}

void StoreImpl::IndexerLoop() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    indexer_cv_.wait(l, [&] { return stopping_ || !to_index_.empty(); });
    if (to_index_.empty()) return;  // stopping, nothing left
    const size_t batches = to_index_.size();
    std::vector<index::Entry> entries;
    for (auto& b : to_index_) {
      entries.insert(entries.end(), std::make_move_iterator(b.begin()),
                     std::make_move_iterator(b.end()));
    }
    l.unlock();
    const index::Location& last = entries.back().loc;
    Status s = Checked(Idx()->Insert(entries, {last.segment, last.offset + last.length}));
    l.lock();
    to_index_.erase(to_index_.begin(), to_index_.begin() + static_cast<long>(batches));
    indexed_batches_ += batches;
    if (!s.ok() && failed_.ok()) {
      // The copies are durable; only reopening can bring the index level.
      failed_ =
          Status::Unavailable("index commit failed (" + s.message() + "); restart to recover");
      Event("error", failed_.message());
    }
    indexed_cv_.notify_all();
    cv_.notify_all();
    l.unlock();
    Evict();
    CheckFreeSpace();
    l.lock();
  }
}

void StoreImpl::CatchUp() {
  std::unique_lock<std::mutex> l(mu_);
  const uint64_t target = synced_batches_;
  indexed_cv_.wait(l, [&] { return indexed_batches_ >= target || !failed_.ok() || stopping_; });
}

void StoreImpl::Evict() {
  std::lock_guard<std::mutex> e(evict_mu_);
  uint64_t max_size = this->max_size();
  while (segments_->DiskBytes() > max_size) {
    std::vector<uint64_t> segs = segments_->List();
    uint64_t limit = segments_->active_id();
    {
      // Never a segment whose records still wait to be indexed.
      std::lock_guard<std::mutex> l(mu_);
      for (const auto& b : to_index_) limit = std::min(limit, b.front().loc.segment);
    }
    if (segs.empty() || segs.front() >= limit) {
      return;  // only the active segment is left: the cap is below one segment
    }
    uint64_t oldest = segs.front();
    // File first, then the index: an index entry without its file is cleaned
    // at the next open, but a file without index entries would linger.
    Status s = segments_->Remove(oldest);
    if (s.ok()) {
      auto n = Checked(Idx()->RemoveSegmentsUpTo(oldest));
      Metrics().evicted_segments.Add();
      if (n.ok()) Metrics().evicted_copies.Add(*n);
      Event("evicted", "size cap " + FormatSize(max_size) + " reached: removed segment " +
                           std::to_string(oldest) + " with " + std::to_string(n.ok() ? *n : 0) +
                           " oldest copies");
    } else {
      Event("error", "eviction of segment " + std::to_string(oldest) + " failed: " + s.ToString());
      return;
    }
  }
}

void StoreImpl::CheckFreeSpace() {
  std::lock_guard<std::mutex> e(evict_mu_);
  int64_t now = env_.NowMicros();
  if (now - last_free_check_ < kFreeCheckEvery) return;
  last_free_check_ = now;
  auto free = env_.FreeSpace(options_.dir);
  if (free.ok() && options_.on_free_space) options_.on_free_space(*free);
}

}  // namespace mailvault::store
