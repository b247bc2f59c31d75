// The real Env over POSIX/Linux calls. Every error message names the path and
// the failing call, so an operator can act on it.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "env/env.h"

namespace mailvault {
namespace {

Status ErrnoStatus(const std::string& what, const std::string& path, int err) {
  std::string m = what + " " + path + ": " + std::strerror(err);
  if (err == ENOENT) return Status::NotFound(m);
  if (err == ENOSPC || err == EDQUOT) return Status::NoSpace(m);
  if (err == EACCES || err == EPERM) return Status::PermissionDenied(m);
  if (err == EEXIST) return Status::AlreadyExists(m);
  return Status::IOError(m);
}

// Writes all of `data` at `offset`, resuming after short writes and EINTR.
Status PwriteAll(int fd, uint64_t offset, std::string_view data, const std::string& path) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::pwrite(fd, p, left, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path, errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

// Reads up to n bytes at offset; fewer only at end of file.
Result<size_t> PreadAll(int fd, uint64_t offset, size_t n, char* scratch, const std::string& path) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, scratch + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", path, errno);
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return done;
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  PosixWritableFile(const PosixWritableFile&) = delete;
  PosixWritableFile& operator=(const PosixWritableFile&) = delete;

  Status Append(std::string_view data) override {
    Status s = WriteAll(size_, data);
    if (s.ok()) size_ += data.size();
    return s;
  }
  Status WriteAt(uint64_t offset, std::string_view data) override {
    if (offset + data.size() > size_) {
      return Status::InvalidArgument("write past end of " + path_);
    }
    return WriteAll(offset, data);
  }
  Status Sync() override {
    if (::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync", path_, errno);
    return Status::Ok();
  }
  uint64_t Size() const override { return size_; }
  Status Close() override {
    if (fd_ < 0) return Status::Ok();
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return ErrnoStatus("close", path_, errno);
    return Status::Ok();
  }

 private:
  Status WriteAll(uint64_t offset, std::string_view data) {
    return PwriteAll(fd_, offset, data, path_);
  }

  std::string path_;
  int fd_;
  uint64_t size_;
};

class PosixTempFile final : public TempFile {
 public:
  PosixTempFile(std::string dir, int fd) : what_("temp file in " + dir), fd_(fd) {}
  ~PosixTempFile() override { ::close(fd_); }
  PosixTempFile(const PosixTempFile&) = delete;
  PosixTempFile& operator=(const PosixTempFile&) = delete;

  Status Append(std::string_view data) override {
    MV_RETURN_IF_ERROR(PwriteAll(fd_, size_, data, what_));
    size_ += data.size();
    return Status::Ok();
  }
  Result<size_t> Read(uint64_t offset, size_t n, char* scratch) const override {
    return PreadAll(fd_, offset, n, scratch, what_);
  }
  uint64_t Size() const override { return size_; }

 private:
  std::string what_;
  int fd_;
  uint64_t size_ = 0;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }
  PosixRandomAccessFile(const PosixRandomAccessFile&) = delete;
  PosixRandomAccessFile& operator=(const PosixRandomAccessFile&) = delete;

  Result<size_t> Read(uint64_t offset, size_t n, char* scratch) const override {
    return PreadAll(fd_, offset, n, scratch, path_);
  }
  Result<uint64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoStatus("stat", path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  std::string path_;
  int fd_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override { ::close(fd_); }  // closing releases the flock
  PosixFileLock(const PosixFileLock&) = delete;
  PosixFileLock& operator=(const PosixFileLock&) = delete;

 private:
  int fd_;
};

class PosixEnvImpl final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus("stat", path, err);
    }
    return std::unique_ptr<WritableFile>(
        new PosixWritableFile(path, fd, static_cast<uint64_t>(st.st_size)));
  }

