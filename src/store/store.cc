// StoreImpl: opening, recovery and everything but the write pipeline
// (commit.cc). See store_impl.h for the design.
#include <algorithm>
#include <set>

#include "base/units.h"
#include "store/codec.h"
#include "store/settings.h"
#include "store/store_impl.h"

namespace mailvault {

namespace {

constexpr char kMarker[] = "store.json";
constexpr char kSettings[] = "settings.json";
constexpr char kLock[] = "LOCK";
constexpr char kIndexFile[] = "index.db";
constexpr size_t kRecoveryBatch = 1000;

Env& EnvOf(const StoreOptions& o) { return o.env != nullptr ? *o.env : *PosixEnv(); }
std::string KeysDir(const StoreOptions& o) {
  return o.keys_dir.empty() ? JoinPath(o.dir, "keys") : o.keys_dir;
}

}  // namespace

Status Store::Init(const StoreOptions& options) {
  Env& env = EnvOf(options);
  if (env.Exists(JoinPath(options.dir, kMarker))) {
    return Status::AlreadyExists(options.dir + " is already a mailvault store");
  }
  if (env.Exists(options.dir)) {
    MV_ASSIGN_OR_RETURN(auto names, env.ListDir(options.dir));
    if (!names.empty()) {
      return Status::InvalidArgument(options.dir + " is not empty and not a mailvault store");
    }
  }
  MV_RETURN_IF_ERROR(env.CreateDir(options.dir));
  MV_RETURN_IF_ERROR(crypto::KeyRing::Create(env, KeysDir(options)).status());
  MV_RETURN_IF_ERROR(env.CreateDir(JoinPath(options.dir, "segments")));
  MV_RETURN_IF_ERROR(
      env.WriteFileAtomic(JoinPath(options.dir, kSettings), EncodeSettings(StoreSettings{})));
  // The marker goes last: a store is a store once everything else is there.
  return env.WriteFileAtomic(
      JoinPath(options.dir, kMarker),
      "{\"format\": 1, \"created_at\": \"" + FormatRfc3339(env.NowMicros()) + "\"}\n");
}

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  return store::StoreImpl::Open(options);
}

