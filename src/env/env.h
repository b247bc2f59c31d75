// Env: the only door to the operating system (CONVENTIONS.md §5).
//
// Files, directories, locks, free space and the clock go through this small
// interface so that tests can swap in a fake that fails the k-th write or
// sync, or forgets everything that was not synced (see
// testutil/fault_env.h). PosixEnv() is the real one. All methods are
// thread-safe; a file object is used by one thread at a time unless its
// comment says otherwise.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/status.h"

namespace mailvault {

// A file opened for appending. Append() may buffer nothing: bytes are handed
// to the OS at once but are durable only after Sync() returns OK. A failed
// Sync() leaves the file in an unknown state: callers must not retry it as if
// nothing happened (CONVENTIONS.md §6).
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // Overwrites bytes already in the file at `offset` (used only to mark a
  // record deleted in place). Durable after Sync().
  virtual Status WriteAt(uint64_t offset, std::string_view data) = 0;
  virtual Status Sync() = 0;
  // Current size, including appended but unsynced bytes.
  virtual uint64_t Size() const = 0;
  virtual Status Close() = 0;
};

// A file opened for positional reads; safe to use from several threads.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at offset into scratch; returns the count read (less
  // than n only at end of file).
  virtual Result<size_t> Read(uint64_t offset, size_t n, char* scratch) const = 0;
  virtual Result<uint64_t> Size() const = 0;
};

// An anonymous scratch file with no name in any directory (O_TMPFILE): it
// vanishes when closed or when the process dies, even by kill -9, so a crash
// never leaves it behind. Never synced: it holds only what can be rebuilt
// (the milter spool). One thread at a time, unless the caller serialises.
class TempFile {
 public:
  virtual ~TempFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // Reads up to n bytes at offset into scratch; the count read.
  virtual Result<size_t> Read(uint64_t offset, size_t n, char* scratch) const = 0;
  virtual uint64_t Size() const = 0;
};

// An exclusive advisory lock (flock) on a file; released on destruction or
// when the process dies, so a crashed writer never leaves a stale lock.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // Opens `path` for appending, creating it with mode 0600 if missing.
  virtual Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) = 0;
  // A new anonymous file on the file system of directory `dir` (which must
  // exist). NoSpace when that file system is full.
  virtual Result<std::unique_ptr<TempFile>> NewTempFile(const std::string& dir) = 0;

  // Writes a whole small file via a temp name + fsync + rename + dir fsync.
  virtual Status WriteFileAtomic(const std::string& path, std::string_view contents) = 0;
  virtual Result<std::string> ReadFile(const std::string& path) = 0;

  virtual Status CreateDir(const std::string& path) = 0;  // mode 0700; OK if it exists
  virtual Status SyncDir(const std::string& path) = 0;
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;  // names only
  virtual bool Exists(const std::string& path) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status Remove(const std::string& path) = 0;
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;
  // Frees the blocks of [offset, offset+len) without changing the file size;
  // the range reads back as zeros. Durable after the file is synced.
  virtual Status PunchHole(const std::string& path, uint64_t offset, uint64_t len) = 0;
  // Bytes available to an unprivileged writer on the file system of `path`.
  virtual Result<uint64_t> FreeSpace(const std::string& path) = 0;
  // Blocks actually allocated to the file (holes excluded), in bytes.
  virtual Result<uint64_t> AllocatedSize(const std::string& path) = 0;

  // Takes the exclusive lock on `path` (created if missing) without waiting:
  // Unavailable if another process holds it.
  virtual Result<std::unique_ptr<FileLock>> TryLock(const std::string& path) = 0;

  // Wall clock, microseconds since the Unix epoch.
  virtual int64_t NowMicros() = 0;

  // This host's name (gethostname), "localhost" if it has none.
  virtual std::string HostName() = 0;
};

// The process-wide real Env; never deleted.
Env* PosixEnv();

// Joins two path parts with one '/'.
std::string JoinPath(std::string_view dir, std::string_view name);

// Creates `path` empty (mode 0600, through `env`) if it does not exist, so
// that a database SQLite then opens is the service account's alone whatever
// the umask (SQLite would create it 0644 less the umask; its -wal and -shm
// files take the mode of the database).
Status CreatePrivateFileIfMissing(Env& env, const std::string& path);

}  // namespace mailvault
