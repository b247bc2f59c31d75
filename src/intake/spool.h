// Spool: a message being received, held until the end-of-message decision.
//
// The milter appends header lines and body chunks as they arrive; the
// engines, the MIME walker and the store then read it back by offset
// (ByteSource). A message up to kMemoryBytes stays in memory; beyond that
// it goes, page by page, into an anonymous temp file (Env::NewTempFile:
// no name on disk, gone when the spool is dropped or the process dies) with
// every page sealed under a random key that exists only in this object
// (crypto::PageCipher, the page number bound in as associated data). So
// clear text never reaches the disk and a crash leaves nothing behind.
//
// Threads: Append/Reset from one thread; once appending is done, ReadAt may
// be called from several threads at once (the engines run in parallel).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "crypto/page_cipher.h"
#include "env/env.h"
#include "mailvault/byte_source.h"

namespace mailvault::intake {

class Spool final : public ByteSource {
 public:
  static constexpr size_t kPage = 16 * 1024;
  static constexpr size_t kMemoryBytes = 64 * 1024;

  // `env` must outlive the spool; `dir` must exist when the first
  // message larger than kMemoryBytes arrives.
  Spool(Env& env, std::string dir);
  ~Spool() override;
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Never fails for lack of disk: when the temp file cannot be created or
  // written (full or failing disk), the rest of the message stays in memory
  // and disk_error() says why, so the message can still be scanned and the
  // "Backup unavailable" setting decides what happens to it, not the spool.
  Status Append(std::string_view data);
  // Why the spool fell back to memory for this message; OK if it did not.
  const Status& disk_error() const { return disk_error_; }
  // Forgets the message (RSET, abort, next message): memory wiped, temp file
  // closed, a new key for the next one.
  void Reset();
  // True when the message went to a temp file.
  bool on_disk() const { return file_ != nullptr; }

  uint64_t size() const override { return size_; }
  Status ReadAt(uint64_t offset, size_t n, std::string* out) const override;

 private:
  Status Spill();
  Status ReadPage(uint64_t page, std::string* plain) const;

  Env& env_;
  const std::string dir_;
  std::unique_ptr<crypto::PageCipher> cipher_;
  std::unique_ptr<TempFile> file_;  // full sealed pages, once spilled
  uint64_t file_pages_ = 0;
  std::string tail_;  // bytes not in the file (all of them until spilled)
  uint64_t size_ = 0;
  Status disk_error_;

  mutable std::mutex cache_mu_;
  mutable uint64_t cached_page_ = UINT64_MAX;
  mutable std::string cached_;
};

}  // namespace mailvault::intake
