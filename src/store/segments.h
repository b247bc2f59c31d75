// Segments: the directory of append-only segment files (DATA/segments/
// NNNNNNNNNNNNNNNN.seg) and the I/O on them: appending to the active
// segment, reading a record at a location, scanning a segment for records
// (with resynchronisation past a damaged region), marking a record deleted
// in place, and removing whole oldest segments.
//
// Thread-safety: reads, scans, MarkDeleted and Remove may run on any thread
// concurrently; Append/Sync/Roll/TruncateActive are called by one thread at
// a time (the store's commit leader).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "env/env.h"
#include "store/index/index.h"
#include "store/record.h"

namespace mailvault::store {

struct ScanResult {
  uint64_t end = 0;                   // just past the last good record (or `from`)
  uint64_t file_size = 0;             // bytes after `end` are a torn or damaged tail
  std::vector<std::string> problems;  // damaged regions skipped in the middle
  struct Region {
    uint64_t offset = 0;
    uint64_t end = 0;
    CopyId id = 0;  // of the record whose header starts the region, if it reads; else 0
  };
  std::vector<Region> damaged;  // the same regions, for repair
};

// Called for each record found: header, its offset and the whole record
// (header to trailer) for a copy, or only the header bytes for a deleted one.
using RecordFn = std::function<Status(const RecordHeader&, uint64_t offset, std::string_view)>;

class Segments {
 public:
  // Lists the segment files under `dir` (created if writable and missing).
  // `env` must outlive the object.
  static Result<std::unique_ptr<Segments>> Open(Env& env, const std::string& dir, bool writable);
  Segments(const Segments&) = delete;
  Segments& operator=(const Segments&) = delete;

  std::vector<uint64_t> List() const;
  std::string PathOf(uint64_t segment) const;

  Result<std::string> ReadRecord(const index::Location& loc);
  // The segment's file for positional reads; NotFound once it is evicted.
  Result<std::shared_ptr<RandomAccessFile>> File(uint64_t segment);
  // Reads records of `segment` from `from` (0 = just after the segment header).
  Result<ScanResult> Scan(uint64_t segment, uint64_t from, const RecordFn& fn);

  // Writer side. OpenActive picks the newest segment or creates the first.
  Status OpenActive(int64_t now);
  uint64_t active_id() const { return active_id_; }
  uint64_t active_size() const;
  Status Roll(int64_t now);  // new synced segment, directory synced
  Status Append(std::string_view data);
  Status Sync();
  // Cuts the active segment back to `size` (after a failed append).
  Status TruncateActive(uint64_t size);
  // Cuts a torn tail off the active segment at open.
  Status CutTail(uint64_t segment, uint64_t size);

  // Rewrites the record header as deleted (synced), then frees its payload.
  Status MarkDeleted(const index::Location& loc);
  // Frames a damaged region [offset, end) of a segment as one deleted
  // record (header synced, the rest freed), so scans pass it without
  // complaint: the administrator has accepted its loss. InvalidArgument if
  // the region is too short to hold a record header and trailer.
  Status MarkDamaged(uint64_t segment, uint64_t offset, uint64_t end, CopyId id);
  // Unlinks a whole segment and syncs the directory.
  Status Remove(uint64_t segment);
  // Bytes the segments occupy on disk (allocated blocks).
  uint64_t DiskBytes() const;

 private:
  Segments(Env& env, std::string dir, bool writable)
      : env_(env), dir_(std::move(dir)), writable_(writable) {}
  Status Create(uint64_t segment, int64_t now);

  Env& env_;
  const std::string dir_;
  const bool writable_;
  mutable std::mutex mu_;
  std::map<uint64_t, uint64_t> disk_bytes_;  // segment -> allocated bytes; guarded by mu_
  std::map<uint64_t, std::shared_ptr<RandomAccessFile>> readers_;  // guarded by mu_
  uint64_t active_id_ = 0;
  std::unique_ptr<WritableFile> active_;  // used only by the commit leader
};

}  // namespace mailvault::store
