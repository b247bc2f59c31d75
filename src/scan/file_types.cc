// MagicPool and ListArchive (see file_types.h).
//
// Design notes for ListArchive.
// - Cost is bounded whatever the archive claims: at most max_entries
//   entries, and at most max_expanded bytes decompressed. Zip is read by
//   libarchive's seekable reader (the memory reader can seek), which lists
//   names from the central directory and skips entries without inflating
//   them. Every other format may have to decompress an entry to reach the
//   next header (tar.gz, solid 7z), so entry data is read here and counted
//   instead of letting libarchive skip it unseen.
// - A bare compressed file (x.exe.gz) is read as libarchive's "raw" format,
//   whose one entry is called "data"; its data is never decompressed, and
//   the name comes from the gzip header (FNAME) when there is one.
#include "scan/file_types.h"

#include <archive.h>
#include <archive_entry.h>
#include <magic.h>

#include <algorithm>
#include <array>
#include <cstdio>

#include "mime/text.h"

namespace mailvault::scan {
namespace {

constexpr size_t kMaxEntryName = 1024;

}  // namespace

namespace {

// libmagic's default database as one compiled buffer, if that is all it
// would load: each entry of its path list ("/etc/magic:/usr/share/misc/magic")
// is a compiled NAME.mgc or NAME itself, or a text file with nothing but
// comments (Debian's /etc/magic). Null otherwise (local rules in text form
// need libmagic's own loader), and the caller loads by path.
std::shared_ptr<const std::string> CompiledDefaultDatabase() {
  const char* paths = magic_getpath(nullptr, 0);
  if (paths == nullptr) return nullptr;
  auto read = [](const std::string& path, std::string* out) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return false;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out->append(buf, n);
    bool ok = std::ferror(f) == 0;
    std::fclose(f);
    return ok;
  };
  auto compiled = [](const std::string& b) {  // libmagic's MAGICNO, either byte order
    return b.size() >= 8 && (b.compare(0, 4, "\x1c\x04\x1e\xf1", 4) == 0 ||
                             b.compare(0, 4, "\xf1\x1e\x04\x1c", 4) == 0);
  };
  std::shared_ptr<std::string> database;
  std::string_view rest = paths;
  while (!rest.empty()) {
    size_t colon = rest.find(':');
    std::string path(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    if (path.empty()) continue;
    std::string bytes;
    if (!read(path + ".mgc", &bytes)) {
      bytes.clear();
      if (!read(path, &bytes)) continue;  // absent: libmagic skips it too
    }
    if (compiled(bytes)) {
      if (database != nullptr) return nullptr;  // two compiled files: let libmagic load them
      database = std::make_shared<std::string>(std::move(bytes));
      continue;
    }
    std::string_view text = bytes;  // text magic: only comments and blank lines?
    while (!text.empty()) {
      size_t nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
      size_t b = line.find_first_not_of(" \t\r");
      if (b != std::string_view::npos && line[b] != '#') return nullptr;
    }
  }
  return database;
}

}  // namespace

Result<magic_set*> MagicPool::NewHandle(int flags, const std::string* database) {
  magic_t m = magic_open(flags);
  if (m == nullptr) return Status::Unavailable("libmagic: cannot open a handle");
  int rc;
  if (database != nullptr) {
    // libmagic reads the buffer in place and never writes it.
    void* buffers[] = {const_cast<char*>(database->data())};
    size_t sizes[] = {database->size()};
    rc = magic_load_buffers(m, buffers, sizes, 1);
  } else {
    rc = magic_load(m, nullptr);
  }
  if (rc != 0) {
    std::string why = magic_error(m) != nullptr ? magic_error(m) : "unknown error";
    magic_close(m);
    return Status::Unavailable("libmagic: cannot load the default database: " + why);
  }
  return m;
}

Result<std::unique_ptr<MagicPool>> MagicPool::Open(bool text_checks) {
  int flags = MAGIC_MIME_TYPE | MAGIC_ERROR;
  if (!text_checks) {
    flags |=
        MAGIC_NO_CHECK_TEXT | MAGIC_NO_CHECK_ENCODING | MAGIC_NO_CHECK_CSV | MAGIC_NO_CHECK_JSON;
  }
  std::shared_ptr<const std::string> database = CompiledDefaultDatabase();
  MV_ASSIGN_OR_RETURN(magic_set * first, NewHandle(flags, database.get()));
  return std::unique_ptr<MagicPool>(new MagicPool(first, flags, std::move(database)));
}

MagicPool::MagicPool(magic_set* first, int flags, std::shared_ptr<const std::string> database)
    : flags_(flags), database_(std::move(database)) {
  idle_.push_back(first);
}

MagicPool::~MagicPool() {
  for (magic_set* m : idle_) magic_close(m);
}

Result<std::string> MagicPool::MimeType(std::string_view head) {
  magic_set* m = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      m = idle_.back();
      idle_.pop_back();
    }
  }
  if (m == nullptr) {
    MV_ASSIGN_OR_RETURN(m, NewHandle(flags_, database_.get()));
  }
  const char* type = magic_buffer(m, head.data(), head.size());
  Result<std::string> out = type != nullptr
                                ? Result<std::string>(std::string(type))
                                : Result<std::string>(Status::Corruption(
                                      std::string("libmagic: ") +
                                      (magic_error(m) != nullptr ? magic_error(m) : "failed")));
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(m);
  return out;
}

