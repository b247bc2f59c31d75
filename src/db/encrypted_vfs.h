// EncryptedVfs: an SQLite VFS that keeps a database and its WAL encrypted at
// rest, page by page, with crypto::PageCipher, over SQLite's default "unix"
// VFS. It exists so that no field of any copy reaches the disk in clear.
//
// A database opened through it must use 4096-byte pages with
// kReserveBytes reserved at the end of each page (the cipher's MAC and
// nonce go there), WAL journaling, temp_store=MEMORY and no mmap; the VFS
// refuses to open rollback journals, temp files and anything else that
// could hold clear pages (SQLITE_CANTOPEN), and refuses to write a page 1
// that does not declare that page size and reserve (SQLITE_IOERR_WRITE).
// A page that fails authentication (wrong key, altered or misplaced) reads
// as SQLITE_IOERR_DATA. The file format is described in encrypted_vfs.cc.
//
// Each instance registers its own VFS under a unique name and holds its key;
// open connections with sqlite3_open_v2(path, ..., vfs.name()). Thread-safe:
// SQLite may call it from any connection on any thread.
#pragma once

#include <memory>
#include <string>

#include "crypto/keyring.h"
#include "crypto/page_cipher.h"
#include "mailvault/status.h"

namespace mailvault::db {

class EncryptedVfs {
 public:
  static constexpr int kPageSize = 4096;
  static constexpr int kReserveBytes = static_cast<int>(crypto::PageCipher::kOverhead);

  // Registers a new VFS holding `key`. Unavailable if SQLite has no "unix"
  // VFS to build on.
  static Result<std::unique_ptr<EncryptedVfs>> Register(const crypto::SymmetricKey& key);

  // Unregisters the VFS. Every connection opened through it must be closed
  // before.
  ~EncryptedVfs();
  EncryptedVfs(const EncryptedVfs&) = delete;
  EncryptedVfs& operator=(const EncryptedVfs&) = delete;

  // The VFS name to pass to sqlite3_open_v2.
  const std::string& name() const;

  struct State;  // defined in the .cc; public only so its callbacks can see it

 private:
  explicit EncryptedVfs(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace mailvault::db
