// The encrypting VFS shim. Design note:
//
// File format. Both files SQLite keeps content in are cut into 4096-byte
// page slots; every slot holds Seal(plain[0, 4056), ad): 4056 bytes of
// ciphertext, then the cipher's 16-byte MAC and 24-byte nonce. SQLite never
// puts data in the last 40 bytes of a page because the database declares
// them reserved (header byte 20), so nothing is lost; reads give them back
// as zeros, which is what SQLite wrote (it zeroes fresh pages and never
// touches the reserve). ad = kind << 56 | slot, kind 1 for the database and
// 2 for the WAL, so a page cannot be moved to another slot or file unnoticed.
//   database  slot k = bytes [k*4096, (k+1)*4096)
//   WAL       32-byte header, then per frame a 24-byte frame header and a
//             page slot; slot k = frame k's page. The headers pass through
//             in clear: they hold page numbers, salts and checksums (which
//             SQLite computes over the clear page, so they reveal nothing
//             but equality of pages).
// The -shm file is written by the unix VFS through the database file's shm
// methods; it holds only frame numbers and hashes and passes through.
//
// Reads may cover any byte range (SQLite reads 100 bytes of the database
// header, 16 bytes at offset 24, whole frames during WAL recovery): each
// touched slot is read whole, authenticated and decrypted, and the requested
// slice copied out. Beyond end of file the unix semantics are kept: zero
// fill and SQLITE_IOERR_SHORT_READ. A slot that fails authentication is
// SQLITE_IOERR_DATA, with one exception: a read of a whole WAL frame (header
// and page) is WAL recovery scanning for the end of the log, and there a
// frame torn by a crash must read as a frame whose checksum fails, so its
// page reads as zeros and recovery stops before it (as it would without
// encryption). Committed frames are never lost this way: SQLite syncs the
// WAL before it reports a commit.
//
// Writes of whole slots are sealed into a scratch buffer (the caller's
// buffer is never modified). SQLite writes database and WAL pages whole
// (the unix VFS reports powersafe overwrite, so WAL frames are not split at
// sector boundaries); a partial write into a slot is refused as
// SQLITE_IOERR_WRITE rather than guessed at.
//
// Files that would hold clear pages (rollback, super and statement
// journals, temp databases) are refused at xOpen: the index runs in WAL mode
// with temp_store=MEMORY, so SQLite never asks for them. The io_methods are
// version 2, without xFetch, so SQLite never maps the file and always reads
// through xRead.
#include "db/encrypted_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstring>

