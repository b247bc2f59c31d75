// StoreImpl: opening, recovery and everything but the write pipeline
// (commit.cc). See store_impl.h for the design.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "base/units.h"
#include "env/reserve.h"
#include "store/codec.h"
#include "store/losses.h"
#include "store/store_impl.h"

namespace mailvault {

namespace {

constexpr size_t kRecoveryBatch = 1000;

Env& EnvOf(const StoreOptions& o) { return o.env != nullptr ? *o.env : *PosixEnv(); }
DataDir DataOf(const StoreOptions& o) { return DataDir(o.dir, o.keys_dir); }

// "20261207T153354Z", for file names.
std::string CompactTime(int64_t micros) {
  std::string out;
  for (char c : FormatRfc3339(micros).substr(0, 19)) {
    if (c != '-' && c != ':') out += c;
  }
  return out + "Z";
}

// The store's size cap. It is kept in store.json, the store's marker; a
// store from before it moved there (when settings.json held the policy and
// the cap together) has it in settings.json, which the store then reads,
// and only reads, until SetMaxSize writes it into store.json.
Result<uint64_t> ReadMaxSize(Env& env, const DataDir& data) {
  auto cap = [](const nlohmann::json& j) -> uint64_t {
    if (!j.is_object()) return 0;
    auto it = j.find("max_size");
    return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
  };
  MV_ASSIGN_OR_RETURN(std::string marker, env.ReadFile(data.store_marker()));
  auto j = nlohmann::json::parse(marker, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Corruption(data.store_marker() + " is not a store marker");
  }
  if (uint64_t v = cap(j); v > 0) return v;
  auto legacy = env.ReadFile(data.settings());
  if (!legacy.ok()) {
    if (legacy.status().IsNotFound()) return kDefaultMaxSize;
    return legacy.status().Annotate("read max_size from settings.json");
  }
  // A damaged settings.json is the policy's to report; the cap is then the default.
  uint64_t v = cap(nlohmann::json::parse(*legacy, nullptr, /*allow_exceptions=*/false));
  return v > 0 ? v : kDefaultMaxSize;
}

// Stands in for an index that could not be reopened after a swap, so that
// no call ever meets a null index; the store has stopped (failed_) then.
class UnavailableIndex final : public index::Index {
 public:
  explicit UnavailableIndex(Status why) : why_(std::move(why)) {}
  Status Insert(const std::vector<index::Entry>&, const index::Watermark&) override { return why_; }
  Result<index::Watermark> GetWatermark() override { return why_; }
  Result<SearchPage> Search(const SearchQuery&) override { return why_; }
  Result<index::Entry> Get(CopyId) override { return why_; }
  Result<std::vector<index::Entry>> Remove(const std::vector<CopyId>&) override { return why_; }
  Result<uint64_t> RemoveSegmentsUpTo(uint64_t) override { return why_; }
  Result<index::IndexStats> Stats() override { return why_; }
  Status ForEach(const std::function<bool(const index::Entry&)>&) override { return why_; }
  Status Clear() override { return why_; }
  Result<std::vector<index::Entry>> EntriesEndingAfter(uint64_t, uint64_t) override { return why_; }
  Result<std::vector<CopyId>> FindDuplicates(CopyId, const std::string&, const std::string&,
                                             int64_t, int64_t) override {
    return why_;
  }

 private:
  const Status why_;
};

}  // namespace

Status Store::Init(const StoreOptions& options) {
  Env& env = EnvOf(options);
  const DataDir data = DataOf(options);
  if (data.IsStore(env)) {
    return Status::AlreadyExists(options.dir + " is already a mailvault store");
  }
  if (env.Exists(options.dir)) {
    MV_ASSIGN_OR_RETURN(auto names, env.ListDir(options.dir));
    if (!names.empty()) {
      return Status::InvalidArgument(options.dir + " is not empty and not a mailvault store");
    }
  }
  MV_RETURN_IF_ERROR(data.CreateDirs(env));
  MV_RETURN_IF_ERROR(crypto::KeyRing::Create(env, data.keys()).status());
  MV_RETURN_IF_ERROR(EnsureReserve(env, options.dir));
  // The marker goes last: a store is a store once everything else is there.
  return env.WriteFileAtomic(data.store_marker(), "{\"format\": 1, \"created_at\": \"" +
                                                      FormatRfc3339(env.NowMicros()) + "\"}\n");
}

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  return store::StoreImpl::Open(options);
}

