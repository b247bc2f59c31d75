#include "store/segments.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace mailvault::store {
namespace {

constexpr std::string_view kSuffix = ".seg";
constexpr char kRecordMagicBytes[4] = {'M', 'V', 'R', '1'};
constexpr size_t kResyncBlock = 1 << 20;

std::string SegmentName(uint64_t segment) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016" PRIu64 ".seg", segment);
  return buf;
}

bool ParseSegmentName(const std::string& name, uint64_t* segment) {
  if (name.size() != 16 + kSuffix.size() || name.substr(16) != kSuffix) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < 16; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  *segment = v;
  return v > 0;
}

Status ReadExact(const RandomAccessFile& f, uint64_t offset, size_t n, std::string* out) {
  out->resize(n);
  MV_ASSIGN_OR_RETURN(size_t got, f.Read(offset, n, out->data()));
  if (got != n) return Status::Corruption("record runs past the end of its segment");
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Segments>> Segments::Open(Env& env, const std::string& dir, bool writable) {
  if (writable) MV_RETURN_IF_ERROR(env.CreateDir(dir));
  std::unique_ptr<Segments> s(new Segments(env, dir, writable));
  MV_ASSIGN_OR_RETURN(auto names, env.ListDir(dir));
  for (const std::string& name : names) {
    uint64_t id;
    if (!ParseSegmentName(name, &id)) continue;
    auto bytes = env.AllocatedSize(s->PathOf(id));
    s->disk_bytes_[id] = bytes.ok() ? *bytes : 0;
  }
  return s;
}

std::vector<uint64_t> Segments::List() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<uint64_t> out;
  for (const auto& [id, bytes] : disk_bytes_) out.push_back(id);
  return out;
}

std::string Segments::PathOf(uint64_t segment) const {
  return JoinPath(dir_, SegmentName(segment));
}

Result<std::shared_ptr<RandomAccessFile>> Segments::File(uint64_t segment) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = readers_.find(segment);
  if (it != readers_.end()) return it->second;
  auto f = env_.OpenRandomAccess(PathOf(segment));
  if (!f.ok()) {
    if (f.status().IsNotFound()) {
      return Status::NotFound("segment " + std::to_string(segment) + " is gone (evicted)");
    }
    return f.status();
  }
  std::shared_ptr<RandomAccessFile> shared(std::move(f).value());
  readers_[segment] = shared;
  return shared;
}

Result<std::string> Segments::ReadRecord(const index::Location& loc) {
  MV_ASSIGN_OR_RETURN(auto f, File(loc.segment));
  std::string out;
  Status s = ReadExact(*f, loc.offset, loc.length, &out);
  if (!s.ok()) return s.Annotate("segment " + std::to_string(loc.segment));
  return out;
}