namespace mailvault::db {
namespace {

constexpr int64_t kPage = EncryptedVfs::kPageSize;
constexpr int64_t kOverhead = EncryptedVfs::kReserveBytes;
constexpr int64_t kPayload = kPage - kOverhead;
constexpr int64_t kWalHeader = 32;
constexpr int64_t kFrameHeader = 24;
constexpr int64_t kFrame = kFrameHeader + kPage;
constexpr char kMagic[] = "SQLite format 3";  // 16 bytes with its NUL

enum class Kind : uint64_t { kDb = 1, kWal = 2 };

// A run of the file that is either clear or one encrypted page slot.
struct Region {
  int64_t start = 0;
  int64_t end = 0;
  bool encrypted = false;
  uint64_t slot = 0;
};

Region Locate(Kind kind, int64_t off) {
  if (kind == Kind::kDb) {
    uint64_t slot = static_cast<uint64_t>(off / kPage);
    int64_t start = static_cast<int64_t>(slot) * kPage;
    return {start, start + kPage, true, slot};
  }
  if (off < kWalHeader) return {0, kWalHeader, false, 0};
  int64_t frame = (off - kWalHeader) / kFrame;
  int64_t base = kWalHeader + frame * kFrame;
  if (off < base + kFrameHeader) return {base, base + kFrameHeader, false, 0};
  return {base + kFrameHeader, base + kFrame, true, static_cast<uint64_t>(frame)};
}

uint64_t AssociatedData(Kind kind, uint64_t slot) {
  return static_cast<uint64_t>(kind) << 56 | slot;
}

struct EncFile {
  sqlite3_file base;  // must be first: SQLite sees an EncFile as a sqlite3_file
  sqlite3_file* real;
  const crypto::PageCipher* cipher;
  Kind kind;
  uint8_t raw[kPage];
  uint8_t plain[kPage];
};

// SQLite allocates file objects 8-byte aligned; the unix file follows ours.
constexpr int kRealOffset = (sizeof(EncFile) + 7) / 8 * 8;
static_assert(alignof(EncFile) <= 8);

EncFile* Enc(sqlite3_file* f) { return reinterpret_cast<EncFile*>(f); }
sqlite3_file* Real(sqlite3_file* f) { return Enc(f)->real; }

bool AllZero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

// True if `page` (a clear page 1) declares the page size and reserve this
// VFS depends on.
bool HeaderDeclaresLayout(const uint8_t* page) {
  return std::memcmp(page, kMagic, sizeof(kMagic)) == 0 && page[16] == (kPage >> 8) &&
         page[17] == (kPage & 0xff) && page[20] == kOverhead;
}

int XClose(sqlite3_file* f) {
  EncFile* e = Enc(f);
  int rc = SQLITE_OK;
  if (e->real->pMethods != nullptr) rc = e->real->pMethods->xClose(e->real);
  explicit_bzero(e->plain, sizeof(e->plain));
  e->real->pMethods = nullptr;
  return rc;
}

int XRead(sqlite3_file* f, void* buf, int amt, sqlite3_int64 off) {
  EncFile* e = Enc(f);
  sqlite3_file* real = e->real;
  auto* out = static_cast<uint8_t*>(buf);
  const int64_t end = off + amt;
  // A read that spans a frame header and its page is WAL recovery (above).
  const bool recovery_scan = e->kind == Kind::kWal && !Locate(e->kind, off).encrypted &&
                             Locate(e->kind, end - 1).encrypted;
  bool short_read = false;
  for (int64_t pos = off; pos < end;) {
    const Region r = Locate(e->kind, pos);
    const int64_t n = std::min(end, r.end) - pos;
    uint8_t* dst = out + (pos - off);
    if (!r.encrypted) {
      int rc = real->pMethods->xRead(real, dst, static_cast<int>(n), pos);
      if (rc == SQLITE_IOERR_SHORT_READ) {
        short_read = true;
      } else if (rc != SQLITE_OK) {
        return rc;
      }
      pos += n;
      continue;
    }
    int rc = real->pMethods->xRead(real, e->raw, static_cast<int>(kPage), r.start);
    bool usable = rc == SQLITE_OK;
    if (rc == SQLITE_IOERR_SHORT_READ) {
      sqlite3_int64 size = 0;
      rc = real->pMethods->xFileSize(real, &size);
      if (rc != SQLITE_OK) return rc;
      if (size <= r.start) {  // the slot lies wholly beyond end of file
        std::memset(dst, 0, static_cast<size_t>(n));
        short_read = true;
        pos += n;
        continue;
      }
      // A slot cut short: it cannot authenticate; handled below.
    } else if (rc != SQLITE_OK) {
      return rc;
    }
    const uint64_t ad = AssociatedData(e->kind, r.slot);
    const bool whole = pos == r.start && n == kPage;
    uint8_t* plain = whole ? dst : e->plain;
    if (usable && e->cipher->Open(e->raw, kPayload, ad, plain)) {
      std::memset(plain + kPayload, 0, kOverhead);
      if (!whole) std::memcpy(dst, e->plain + (pos - r.start), static_cast<size_t>(n));
    } else if (recovery_scan) {
      std::memset(dst, 0, static_cast<size_t>(n));  // fails the frame checksum
    } else {
      sqlite3_log(SQLITE_IOERR_DATA, "mailvault: %s page slot %llu fails authentication",
                  e->kind == Kind::kDb ? "database" : "WAL",
                  static_cast<unsigned long long>(r.slot));
      return SQLITE_IOERR_DATA;
    }
    pos += n;
  }
  return short_read ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
}

int XWrite(sqlite3_file* f, const void* buf, int amt, sqlite3_int64 off) {
  EncFile* e = Enc(f);
  sqlite3_file* real = e->real;
  const auto* in = static_cast<const uint8_t*>(buf);
  const int64_t end = off + amt;
  for (int64_t pos = off; pos < end;) {
    const Region r = Locate(e->kind, pos);
    const int64_t n = std::min(end, r.end) - pos;
    const uint8_t* src = in + (pos - off);
    if (!r.encrypted) {
      int rc = real->pMethods->xWrite(real, src, static_cast<int>(n), pos);
      if (rc != SQLITE_OK) return rc;
      pos += n;
      continue;
    }
    if (pos != r.start || n != kPage) {
      sqlite3_log(SQLITE_IOERR_WRITE, "mailvault: refused partial write of %lld bytes at %lld",
                  static_cast<long long>(n), static_cast<long long>(pos));
      return SQLITE_IOERR_WRITE;
    }
    // Page 1 must declare the reserve that makes room for the MAC and nonce;
    // any other page must leave the reserve zero, or the WAL checksum
    // (computed by SQLite over the whole clear page) would not verify
    // against the zeros a read gives back.
    const bool page_one =
        (e->kind == Kind::kDb && r.slot == 0) || std::memcmp(src, kMagic, sizeof(kMagic)) == 0;
    if ((page_one && !HeaderDeclaresLayout(src)) || !AllZero(src + kPayload, kOverhead)) {
      sqlite3_log(SQLITE_IOERR_WRITE,
                  "mailvault: refused page without the %d reserved bytes (page size must be "
                  "%d)",
                  static_cast<int>(kOverhead), static_cast<int>(kPage));
      return SQLITE_IOERR_WRITE;
    }
    e->cipher->Seal(src, kPayload, AssociatedData(e->kind, r.slot), e->raw);
    int rc = real->pMethods->xWrite(real, e->raw, static_cast<int>(kPage), r.start);
    if (rc != SQLITE_OK) return rc;
    pos += n;
  }
  return SQLITE_OK;
}

int XTruncate(sqlite3_file* f, sqlite3_int64 size) {
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int XSync(sqlite3_file* f, int flags) { return Real(f)->pMethods->xSync(Real(f), flags); }
int XFileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int XLock(sqlite3_file* f, int lock) { return Real(f)->pMethods->xLock(Real(f), lock); }
int XUnlock(sqlite3_file* f, int lock) { return Real(f)->pMethods->xUnlock(Real(f), lock); }
int XCheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int XFileControl(sqlite3_file* f, int op, void* arg) {
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int XSectorSize(sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); }
int XDeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}
int XShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return Real(f)->pMethods->xShmMap(Real(f), region, size, extend, out);
}
int XShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void XShmBarrier(sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); }
int XShmUnmap(sqlite3_file* f, int del) { return Real(f)->pMethods->xShmUnmap(Real(f), del); }