namespace store {

Result<std::unique_ptr<Store>> StoreImpl::Open(const StoreOptions& options) {
  Env& env = EnvOf(options);
  if (!DataOf(options).IsStore(env)) {
    return Status::InvalidArgument(options.dir +
                                   " is not a mailvault store (no store.json; run `mailvault "
                                   "init`)");
  }
  std::unique_ptr<StoreImpl> s(new StoreImpl(options, env));
  if (!options.read_only) {
    MV_ASSIGN_OR_RETURN(s->lock_, env.TryLock(s->data_.lock()));
  }
  if (options.keys != nullptr) {
    s->keys_ = options.keys;
    if (options.need_secret_key) {
      MV_RETURN_IF_ERROR(
          s->keys_->KeyPair(s->keys_->current_id()).status().Annotate("current secret key"));
    }
  } else {
    MV_ASSIGN_OR_RETURN(s->own_keys_,
                        crypto::KeyRing::Open(env, s->data_.keys(), options.need_secret_key));
    s->keys_ = s->own_keys_.get();
  }
  s->meta_cipher_ =
      std::make_unique<crypto::PageCipher>(s->keys_->Derived(crypto::KeyPurpose::kRecordMetadata));
  MV_ASSIGN_OR_RETURN(s->max_size_, ReadMaxSize(env, s->data_));
  MV_ASSIGN_OR_RETURN(s->segments_, Segments::Open(env, s->data_.segments(), !options.read_only));
  if (options.read_only) {
    index::IndexOptions io;
    io.path = s->data_.index();
    io.read_only = true;
    io.cache_bytes = options.index_cache_bytes;
    auto idx = index::Index::Open(io, s->keys_->Derived(crypto::KeyPurpose::kIndexPages));
    if (!idx.ok()) {
      Status st = idx.status().Annotate("open index");
      if (!st.IsCorruption()) return st;
      return Status::Corruption(st.message() +
                                "; the index is damaged: the daemon rebuilds it when it starts, "
                                "or run `mailvault rebuild-index` with the daemon stopped");
    }
    s->index_ = std::move(idx).value();
    return std::unique_ptr<Store>(std::move(s));
  }
  if (Status r = EnsureReserve(env, options.dir); !r.ok()) {
    s->Event("low_free_space", "no room for the space reserve: " + r.message());
  }
  MV_RETURN_IF_ERROR(s->OpenIndexAndRecover());
  s->indexer_ = std::thread([p = s.get()] { p->IndexerLoop(); });
  if (options.check_index && !s->rebuilt_)
    s->checker_ = std::thread([p = s.get()] { p->CheckIndexInBackground(); });
  return std::unique_ptr<Store>(std::move(s));
}

Status StoreImpl::OpenIndex() {
  index::IndexOptions io;
  io.path = data_.index();
  io.cache_bytes = options_.index_cache_bytes;
  io.sync_commits = false;  // segments are synced first; recovery re-indexes (store-format.md)
  MV_RETURN_IF_ERROR(CreatePrivateFileIfMissing(env_, io.path));
  MV_ASSIGN_OR_RETURN(index_,
                      index::Index::Open(io, keys_->Derived(crypto::KeyPurpose::kIndexPages)));
  return Status::Ok();
}

Status StoreImpl::OpenIndexAndRecover() {
  const std::string path = data_.index();
  const bool marked = env_.Exists(data_.index_rebuild());
  std::string why;
  bool damaged = marked;
  if (options_.rebuild_index) {
    why = "rebuild-index requested";
  } else if (marked) {
    why = "the index was found damaged earlier";
  } else {
    Status st = Checked(OpenIndex());
    if (st.ok()) st = Recover();
    if (st.ok()) return st;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!index_damaged_) return st.Annotate("open store");
    }
    why = st.message();
    damaged = true;
  }
  index_.reset();
  if (options_.rebuild_index && !damaged && env_.Exists(path)) {
    // Asked to rebuild an index that opens: keep it aside only if it is
    // damaged somewhere (the check reads every page, as the rebuild will).
    Status c = index::CheckIndexFile(path, keys_->Derived(crypto::KeyPurpose::kIndexPages));
    if (c.IsCorruption()) {
      damaged = true;
      why += " (" + c.message() + ")";
    }
  }
  MV_RETURN_IF_ERROR(BuildFreshIndex());
  MV_RETURN_IF_ERROR(SwapInFreshIndex(damaged, why));
  rebuilt_ = true;
  {
    std::lock_guard<std::mutex> l(mu_);
    index_damaged_ = false;
    failed_ = Status::Ok();
  }
  return Recover();
}