bool IsArchiveType(std::string_view t) {
  static constexpr std::string_view kTypes[] = {
      "application/zip",
      "application/x-zip-compressed",
      "application/x-7z-compressed",
      "application/x-rar",
      "application/vnd.rar",
      "application/x-rar-compressed",
      "application/x-tar",
      "application/x-gtar",
      "application/gzip",
      "application/x-gzip",
      "application/x-bzip2",
      "application/x-xz",
      "application/zstd",
      "application/x-lzma",
      "application/vnd.ms-cab-compressed",
      "application/x-cpio",
      "application/x-iso9660-image",
      "application/x-lha",
      "application/x-lzh-compressed",
  };
  return std::find(std::begin(kTypes), std::end(kTypes), t) != std::end(kTypes);
}

namespace {

using FilterFn = int (*)(struct archive*);

// The decompression filters libarchive has built in. A filter it was built
// without returns ARCHIVE_WARN and would run an external program instead.
const std::vector<FilterFn>& NativeFilters() {
  static const std::vector<FilterFn> filters = [] {
    std::vector<FilterFn> out;
    for (FilterFn f : {archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
                       archive_read_support_filter_xz, archive_read_support_filter_lzma,
                       archive_read_support_filter_zstd, archive_read_support_filter_lz4}) {
      struct archive* probe = archive_read_new();
      if (f(probe) == ARCHIVE_OK) out.push_back(f);
      archive_read_free(probe);
    }
    return out;
  }();
  return filters;
}

// The original file name in a gzip header, "" if none.
std::string GzipName(std::string_view b) {
  auto at = [&](size_t i) { return static_cast<uint8_t>(b[i]); };
  if (b.size() < 10 || at(0) != 0x1f || at(1) != 0x8b || (at(3) & 0x08) == 0) return {};
  size_t pos = 10;
  if (at(3) & 0x04) {  // FEXTRA
    if (b.size() < 12) return {};
    pos = 12 + (at(10) | (size_t{at(11)} << 8));
  }
  if (pos >= b.size()) return {};
  size_t end = b.find('\0', pos);
  if (end == std::string_view::npos) return {};
  return std::string(b.substr(pos, std::min(end - pos, kMaxEntryName)));
}

std::string EntryName(struct archive_entry* e) {
  const char* name = archive_entry_pathname_utf8(e);
  if (name == nullptr) name = archive_entry_pathname(e);
  return mime::CleanText(name == nullptr ? "" : name, kMaxEntryName);
}

}  // namespace

ArchiveListing ListArchive(std::string_view bytes, size_t max_entries, uint64_t max_expanded) {
  ArchiveListing out;
  struct archive* a = archive_read_new();
  for (FilterFn f : NativeFilters()) f(a);
  for (FilterFn f : {archive_read_support_format_zip, archive_read_support_format_7zip,
                     archive_read_support_format_rar, archive_read_support_format_rar5,
                     archive_read_support_format_tar, archive_read_support_format_cab,
                     archive_read_support_format_cpio, archive_read_support_format_iso9660,
                     archive_read_support_format_lha, archive_read_support_format_raw}) {
    f(a);
  }
  auto fail = [&](const char* what) {
    const char* why = archive_error_string(a);
    out.error =
        mime::CleanText(std::string(what) + (why != nullptr ? std::string(": ") + why : ""), 512);
  };
  if (archive_read_open_memory(a, bytes.data(), bytes.size()) != ARCHIVE_OK) {
    fail("cannot open archive");
    archive_read_free(a);
    return out;
  }
  std::array<char, 64 * 1024> scratch;
  uint64_t expanded = 0;
  for (;;) {
    struct archive_entry* e = nullptr;
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {  // ARCHIVE_FAILED or ARCHIVE_FATAL
      fail("cannot read archive");
      if (archive_read_has_encrypted_entries(a) > 0) out.encrypted = true;
      break;
    }
    if (archive_format(a) == ARCHIVE_FORMAT_RAW) {
      // Raw takes anything; it only means something under a decompressor.
      if (archive_filter_code(a, 0) == ARCHIVE_FILTER_NONE) {
        out.error = "not an archive libarchive reads";
        break;
      }
      std::string name = mime::CleanText(GzipName(bytes), kMaxEntryName);
      if (!name.empty()) out.entries.push_back({std::move(name), false});
      break;  // one entry; never decompressed
    }
    if (out.entries.size() >= max_entries) {
      out.truncated = true;
      break;
    }
    bool encrypted = archive_entry_is_encrypted(e) != 0;
    out.encrypted = out.encrypted || encrypted;
    if (archive_entry_filetype(e) != AE_IFDIR) out.entries.push_back({EntryName(e), encrypted});
    if (archive_format(a) == ARCHIVE_FORMAT_ZIP || encrypted) continue;  // skipped unread
    for (;;) {
      la_ssize_t n = archive_read_data(a, scratch.data(), scratch.size());
      if (n <= 0) break;  // end of entry, or an error the next header reports
      expanded += static_cast<uint64_t>(n);
      if (expanded > max_expanded) break;
    }
    if (expanded > max_expanded ||
        static_cast<uint64_t>(archive_filter_bytes(a, 0)) > max_expanded) {
      out.truncated = true;
      break;
    }
  }
  archive_read_free(a);
  return out;
}

}  // namespace mailvault::scan