  Result<std::unique_ptr<TempFile>> NewTempFile(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoStatus("create a temp file in", dir, errno);
    return std::unique_ptr<TempFile>(new PosixTempFile(dir, fd));
  }

  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    return std::unique_ptr<RandomAccessFile>(new PosixRandomAccessFile(path, fd));
  }

  Status WriteFileAtomic(const std::string& path, std::string_view contents) override {
    std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoStatus("open", tmp, errno);
    Status s = [&]() -> Status {
      PosixWritableFile f(tmp, fd, 0);
      MV_RETURN_IF_ERROR(f.Append(contents));
      MV_RETURN_IF_ERROR(f.Sync());
      MV_RETURN_IF_ERROR(f.Close());
      return Rename(tmp, path);
    }();
    if (!s.ok()) {
      ::unlink(tmp.c_str());  // a failed write (a full disk) leaves no temp file behind
      return s;
    }
    return SyncDir(Parent(path));
  }

  Result<std::string> ReadFile(const std::string& path) override {
    MV_ASSIGN_OR_RETURN(auto f, OpenRandomAccess(path));
    MV_ASSIGN_OR_RETURN(uint64_t size, f->Size());
    std::string out(size, '\0');
    MV_ASSIGN_OR_RETURN(size_t n, f->Read(0, size, out.data()));
    out.resize(n);
    return out;
  }

  Status CreateDir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoStatus("mkdir", path, errno);
    }
    return Status::Ok();
  }

  Status SyncDir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open dir", path, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoStatus("fsync dir", path, err);
    return Status::Ok();
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) return ErrnoStatus("opendir", path, errno);
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    ::closedir(d);
    return names;
  }

  bool Exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Result<uint64_t> FileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("rename", from, errno);
    return Status::Ok();
  }

  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoStatus("unlink", path, errno);
    return Status::Ok();
  }

  Status Truncate(const std::string& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
      return ErrnoStatus("truncate", path, errno);
    }
    return Status::Ok();
  }

  Status PunchHole(const std::string& path, uint64_t offset, uint64_t len) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    int rc = ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                         static_cast<off_t>(len));
    int err = errno;
    if (rc != 0 && (err == EOPNOTSUPP || err == ENOSYS)) {
      // No hole punching on this file system: overwrite with zeros instead, so
      // the bytes are gone even though the space is not returned.
      std::string zeros(64 * 1024, '\0');
      PosixWritableFile f(path, fd, offset + len);
      fd = -1;
      for (uint64_t done = 0; done < len;) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), len - done));
        MV_RETURN_IF_ERROR(f.WriteAt(offset + done, std::string_view(zeros.data(), n)));
        done += n;
      }
      MV_RETURN_IF_ERROR(f.Sync());
      return f.Close();
    }
    if (rc == 0 && ::fdatasync(fd) != 0) {
      rc = -1;
      err = errno;
    }
    ::close(fd);
    if (rc != 0) return ErrnoStatus("punch hole in", path, err);
    return Status::Ok();
  }

  Result<uint64_t> FreeSpace(const std::string& path) override {
    struct statvfs st;
    if (::statvfs(path.c_str(), &st) != 0) return ErrnoStatus("statvfs", path, errno);
    return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  }

  Result<uint64_t> AllocatedSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path, errno);
    return static_cast<uint64_t>(st.st_blocks) * 512;
  }

  Result<std::unique_ptr<FileLock>> TryLock(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      char pid[32] = {};
      ssize_t n = ::pread(fd, pid, sizeof pid - 1, 0);
      ::close(fd);
      if (err == EWOULDBLOCK) {
        std::string holder = n > 0 ? std::string(pid, static_cast<size_t>(n)) : "";
        while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' '))
          holder.pop_back();
        return Status::Unavailable(path + " is locked by another process" +
                                   (holder.empty() ? "" : " (pid " + holder + ")"));
      }
      return ErrnoStatus("lock", path, err);
    }
    // The holder's pid, so the next one can be told who has it.
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
      // Only a courtesy for error messages; the lock itself is held.
    }
    return std::unique_ptr<FileLock>(new PosixFileLock(fd));
  }

  int64_t NowMicros() override {
    struct timeval tv;
    ::gettimeofday(&tv, nullptr);
    return static_cast<int64_t>(tv.tv_sec) * 1000000 + tv.tv_usec;
  }

  std::string HostName() override {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
    return name;
  }

 private:
  static std::string Parent(const std::string& path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
  }
};

}  // namespace

Env* PosixEnv() {
  static Env* env = new PosixEnvImpl();
  return env;
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out += '/';
  out += name;
  return out;
}

Status CreatePrivateFileIfMissing(Env& env, const std::string& path) {
  if (env.Exists(path)) return Status::Ok();
  MV_ASSIGN_OR_RETURN(auto file, env.OpenAppendable(path));
  return file->Close();
}

}  // namespace mailvault