Status StoreImpl::BuildFreshIndex() {
  index::IndexOptions io;
  io.path = data_.index_new();
  io.sync_commits = false;  // synced as a whole below, before the swap
  for (std::string_view suffix : kDbSuffixes) {
    const std::string p = io.path + std::string(suffix);
    if (env_.Exists(p)) MV_RETURN_IF_ERROR(env_.Remove(p));
  }
  MV_RETURN_IF_ERROR(CreatePrivateFileIfMissing(env_, io.path));
  MV_ASSIGN_OR_RETURN(auto fresh,
                      index::Index::Open(io, keys_->Derived(crypto::KeyPurpose::kIndexPages)));
  std::vector<uint64_t> segs = segments_->List();
  index::Watermark from{segs.empty() ? 1 : segs.front(), 0};
  Status s = IndexSegmentsFrom(*fresh, from, /*cut_torn_tail=*/false);
  fresh.reset();  // the last connection checkpoints the WAL into the file and removes it
  if (!s.ok()) return s.Annotate("build a new index");
  // The checkpoint wrote without fsync (sync_commits=false): make the file
  // durable before it replaces anything.
  MV_ASSIGN_OR_RETURN(auto f, env_.OpenAppendable(io.path));
  MV_RETURN_IF_ERROR(f->Sync());
  return f->Close();
}

Status StoreImpl::SwapInFreshIndex(bool set_aside, const std::string& why) {
  const std::string path = data_.index();
  const std::string fresh = data_.index_new();
  std::string aside;
  if (set_aside) {
    aside = data_.index_damaged(CompactTime(env_.NowMicros()));
    for (std::string_view sx : kDbSuffixes) {
      const std::string suffix(sx);
      if (env_.Exists(path + suffix))
        MV_RETURN_IF_ERROR(env_.Rename(path + suffix, aside + suffix));
    }
  } else {
    for (std::string_view sx : kDbSuffixes) {
      const std::string suffix(sx);
      if (env_.Exists(path + suffix)) MV_RETURN_IF_ERROR(env_.Remove(path + suffix));
    }
  }
  for (std::string_view sx : kDbSuffixes) {
    const std::string suffix(sx);
    if (env_.Exists(fresh + suffix)) MV_RETURN_IF_ERROR(env_.Rename(fresh + suffix, path + suffix));
  }
  const std::string marker = data_.index_rebuild();
  if (env_.Exists(marker)) MV_RETURN_IF_ERROR(env_.Remove(marker));
  MV_RETURN_IF_ERROR(env_.SyncDir(options_.dir));
  MV_RETURN_IF_ERROR(OpenIndex());
  Event("index_rebuilt",
        "index rebuilt from the segments (" + why + ")" +
            (aside.empty() ? "" : "; the damaged index was set aside as " + aside));
  return Status::Ok();
}

void StoreImpl::CheckIndexInBackground() {
  Status s = index::CheckIndexFile(data_.index(), keys_->Derived(crypto::KeyPurpose::kIndexPages),
                                   &stop_check_);
  if (s.ok()) {
    Event("index_checked", "every page of the index passed its check");
  } else if (s.IsCorruption()) {
    OnIndexDamaged(s);
  } else if (!s.ok() && !stop_check_.load()) {
    Event("error", "the background check of the index could not run: " + s.ToString());
  }
}

StoreImpl::IndexRef StoreImpl::Idx() { return IndexRef(index_mu_, index_.get()); }

Status StoreImpl::Checked(Status s) {
  if (!s.IsCorruption()) return s;
  OnIndexDamaged(s);
  if (options_.read_only) {
    return Status::Corruption(s.message() +
                              "; the index is damaged: the daemon rebuilds it when it meets the "
                              "damage, or run `mailvault rebuild-index` with the daemon stopped");
  }
  return s;
}