const sqlite3_io_methods kIoMethods = {
    2,  // no xFetch/xUnfetch: SQLite must never map the file
    XClose,
    XRead,
    XWrite,
    XTruncate,
    XSync,
    XFileSize,
    XLock,
    XUnlock,
    XCheckReservedLock,
    XFileControl,
    XSectorSize,
    XDeviceCharacteristics,
    XShmMap,
    XShmLock,
    XShmBarrier,
    XShmUnmap,
    nullptr,
    nullptr,
};

}  // namespace

struct EncryptedVfs::State {
  explicit State(const crypto::SymmetricKey& key) : cipher(key) {}
  sqlite3_vfs vfs{};
  sqlite3_vfs* base = nullptr;
  crypto::PageCipher cipher;
  std::string name;
};

namespace {

EncryptedVfs::State* StateOf(sqlite3_vfs* vfs) {
  return static_cast<EncryptedVfs::State*>(vfs->pAppData);
}
sqlite3_vfs* Base(sqlite3_vfs* vfs) { return StateOf(vfs)->base; }

int VOpen(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  EncryptedVfs::State* st = StateOf(vfs);
  EncFile* e = Enc(file);
  e->base.pMethods = nullptr;
  Kind kind;
  if (name != nullptr && (flags & SQLITE_OPEN_MAIN_DB) != 0) {
    kind = Kind::kDb;
  } else if (name != nullptr && (flags & SQLITE_OPEN_WAL) != 0) {
    kind = Kind::kWal;
  } else {
    sqlite3_log(SQLITE_CANTOPEN,
                "mailvault: refused to open %s (flags 0x%x): it would hold clear pages",
                name != nullptr ? name : "a temp file", flags);
    return SQLITE_CANTOPEN;
  }
  e->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kRealOffset);
  e->real->pMethods = nullptr;
  e->cipher = &st->cipher;
  e->kind = kind;
  int rc = st->base->xOpen(st->base, name, e->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (e->real->pMethods != nullptr) e->real->pMethods->xClose(e->real);
    return rc;
  }
  e->base.pMethods = &kIoMethods;
  return SQLITE_OK;
}