Result<ScanResult> Segments::Scan(uint64_t segment, uint64_t from, const RecordFn& fn) {
  MV_ASSIGN_OR_RETURN(auto f, File(segment));
  MV_ASSIGN_OR_RETURN(uint64_t size, f->Size());
  ScanResult r;
  r.file_size = size;
  std::string buf;
  if (from < kSegmentHeaderSize) {
    Status hs = ReadExact(*f, 0, kSegmentHeaderSize, &buf);
    if (hs.ok()) hs = DecodeSegmentHeader(buf, segment);
    if (!hs.ok()) {
      // A segment whose header never became durable holds nothing acknowledged.
      r.end = 0;
      return r;
    }
    from = kSegmentHeaderSize;
  }
  uint64_t pos = from;
  // Tries to read a good record at `at`; sets *len on success.
  auto good_at = [&](uint64_t at, RecordHeader* h) -> bool {
    if (at + kRecordHeaderSize > size) return false;
    if (!ReadExact(*f, at, kRecordHeaderSize, &buf).ok()) return false;
    auto dh = DecodeRecordHeader(buf);
    if (!dh.ok() || at + dh->record_len() > size) return false;
    *h = *dh;
    if (h->type == RecordType::kDeleted) return true;
    if (!ReadExact(*f, at, h->record_len(), &buf).ok()) return false;
    return CheckTrailer(std::string_view(buf).substr(kRecordHeaderSize, h->payload_len),
                        std::string_view(buf).substr(kRecordHeaderSize + h->payload_len))
        .ok();
  };
  while (pos < size) {
    RecordHeader h;
    if (good_at(pos, &h)) {
      std::string_view rec = h.type == RecordType::kDeleted
                                 ? std::string_view(buf).substr(0, kRecordHeaderSize)
                                 : std::string_view(buf);
      MV_RETURN_IF_ERROR(fn(h, pos, rec));
      pos += h.record_len();
      continue;
    }
    // Damaged or torn: look for the next good record. If there is none, the
    // rest is a torn tail the caller may cut.
    uint64_t next = 0;
    std::string block;
    for (uint64_t at = pos + 1; at < size && next == 0; at += kResyncBlock) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(kResyncBlock + 3, size - at));
      block.resize(n);
      auto got = f->Read(at, n, block.data());
      if (!got.ok()) return got.status();
      block.resize(*got);
      for (size_t i = 0; i + 4 <= block.size() && i < kResyncBlock; ++i) {
        if (std::memcmp(block.data() + i, kRecordMagicBytes, 4) != 0) continue;
        RecordHeader cand;
        if (good_at(at + i, &cand)) {
          next = at + i;
          break;
        }
      }
    }
    if (next == 0) break;
    std::string what = "bytes " + std::to_string(pos) + ".." + std::to_string(next);
    ScanResult::Region region{pos, next, 0};
    if (ReadExact(*f, pos, kRecordHeaderSize, &buf).ok()) {
      if (auto dh = DecodeRecordHeader(buf); dh.ok()) {
        what = "copy " + std::to_string(dh->id) + " (" + what + ")";
        region.id = dh->id;
      }
    }
    r.damaged.push_back(region);
    r.problems.push_back("segment " + std::to_string(segment) + ": " + what +
                         " damaged and skipped");
    pos = next;
  }
  r.end = pos;
  return r;
}

Status Segments::Create(uint64_t segment, int64_t now) {
  std::string path = PathOf(segment);
  MV_ASSIGN_OR_RETURN(auto f, env_.OpenAppendable(path));
  if (f->Size() != 0) return Status::Corruption(path + " exists already");
  MV_RETURN_IF_ERROR(f->Append(EncodeSegmentHeader(segment, now)));
  MV_RETURN_IF_ERROR(f->Sync());
  MV_RETURN_IF_ERROR(env_.SyncDir(dir_));
  active_ = std::move(f);
  active_id_ = segment;
  std::lock_guard<std::mutex> l(mu_);
  disk_bytes_[segment] = kSegmentHeaderSize;
  return Status::Ok();
}

Status Segments::OpenActive(int64_t now) {
  if (!writable_) return Status::Unavailable("segments are open read-only");
  std::vector<uint64_t> ids = List();
  if (ids.empty()) return Create(1, now);
  uint64_t last = ids.back();
  MV_ASSIGN_OR_RETURN(auto f, env_.OpenAppendable(PathOf(last)));
  if (f->Size() < kSegmentHeaderSize) {
    // The header never became durable: start this segment again.
    MV_RETURN_IF_ERROR(f->Close());
    MV_RETURN_IF_ERROR(env_.Remove(PathOf(last)));
    {
      std::lock_guard<std::mutex> l(mu_);
      disk_bytes_.erase(last);
      readers_.erase(last);
    }
    return Create(last, now);
  }
  active_ = std::move(f);
  active_id_ = last;
  return Status::Ok();
}

uint64_t Segments::active_size() const { return active_ ? active_->Size() : 0; }

Status Segments::Roll(int64_t now) {
  if (active_) MV_RETURN_IF_ERROR(active_->Close());
  active_.reset();
  return Create(active_id_ + 1, now);
}

Status Segments::Append(std::string_view data) {
  if (!active_) return Status::Unavailable("no active segment");
  MV_RETURN_IF_ERROR(active_->Append(data));
  std::lock_guard<std::mutex> l(mu_);
  disk_bytes_[active_id_] += data.size();
  return Status::Ok();
}

Status Segments::Sync() {
  if (!active_) return Status::Unavailable("no active segment");
  return active_->Sync();
}