void StoreImpl::OnIndexDamaged(const Status& why) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (index_damaged_) return;
    index_damaged_ = true;
    if (options_.read_only) return;
    if (failed_.ok()) {
      failed_ = Status::Unavailable("the index is damaged (" + why.message() +
                                    "); it is rebuilt from the segments when the store reopens");
    }
  }
  indexed_cv_.notify_all();
  Event("index_damaged",
        "the index is damaged (" + why.message() + "); it will be rebuilt from the segments");
  // The marker makes the rebuild happen at the next writer open, even after
  // a crash before it.
  Status m = env_.WriteFileAtomic(data_.index_rebuild(), why.message() + "\n");
  if (!m.ok()) Event("error", "cannot write the index rebuild marker: " + m.ToString());
}

StoreImpl::~StoreImpl() {
  stop_check_.store(true);
  if (checker_.joinable()) checker_.join();
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  indexer_cv_.notify_all();
  if (indexer_.joinable()) indexer_.join();
}

void StoreImpl::Event(std::string_view kind, const std::string& message) {
  if (options_.on_event) options_.on_event(kind, message);
}

// Recovery at open: forget index entries of segments that are gone, cut a
// torn tail, index what the index missed, and find the next id.
Status StoreImpl::Recover() {
  MV_RETURN_IF_ERROR(segments_->OpenActive(env_.NowMicros()));
  std::vector<uint64_t> segs = segments_->List();
  MV_ASSIGN_OR_RETURN(index::Watermark mark, Checked(index_->GetWatermark()));
  if (!segs.empty() && segs.front() > 1) {
    MV_ASSIGN_OR_RETURN(uint64_t gone, Checked(index_->RemoveSegmentsUpTo(segs.front() - 1)));
    if (gone > 0) {
      Event("recovery", "forgot " + std::to_string(gone) + " copies of evicted segments");
    }
  }
  if (mark.segment == 0) mark.segment = segs.empty() ? 1 : segs.front();
  MV_RETURN_IF_ERROR(CutBelowWatermark(&mark));
  MV_RETURN_IF_ERROR(Checked(IndexSegmentsFrom(*index_, mark, /*cut_torn_tail=*/true)));
  // Ids of deleted records still count, so scan the headers of the newest
  // segments: the active one, and the one before it in case the active one
  // was started just before a crash and holds nothing yet.
  MV_ASSIGN_OR_RETURN(index::IndexStats st, Checked(index_->Stats()));
  CopyId max_id = st.max_id;
  std::vector<uint64_t> newest = segments_->List();
  if (newest.size() > 2) newest.erase(newest.begin(), newest.end() - 2);
  for (uint64_t seg : newest) {
    auto scanned = segments_->Scan(seg, 0, [&](const RecordHeader& h, uint64_t, std::string_view) {
      max_id = std::max(max_id, h.id);
      return Status::Ok();
    });
    MV_RETURN_IF_ERROR(scanned.status());
  }
  std::lock_guard<std::mutex> l(mu_);
  next_id_ = max_id + 1;
  last_placed_ = st.newest;
  return Status::Ok();
}

Status StoreImpl::CutBelowWatermark(index::Watermark* mark) {
  const uint64_t seg = mark->segment;
  std::vector<uint64_t> segs = segments_->List();
  if (std::find(segs.begin(), segs.end(), seg) == segs.end()) return Status::Ok();
  MV_ASSIGN_OR_RETURN(auto file, segments_->File(seg));
  MV_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  if (size >= mark->offset) return Status::Ok();
  // Bytes the index says were there are gone: find the last good record.
  MV_ASSIGN_OR_RETURN(ScanResult r,
                      segments_->Scan(seg, 0, [](const RecordHeader&, uint64_t, std::string_view) {
                        return Status::Ok();
                      }));
  const uint64_t good = std::max<uint64_t>(r.end, kSegmentHeaderSize);
  MV_ASSIGN_OR_RETURN(std::vector<index::Entry> gone,
                      Checked(index_->EntriesEndingAfter(seg, good)));
  const std::string what = "segment " + std::to_string(seg) + " ends at byte " +
                           std::to_string(size) + ", inside indexed records (indexed up to " +
                           std::to_string(mark->offset) + ")";
  std::vector<Loss> losses;
  std::vector<CopyId> ids;
  std::string list;
  for (const index::Entry& e : gone) {
    losses.push_back({e.meta.id, env_.NowMicros(), what});
    ids.push_back(e.meta.id);
    list += (list.empty() ? "" : ", ") + std::to_string(e.meta.id);
  }
  // The loss is written down first: a crash below must not make it silent.
  MV_RETURN_IF_ERROR(RecordLosses(env_, options_.dir, losses));
  // The damaged bytes go before anything is appended after them.
  MV_RETURN_IF_ERROR(segments_->CutTail(seg, good));
  MV_RETURN_IF_ERROR(Checked(index_->Remove(ids).status()));
  *mark = {seg, good};
  MV_RETURN_IF_ERROR(Checked(index_->Insert({}, *mark)));
  Event("copies_lost", what + ": cut it at byte " + std::to_string(good) + "; " +
                           (ids.empty() ? std::string("no indexed copy") : "copies " + list) +
                           " lost; `mailvault verify` lists them until `mailvault repair "
                           "--accept-loss` acknowledges the loss");
  return Status::Ok();
}