namespace store {

Result<std::unique_ptr<Store>> StoreImpl::Open(const StoreOptions& options) {
  Env& env = EnvOf(options);
  if (!env.Exists(JoinPath(options.dir, kMarker))) {
    return Status::InvalidArgument(options.dir +
                                   " is not a mailvault store (no store.json; run `mailvault "
                                   "init`)");
  }
  std::unique_ptr<StoreImpl> s(new StoreImpl(options, env));
  if (!options.read_only) {
    MV_ASSIGN_OR_RETURN(s->lock_, env.TryLock(JoinPath(options.dir, kLock)));
  }
  MV_ASSIGN_OR_RETURN(s->keys_,
                      crypto::KeyRing::Open(env, KeysDir(options), options.need_secret_key));
  s->meta_cipher_ = std::make_unique<crypto::PageCipher>(s->keys_->index_key());
  {
    auto text = env.ReadFile(JoinPath(options.dir, kSettings));
    if (text.ok()) {
      MV_ASSIGN_OR_RETURN(s->settings_, DecodeSettings(*text));
    } else if (!text.status().IsNotFound()) {
      return text.status();
    }
  }
  MV_ASSIGN_OR_RETURN(s->segments_,
                      Segments::Open(env, JoinPath(options.dir, "segments"), !options.read_only));
  index::IndexOptions io;
  io.path = JoinPath(options.dir, kIndexFile);
  io.read_only = options.read_only;
  io.sync_commits = false;  // segments are synced first; recovery re-indexes (store-format.md)
  if (!options.read_only) MV_RETURN_IF_ERROR(CreatePrivateFileIfMissing(env, io.path));
  auto idx = index::Index::Open(io, s->keys_->index_key());
  if (!idx.ok() && !options.read_only && idx.status().IsCorruption()) {
    // The index is derived data: a damaged one is rebuilt from the segments.
    s->Event("index_rebuilt", "index unreadable (" + idx.status().message() + "); rebuilding");
    for (const char* suffix : {"", "-wal", "-shm"}) {
      env.Remove(io.path + suffix).IgnoreError();
    }
    MV_RETURN_IF_ERROR(CreatePrivateFileIfMissing(env, io.path));
    idx = index::Index::Open(io, s->keys_->index_key());
  }
  if (!idx.ok()) return idx.status().Annotate("open index");
  s->index_ = std::move(idx).value();
  if (!options.read_only) {
    MV_RETURN_IF_ERROR(s->Recover());
    s->indexer_ = std::thread([p = s.get()] { p->IndexerLoop(); });
  }
  return std::unique_ptr<Store>(std::move(s));
}

StoreImpl::~StoreImpl() {
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
  MV_ASSIGN_OR_RETURN(index::Watermark mark, index_->GetWatermark());
  if (!segs.empty() && segs.front() > 1) {
    MV_ASSIGN_OR_RETURN(uint64_t gone, index_->RemoveSegmentsUpTo(segs.front() - 1));
    if (gone > 0) {
      Event("recovery", "forgot " + std::to_string(gone) + " copies of evicted segments");
    }
  }
  if (mark.segment == 0) mark.segment = segs.empty() ? 1 : segs.front();
  MV_RETURN_IF_ERROR(IndexSegmentsFrom(mark, /*cut_torn_tail=*/true));
  // Ids of deleted records still count, so scan the headers of the newest
  // segments: the active one, and the one before it in case the active one
  // was started just before a crash and holds nothing yet.
  MV_ASSIGN_OR_RETURN(index::IndexStats st, index_->Stats());
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

Status StoreImpl::IndexSegmentsFrom(const index::Watermark& from, bool cut_torn_tail) {
  std::vector<index::Entry> pending;
  index::Watermark mark = from;
  auto flush = [&]() -> Status {
    if (pending.empty()) return Status::Ok();
    MV_RETURN_IF_ERROR(index_->Insert(pending, mark));
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
          auto existing = index_->Get(h.id);
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
  if (!(mark == from)) MV_RETURN_IF_ERROR(index_->Insert({}, mark));
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
  auto e = index_->Get(id);
  if (!e.ok()) {
    if (e.status().IsNotFound()) return Status::NotFound("no copy with id " + std::to_string(id));
    return e.status();
  }
  return std::move(e->meta);
}

Status StoreImpl::ReadTo(CopyId id, const std::function<Status(std::string_view)>& sink) {
  CatchUp();
  std::string what = "copy " + std::to_string(id);
  auto e = index_->Get(id);
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

Result<std::string> StoreImpl::Read(CopyId id) {
  std::string out;
  MV_RETURN_IF_ERROR(ReadTo(id, [&](std::string_view p) {
    out.append(p);
    return Status::Ok();
  }));
  return out;
}

Result<SearchPage> StoreImpl::Search(const SearchQuery& query) {
  CatchUp();
  return index_->Search(query);
}

Status StoreImpl::Delete(const std::vector<CopyId>& ids) {
  MV_RETURN_IF_ERROR(CheckWritable());
  CatchUp();
  std::vector<CopyId> missing;
  std::vector<CopyId> found;
  for (CopyId id : ids) {
    auto e = index_->Get(id);
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
  MV_RETURN_IF_ERROR(index_->Remove(found).status());
  if (!missing.empty()) {
    std::string list;
    for (CopyId id : missing) list += (list.empty() ? "" : ", ") + std::to_string(id);
    return Status::NotFound("no copy with id " + list);
  }
  return Status::Ok();
}

Result<StoreStats> StoreImpl::Stats() {
  CatchUp();
  MV_ASSIGN_OR_RETURN(index::IndexStats is, index_->Stats());
  StoreStats s;
  s.count = is.count;
  s.message_bytes = is.bytes;
  s.oldest = is.oldest;
  s.newest = is.newest;
  s.bytes = segments_->DiskBytes();
  s.segments = segments_->List().size();
  s.max_bytes = settings().max_size;
  auto free = env_.FreeSpace(options_.dir);
  s.free_bytes = free.ok() ? *free : 0;
  return s;
}

Result<VerifyReport> StoreImpl::Verify() {
  CatchUp();
  VerifyReport report;
  std::set<CopyId> indexed;
  MV_RETURN_IF_ERROR(index_->ForEach([&](const index::Entry& e) {
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
  }));
  // Records the index does not know about (outside a writer's recovery).
  MV_ASSIGN_OR_RETURN(index::Watermark mark, index_->GetWatermark());
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
  std::unique_lock<std::mutex> l(mu_);
  // Wait until no write is in flight, and keep new ones out meanwhile.
  cv_.wait(l, [&] { return writers_.empty() && to_index_.empty(); });
  MV_RETURN_IF_ERROR(index_->Clear());
  std::vector<uint64_t> segs = segments_->List();
  index::Watermark from{segs.empty() ? 1 : segs.front(), 0};
  Status s = IndexSegmentsFrom(from, /*cut_torn_tail=*/false);
  if (!s.ok()) failed_ = s.Annotate("rebuild-index failed; reopen the store");
  return s;
}

StoreSettings StoreImpl::settings() {
  std::lock_guard<std::mutex> l(mu_);
  return settings_;
}

Status StoreImpl::UpdateSettings(const StoreSettings& settings) {
  MV_RETURN_IF_ERROR(CheckWritable());
  MV_RETURN_IF_ERROR(
      env_.WriteFileAtomic(JoinPath(options_.dir, kSettings), EncodeSettings(settings)));
  {
    std::lock_guard<std::mutex> l(mu_);
    settings_ = settings;
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