int VDelete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return Base(vfs)->xDelete(Base(vfs), name, sync_dir);
}
int VAccess(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return Base(vfs)->xAccess(Base(vfs), name, flags, out);
}
int VFullPathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return Base(vfs)->xFullPathname(Base(vfs), name, n, out);
}
void* VDlOpen(sqlite3_vfs* vfs, const char* name) { return Base(vfs)->xDlOpen(Base(vfs), name); }
void VDlError(sqlite3_vfs* vfs, int n, char* msg) { Base(vfs)->xDlError(Base(vfs), n, msg); }
void (*VDlSym(sqlite3_vfs* vfs, void* h, const char* sym))(void) {
  return Base(vfs)->xDlSym(Base(vfs), h, sym);
}
void VDlClose(sqlite3_vfs* vfs, void* h) { Base(vfs)->xDlClose(Base(vfs), h); }
int VRandomness(sqlite3_vfs* vfs, int n, char* out) {
  return Base(vfs)->xRandomness(Base(vfs), n, out);
}
int VSleep(sqlite3_vfs* vfs, int us) { return Base(vfs)->xSleep(Base(vfs), us); }
int VCurrentTime(sqlite3_vfs* vfs, double* out) { return Base(vfs)->xCurrentTime(Base(vfs), out); }
int VGetLastError(sqlite3_vfs* vfs, int n, char* out) {
  return Base(vfs)->xGetLastError(Base(vfs), n, out);
}
int VCurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return Base(vfs)->xCurrentTimeInt64(Base(vfs), out);
}

std::atomic<uint64_t> next_vfs_number{1};

}  // namespace

Result<std::unique_ptr<EncryptedVfs>> EncryptedVfs::Register(const crypto::SymmetricKey& key) {
  static_assert(kReserveBytes > 0 && kReserveBytes <= 255);
  crypto::InitCrypto();
  sqlite3_vfs* base = sqlite3_vfs_find("unix");
  if (base == nullptr) return Status::Unavailable("sqlite has no \"unix\" VFS");
  if (base->iVersion < 2 || base->xCurrentTimeInt64 == nullptr) {
    return Status::Unavailable("sqlite's \"unix\" VFS is too old");
  }
  auto st = std::make_unique<State>(key);
  st->base = base;
  st->name = "mailvault-enc-" + std::to_string(next_vfs_number.fetch_add(1));
  sqlite3_vfs& v = st->vfs;
  v.iVersion = 2;
  v.szOsFile = kRealOffset + base->szOsFile;
  v.mxPathname = base->mxPathname;
  v.zName = st->name.c_str();
  v.pAppData = st.get();
  v.xOpen = VOpen;
  v.xDelete = VDelete;
  v.xAccess = VAccess;
  v.xFullPathname = VFullPathname;
  v.xDlOpen = VDlOpen;
  v.xDlError = VDlError;
  v.xDlSym = VDlSym;
  v.xDlClose = VDlClose;
  v.xRandomness = VRandomness;
  v.xSleep = VSleep;
  v.xCurrentTime = VCurrentTime;
  v.xGetLastError = VGetLastError;
  v.xCurrentTimeInt64 = VCurrentTimeInt64;
  int rc = sqlite3_vfs_register(&v, 0);
  if (rc != SQLITE_OK) {
    return Status::IOError(std::string("register sqlite VFS: ") + sqlite3_errstr(rc));
  }
  return std::unique_ptr<EncryptedVfs>(new EncryptedVfs(std::move(st)));
}

EncryptedVfs::EncryptedVfs(std::unique_ptr<State> state) : state_(std::move(state)) {}

EncryptedVfs::~EncryptedVfs() { sqlite3_vfs_unregister(&state_->vfs); }

const std::string& EncryptedVfs::name() const { return state_->name; }

}  // namespace mailvault::db