Status StoreImpl::IndexSegmentsFrom(index::Index& idx, const index::Watermark& from,
                                    bool cut_torn_tail) {
  std::vector<index::Entry> pending;
  index::Watermark mark = from;
  auto flush = [&]() -> Status {
    if (pending.empty()) return Status::Ok();
    MV_RETURN_IF_ERROR(idx.Insert(pending, mark));
    pending.clear();
    return Status::Ok();
  };
  uint64_t recovered = 0;
  for (uint64_t seg : segments_->List()) {
    if (seg < from.segment) continue;
    uint64_t start = seg == from.segment ? from.offset : 0;
    auto r = segments_->Scan(
        seg, start, [&](const RecordHeader& h, uint64_t off, std::string_view rec) -> Status {
          mark = {seg, off + h.record_len()};
          if (h.type != RecordType::kCopy) return Status::Ok();
          auto meta = OpenMeta(rec, *meta_cipher_);
          if (!meta.ok()) {
            Event("corruption", "segment " + std::to_string(seg) + " offset " +
                                    std::to_string(off) + ": " + meta.status().message() +
                                    "; not indexed");
            return Status::Ok();
          }
          auto existing = idx.Get(h.id);
          if (existing.ok()) return Status::Ok();  // indexed already (rebuild over a partial index)
          pending.push_back({std::move(meta).value(), {seg, off, h.record_len(), h.key_id}});
          ++recovered;
          if (pending.size() >= kRecoveryBatch) return flush();
          return Status::Ok();
        });
    MV_RETURN_IF_ERROR(r.status());
    for (const std::string& p : r->problems) Event("corruption", p);
    if (r->end < r->file_size) {
      if (cut_torn_tail && seg == segments_->active_id()) {
        Event("recovery", "segment " + std::to_string(seg) + ": cut a torn tail of " +
                              std::to_string(r->file_size - r->end) + " bytes");
        MV_RETURN_IF_ERROR(flush());
        MV_RETURN_IF_ERROR(segments_->CutTail(seg, std::max<uint64_t>(r->end, kSegmentHeaderSize)));
      } else {
        Event("corruption", "segment " + std::to_string(seg) + ": " +
                                std::to_string(r->file_size - r->end) +
                                " bytes at the end are damaged");
      }
    }
    if (r->end > 0) mark = {seg, r->end};
  }
  MV_RETURN_IF_ERROR(flush());
  if (!(mark == from)) MV_RETURN_IF_ERROR(idx.Insert({}, mark));
  if (recovered > 0) {
    Event("recovery", "indexed " + std::to_string(recovered) + " copies found in the segments");
  }
  return Status::Ok();
}

Status StoreImpl::CheckWritable() {
  if (options_.read_only) return Status::Unavailable("the store is open read-only");
  std::lock_guard<std::mutex> l(mu_);
  return failed_;
}

Result<CopyMeta> StoreImpl::Get(CopyId id) {
  CatchUp();
  auto e = Checked(Idx()->Get(id));
  if (!e.ok()) {
    if (e.status().IsNotFound()) return Status::NotFound("no copy with id " + std::to_string(id));
    return e.status();
  }
  return std::move(e->meta);
}