Status Segments::TruncateActive(uint64_t size) {
  if (!active_) return Status::Unavailable("no active segment");
  uint64_t before = active_->Size();
  active_.reset();
  MV_RETURN_IF_ERROR(env_.Truncate(PathOf(active_id_), size));
  MV_ASSIGN_OR_RETURN(active_, env_.OpenAppendable(PathOf(active_id_)));
  std::lock_guard<std::mutex> l(mu_);
  uint64_t& bytes = disk_bytes_[active_id_];
  bytes -= std::min(bytes, before - size);
  return Status::Ok();
}

Status Segments::CutTail(uint64_t segment, uint64_t size) {
  if (segment == active_id_ && active_) return TruncateActive(size);
  MV_RETURN_IF_ERROR(env_.Truncate(PathOf(segment), size));
  auto bytes = env_.AllocatedSize(PathOf(segment));
  std::lock_guard<std::mutex> l(mu_);
  disk_bytes_[segment] = bytes.ok() ? *bytes : size;
  return Status::Ok();
}

Status Segments::MarkDeleted(const index::Location& loc) {
  MV_ASSIGN_OR_RETURN(std::string header,
                      ReadRecord(index::Location{loc.segment, loc.offset, kRecordHeaderSize, 0}));
  MV_ASSIGN_OR_RETURN(RecordHeader h, DecodeRecordHeader(header));
  if (h.record_len() != loc.length) return Status::Corruption("record length disagrees with index");
  h.type = RecordType::kDeleted;
  {
    MV_ASSIGN_OR_RETURN(auto f, env_.OpenAppendable(PathOf(loc.segment)));
    MV_RETURN_IF_ERROR(f->WriteAt(loc.offset, EncodeRecordHeader(h)));
    MV_RETURN_IF_ERROR(f->Sync());
    MV_RETURN_IF_ERROR(f->Close());
  }
  MV_RETURN_IF_ERROR(
      env_.PunchHole(PathOf(loc.segment), loc.offset + kRecordHeaderSize, h.payload_len));
  auto bytes = env_.AllocatedSize(PathOf(loc.segment));
  std::lock_guard<std::mutex> l(mu_);
  if (bytes.ok() && disk_bytes_.count(loc.segment)) disk_bytes_[loc.segment] = *bytes;
  return Status::Ok();
}

Status Segments::MarkDamaged(uint64_t segment, uint64_t offset, uint64_t end, CopyId id) {
  if (end < offset + kRecordHeaderSize + kRecordTrailerSize) {
    return Status::InvalidArgument("segment " + std::to_string(segment) + ": damaged bytes " +
                                   std::to_string(offset) + ".." + std::to_string(end) +
                                   " are too few to frame as a deleted record");
  }
  RecordHeader h;
  h.type = RecordType::kDeleted;
  h.id = id;
  h.payload_len = end - offset - kRecordHeaderSize - kRecordTrailerSize;
  {
    MV_ASSIGN_OR_RETURN(auto f, env_.OpenAppendable(PathOf(segment)));
    MV_RETURN_IF_ERROR(f->WriteAt(offset, EncodeRecordHeader(h)));
    MV_RETURN_IF_ERROR(f->Sync());
    MV_RETURN_IF_ERROR(f->Close());
  }
  MV_RETURN_IF_ERROR(env_.PunchHole(PathOf(segment), offset + kRecordHeaderSize,
                                    end - offset - kRecordHeaderSize));
  auto bytes = env_.AllocatedSize(PathOf(segment));
  std::lock_guard<std::mutex> l(mu_);
  if (bytes.ok() && disk_bytes_.count(segment)) disk_bytes_[segment] = *bytes;
  return Status::Ok();
}

Status Segments::Remove(uint64_t segment) {
  MV_RETURN_IF_ERROR(env_.Remove(PathOf(segment)));
  MV_RETURN_IF_ERROR(env_.SyncDir(dir_));
  std::lock_guard<std::mutex> l(mu_);
  disk_bytes_.erase(segment);
  readers_.erase(segment);
  return Status::Ok();
}

uint64_t Segments::DiskBytes() const {
  std::lock_guard<std::mutex> l(mu_);
  uint64_t total = 0;
  for (const auto& [id, bytes] : disk_bytes_) total += bytes;
  return total;
}

}  // namespace mailvault::store
