// File formats by content (libmagic) and the entry names of archives
// (libarchive), for the content filter.
//
// MagicPool: libmagic handles are not thread-safe and loading the compiled
// database costs milliseconds and megabytes, so a pool keeps loaded handles
// and lends one per call. It grows to the number of concurrent callers (a
// milter runs a thread per connection, so per-thread handles would reload the
// database for every connection) and never shrinks. The compiled database
// (8 MB in file 5.44) is read into memory once and every handle uses that
// one copy (magic_load_buffers): loaded by path, each handle maps the file
// again, and the process's resident size grew by 8 MB with each handle the
// pool added under load. Thread-safe.
//
// ListArchive: pure function over bytes in memory, thread-safe. Only
// libarchive's built-in decompressors are used, never the external programs
// it would otherwise spawn for formats it was built without.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/status.h"

struct magic_set;  // libmagic's handle (magic_t)

namespace mailvault::scan {

class MagicPool {
 public:
  // Loads libmagic's default database into a first handle. Unavailable if it
  // cannot be loaded (no database installed). Without `text_checks`
  // libmagic skips its text tests (MAGIC_NO_CHECK_TEXT and friends): text
  // then reads as application/octet-stream, binary formats are found as
  // before, and a 20 KB text part costs ~0.8 ms instead of ~6 ms. Callers
  // that must recognise text formats (text/x-shellscript) ask for them.
  static Result<std::unique_ptr<MagicPool>> Open(bool text_checks = true);
  ~MagicPool();
  MagicPool(const MagicPool&) = delete;
  MagicPool& operator=(const MagicPool&) = delete;

  // The MIME type ("application/zip") libmagic gives the first bytes of a
  // file; Unavailable if no handle can be made, Corruption if libmagic fails.
  Result<std::string> MimeType(std::string_view head);

 private:
  MagicPool(magic_set* first, int flags, std::shared_ptr<const std::string> database);
  // A handle over `database` (compiled magic), or over libmagic's default
  // files if it is null.
  static Result<magic_set*> NewHandle(int flags, const std::string* database);

  const int flags_;
  // The compiled database every handle reads; null: each handle loaded the
  // default files itself (a local, uncompiled /etc/magic is in use).
  const std::shared_ptr<const std::string> database_;
  std::mutex mu_;
  std::vector<magic_set*> idle_;  // guarded by mu_; owned
};

// True for the MIME types (as libmagic names them) of the archive and
// compressed-file formats ListArchive opens: zip, 7z, rar, tar, gzip, bzip2,
// xz, zstd, cab, cpio, iso9660, lha.
bool IsArchiveType(std::string_view mime_type);

struct ArchiveEntry {
  std::string name;  // path inside the archive, cleaned UTF-8
  bool encrypted = false;
};

struct ArchiveListing {
  std::vector<ArchiveEntry> entries;  // files only, no directories
  bool encrypted = false;             // some entries (or the whole index) are encrypted
  bool truncated = false;             // a listing limit was reached
  std::string error;                  // why listing stopped early, "" if it did not
};

// The entries of the archive in `bytes`, one level deep (archives inside are
// not opened). A single compressed file (x.gz) lists the original name from
// its gzip header, if any. Listing stops, with truncated set, after
// `max_entries` entries or once `max_expanded` bytes have been decompressed
// to walk it (a tar.gz or solid 7z bomb).
ArchiveListing ListArchive(std::string_view bytes, size_t max_entries = 10000,
                           uint64_t max_expanded = 256ull * 1024 * 1024);

}  // namespace mailvault::scan