Status StoreImpl::ReadTo(CopyId id, const std::function<Status(std::string_view)>& sink) {
  CatchUp();
  std::string what = "copy " + std::to_string(id);
  auto e = Checked(Idx()->Get(id));
  if (!e.ok()) {
    if (e.status().IsNotFound()) return Status::NotFound("no copy with id " + std::to_string(id));
    return e.status();
  }
  auto file = segments_->File(e->loc.segment);
  if (!file.ok()) return file.status().Annotate(what);
  uint64_t size = 0;
  Status s = StreamBody(**file, e->loc.offset, e->loc.length, *keys_, [&](std::string_view p) {
    size += p.size();
    return sink(p);
  });
  if (!s.ok()) return s.Annotate(what);
  if (size != e->meta.size) return Status::Corruption(what + ": size differs from the index");
  return Status::Ok();
}

Result<std::vector<CopyId>> StoreImpl::PossibleDuplicates(CopyId id) {
  CatchUp();
  auto idx = Idx();
  auto e = Checked(idx->Get(id));
  if (!e.ok()) {
    if (e.status().IsNotFound()) return Status::NotFound("no copy with id " + std::to_string(id));
    return e.status();
  }
  return Checked(idx->FindDuplicates(id, e->meta.message_id, e->meta.body_digest, e->meta.placed_at,
                                     kDuplicateWindowMicros));
}

}  // namespace store

Result<std::string> Store::Read(CopyId id) {
  std::string out;
  MV_RETURN_IF_ERROR(ReadTo(id, [&](std::string_view p) {
    out.append(p);
    return Status::Ok();
  }));
  return out;
}

namespace store {

Result<SearchPage> StoreImpl::Search(const SearchQuery& query) {
  CatchUp();
  return Checked(Idx()->Search(query));
}

Status StoreImpl::Delete(const std::vector<CopyId>& ids) {
  MV_RETURN_IF_ERROR(CheckWritable());
  CatchUp();
  std::vector<CopyId> missing;
  std::vector<CopyId> found;
  for (CopyId id : ids) {
    auto e = Checked(Idx()->Get(id));
    if (!e.ok()) {
      if (!e.status().IsNotFound()) return e.status();
      missing.push_back(id);
      continue;
    }
    // The segment first: once its record is marked, no rebuild can bring the
    // copy back, even if the index update below is lost.
    Status s = segments_->MarkDeleted(e->loc);
    if (!s.ok() && !s.IsNotFound()) return s.Annotate("delete copy " + std::to_string(id));
    found.push_back(id);
  }
  MV_RETURN_IF_ERROR(Checked(Idx()->Remove(found).status()));
  if (!missing.empty()) {
    std::string list;
    for (CopyId id : missing) list += (list.empty() ? "" : ", ") + std::to_string(id);
    return Status::NotFound("no copy with id " + list);
  }
  return Status::Ok();
}

Result<StoreStats> StoreImpl::Stats() {
  CatchUp();
  MV_ASSIGN_OR_RETURN(index::IndexStats is, Checked(Idx()->Stats()));
  StoreStats s;
  s.count = is.count;
  s.message_bytes = is.bytes;
  s.oldest = is.oldest;
  s.newest = is.newest;
  s.bytes = segments_->DiskBytes();
  s.segments = segments_->List().size();
  s.max_bytes = max_size();
  auto free = env_.FreeSpace(options_.dir);
  s.free_bytes = free.ok() ? *free : 0;
  return s;
}

Result<VerifyReport> StoreImpl::Verify() {
  CatchUp();
  VerifyReport report;
  std::set<CopyId> indexed;
  MV_RETURN_IF_ERROR(Checked(Idx()->ForEach([&](const index::Entry& e) {
    ++report.checked;
    indexed.insert(e.meta.id);
    std::string what = "copy " + std::to_string(e.meta.id) + ": ";
    auto rec = segments_->ReadRecord(e.loc);
    if (!rec.ok()) {
      report.problems.push_back(what + rec.status().ToString());
      return true;
    }
    auto h = CheckRecord(*rec);
    if (!h.ok()) {
      report.problems.push_back(what + h.status().ToString());
      return true;
    }
    auto meta = OpenMeta(*rec, *meta_cipher_);
    if (!meta.ok()) {
      report.problems.push_back(what + meta.status().ToString());
    } else if (!(*meta == e.meta)) {
      report.problems.push_back(what + "index entry differs from the record");
    }
    auto body = OpenBody(*rec, *keys_);
    if (!body.ok()) {
      report.problems.push_back(what + body.status().ToString());
    } else if (body->size() != e.meta.size) {
      report.problems.push_back(what + "size differs from the index");
    }
    return true;
  })));
  // Copies lost to damage found at open, until the loss is acknowledged.
  auto losses = ReadLosses(env_, options_.dir);
  if (!losses.ok()) {
    report.problems.push_back("the record of lost copies: " + losses.status().ToString());
  } else {
    for (const Loss& l : *losses) {
      report.problems.push_back("copy " + std::to_string(l.id) + " was lost to damage (" + l.what +
                                ", found " + FormatRfc3339(l.found_at) +
                                "); acknowledge with `mailvault repair --accept-loss`");
    }
  }
  // Records the index does not know about (outside a writer's recovery).
  MV_ASSIGN_OR_RETURN(index::Watermark mark, Checked(Idx()->GetWatermark()));
  for (uint64_t seg : segments_->List()) {
    auto r = segments_->Scan(seg, 0, [&](const RecordHeader& h, uint64_t off, std::string_view) {
      bool after_mark = seg > mark.segment || (seg == mark.segment && off >= mark.offset);
      if (h.type == RecordType::kCopy && !indexed.count(h.id) && !after_mark) {
        report.problems.push_back("segment " + std::to_string(seg) + " offset " +
                                  std::to_string(off) + ": copy " + std::to_string(h.id) +
                                  " is not in the index (run rebuild-index)");
      }
      return Status::Ok();
    });
    if (!r.ok()) {
      report.problems.push_back("segment " + std::to_string(seg) + ": " + r.status().ToString());
      continue;
    }
    for (const std::string& p : r->problems) report.problems.push_back(p);
    bool active = !options_.read_only && seg == segments_->active_id();
    if (r->end < r->file_size && !(options_.read_only && seg == segments_->List().back())) {
      report.problems.push_back("segment " + std::to_string(seg) + ": " +
                                std::to_string(r->file_size - r->end) +
                                " bytes at the end are damaged" + (active ? " (active)" : ""));
    }
  }
  return report;
}

Status StoreImpl::RebuildIndex() {
  MV_RETURN_IF_ERROR(CheckWritable());
  // The new index is built from the segments as they are now.
  MV_RETURN_IF_ERROR(HoldWrites());
  Status s = BuildFreshIndex();  // reads go on meanwhile, from the old index
  if (s.ok()) {
    std::unique_lock<std::shared_mutex> x(index_mu_);
    index_.reset();
    s = SwapInFreshIndex(/*set_aside=*/false, "rebuild-index requested");
    if (index_ == nullptr) {
      Status reopened = OpenIndex();
      if (!reopened.ok()) index_ = std::make_unique<UnavailableIndex>(reopened);
    }
  }
  if (!s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    failed_ = Status::Unavailable("rebuild-index failed (" + s.message() + "); reopen the store");
  }
  ReleaseWrites();
  return s;
}

Status StoreImpl::HoldWrites() {
  std::unique_lock<std::mutex> l(mu_);
  if (rebuilding_) return Status::Unavailable("a rebuild or repair of the store is running");
  rebuilding_ = true;
  cv_.wait(l, [&] { return !appending_ && to_index_.empty(); });
  return Status::Ok();
}

void StoreImpl::ReleaseWrites() {
  std::lock_guard<std::mutex> l(mu_);
  rebuilding_ = false;
  cv_.notify_all();
}

Result<LossReport> StoreImpl::AcceptLoss() {
  MV_RETURN_IF_ERROR(CheckWritable());
  MV_RETURN_IF_ERROR(HoldWrites());
  LossReport report;
  Status s = [&]() -> Status {
    std::set<CopyId> lost;
    MV_ASSIGN_OR_RETURN(std::vector<Loss> recorded, ReadLosses(env_, options_.dir));
    for (const Loss& l : recorded) lost.insert(l.id);
    // Copies the index lists whose records fail their checks.
    std::vector<index::Entry> bad;
    MV_RETURN_IF_ERROR(Checked(Idx()->ForEach([&](const index::Entry& e) {
      auto rec = segments_->ReadRecord(e.loc);
      bool ok = rec.ok() && CheckRecord(*rec).ok();
      if (ok) {
        auto meta = OpenMeta(*rec, *meta_cipher_);
        auto body = OpenBody(*rec, *keys_);
        ok = meta.ok() && *meta == e.meta && body.ok() && body->size() == e.meta.size;
      }
      if (!ok) bad.push_back(e);
      return true;
    })));
    std::vector<CopyId> bad_ids;
    for (const index::Entry& e : bad) {
      bad_ids.push_back(e.meta.id);
      lost.insert(e.meta.id);
      // A record whose header still reads is marked deleted in place; one
      // whose header is gone is framed below with the damaged region.
      if (segments_->MarkDeleted(e.loc).ok()) {
        report.actions.push_back("copy " + std::to_string(e.meta.id) +
                                 ": damaged record in segment " + std::to_string(e.loc.segment) +
                                 " at " + std::to_string(e.loc.offset) + " marked deleted");
      }
    }
    MV_RETURN_IF_ERROR(Checked(Idx()->Remove(bad_ids).status()));
    // Damaged regions and tails of every segment.
    for (uint64_t seg : segments_->List()) {
      MV_ASSIGN_OR_RETURN(
          ScanResult r,
          segments_->Scan(seg, 0, [](const RecordHeader&, uint64_t, std::string_view) {
            return Status::Ok();
          }));
      for (const ScanResult::Region& d : r.damaged) {
        if (d.id != 0) lost.insert(d.id);
        Status m = segments_->MarkDamaged(seg, d.offset, d.end, d.id);
        report.actions.push_back("segment " + std::to_string(seg) + ": bytes " +
                                 std::to_string(d.offset) + ".." + std::to_string(d.end) +
                                 (m.ok() ? " framed as a deleted record" : ": " + m.message()));
      }
      if (r.end < r.file_size) {
        MV_RETURN_IF_ERROR(segments_->CutTail(seg, std::max<uint64_t>(r.end, kSegmentHeaderSize)));
        report.actions.push_back("segment " + std::to_string(seg) + ": cut " +
                                 std::to_string(r.file_size - r.end) + " damaged bytes at the end");
      }
    }
    MV_RETURN_IF_ERROR(ClearLosses(env_, options_.dir));
    report.lost.assign(lost.begin(), lost.end());
    return Status::Ok();
  }();
  ReleaseWrites();
  if (!s.ok()) return s.Annotate("accept loss");
  std::string list;
  for (CopyId id : report.lost) list += (list.empty() ? "" : ", ") + std::to_string(id);
  Event("loss_accepted", "the administrator accepted the loss of " +
                             (list.empty() ? std::string("no copy") : "copies " + list) +
                             " to damage");
  return report;
}

uint64_t StoreImpl::max_size() {
  std::lock_guard<std::mutex> l(mu_);
  return max_size_;
}

Status StoreImpl::SetMaxSize(uint64_t bytes) {
  // The cap does not depend on the segments or the index: it can be
  // changed while the store refuses copies (a full disk is when a lower
  // cap helps), but not in a read-only store.
  if (options_.read_only) return Status::Unavailable("the store is open read-only");
  if (bytes == 0) return Status::InvalidArgument("max_size must be above zero");
  {
    std::lock_guard<std::mutex> m(marker_mu_);
    MV_ASSIGN_OR_RETURN(std::string marker, env_.ReadFile(data_.store_marker()));
    auto j = nlohmann::json::parse(marker, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      return Status::Corruption(data_.store_marker() + " is not a store marker");
    }
    j["max_size"] = bytes;
    MV_RETURN_IF_ERROR(WriteFileUsingReserve(env_, options_.dir, data_.store_marker(),
                                             j.dump(2) + "\n", options_.on_event)
                           .Annotate("write max_size"));
    std::lock_guard<std::mutex> l(mu_);
    max_size_ = bytes;
  }
  Evict();  // a lower cap takes effect now, not at the next write
  return Status::Ok();
}

Result<Store::KeyInfo> StoreImpl::AddKey() {
  MV_RETURN_IF_ERROR(CheckWritable());
  std::unique_lock<std::shared_mutex> k_lock(keys_mu_);
  MV_ASSIGN_OR_RETURN(crypto::KeyInfo k, keys_->AddKey());
  return KeyInfo{k.id, k.current, k.has_secret, k.fingerprint};
}

std::vector<Store::KeyInfo> StoreImpl::Keys() {
  std::vector<KeyInfo> out;
  std::shared_lock<std::shared_mutex> k_lock(keys_mu_);
  for (const crypto::KeyInfo& k : keys_->List()) {
    out.push_back({k.id, k.current, k.has_secret, k.fingerprint});
  }
  return out;
}

}  // namespace store
}  // namespace mailvault
