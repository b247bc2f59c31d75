#include "scan/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace mailvault::scan::net {
namespace {

// "Connection refused" -> "connection refused".
std::string ErrnoText(int err) {
  char buf[256];
  std::string text = strerror_r(err, buf, sizeof(buf));
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

Status ErrnoStatus(std::string_view what, int err) {
  std::string text = std::string(what) + ErrnoText(err);
  if (err == ECONNREFUSED || err == ENOENT || err == ETIMEDOUT || err == EAGAIN) {
    return Status::Unavailable(std::move(text));
  }
  return Status::IOError(std::move(text));
}

// Milliseconds until the deadline for poll(), rounded up; 0 once passed.
int PollMillis(Deadline deadline) {
  auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<int64_t>(ms, 1 << 30));
}

// Waits until `fd` is ready for `events`. false on timeout; errors other than
// EINTR cannot happen for a valid fd and are treated as ready (the following
// call reports them).
bool WaitFor(int fd, short events, Deadline deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, PollMillis(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return true;
  }
}

Result<uint16_t> ParsePort(std::string_view text, std::string_view spec) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > 65535) {
    return Status::InvalidArgument("bad port in address \"" + std::string(spec) + "\"");
  }
  return static_cast<uint16_t>(value);
}

Result<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return Status::InvalidArgument("unix socket path longer than " +
                                   std::to_string(sizeof(addr.sun_path) - 1) + " bytes: " + path);
  }
  memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

// Resolves a TCP endpoint; the list is freed by the caller with freeaddrinfo.
Result<addrinfo*> Resolve(const Endpoint& endpoint, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* list = nullptr;
  std::string port = std::to_string(endpoint.port);
  int rc = ::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &list);
  if (rc != 0) {
    return Status::Unavailable("cannot resolve " + endpoint.host + ": " + gai_strerror(rc));
  }
  return list;
}

// One connect attempt to one address.
Result<int> ConnectOne(int family, const sockaddr* addr, socklen_t len, Deadline deadline) {
  int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus("socket: ", errno);
  int rc;
  do {
    rc = ::connect(fd, addr, len);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0 && errno != EINPROGRESS) {
    int err = errno;
    ::close(fd);
    // A unix socket whose listen queue is full answers EAGAIN at once.
    if (err == EAGAIN) return Status::Unavailable("server busy (listen queue full)");
    return ErrnoStatus("", err);
  }
  if (rc != 0) {
    if (!WaitFor(fd, POLLOUT, deadline)) {
      ::close(fd);
      return Status::Unavailable("timed out connecting");
    }
    int err = 0;
    socklen_t errlen = sizeof(err);
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) != 0) err = errno;
    if (err != 0) {
      ::close(fd);
      return ErrnoStatus("", err);
    }
  }
  return fd;
}

}  // namespace

Deadline DeadlineAfter(int64_t micros) {
  constexpr int64_t kMaxMicros = int64_t{1'000'000'000'000'000};  // ~31 years; no overflow
  return Clock::now() + std::chrono::microseconds(std::clamp<int64_t>(micros, 0, kMaxMicros));
}

std::string Endpoint::ToString() const {
  if (kind == Kind::kUnix) return "unix:" + path;
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return "tcp:" + h + ":" + std::to_string(port);
}

Result<Endpoint> ParseEndpoint(std::string_view spec) {
  Endpoint e;
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("address \"" + std::string(spec) + "\": " + std::string(why) +
                                   " (expected unix:/path or tcp:host:port)");
  };
  if (spec.find_first_of(std::string_view("\0\r\n \t", 5)) != std::string_view::npos) {
    return bad("contains white space or control characters");
  }
  if (spec.starts_with("unix:")) {
    e.kind = Endpoint::Kind::kUnix;
    e.path = std::string(spec.substr(5));
    if (e.path.empty() || e.path[0] != '/') return bad("unix socket path must be absolute");
    MV_RETURN_IF_ERROR(UnixAddress(e.path).status());
    return e;
  }
  if (!spec.starts_with("tcp:")) return bad("unknown scheme");
  e.kind = Endpoint::Kind::kTcp;
  std::string_view rest = spec.substr(4);
  std::string_view host, port;
  if (rest.starts_with("[")) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return bad("IPv6 address must be written [addr]:port");
    }
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) return bad("missing port");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad("IPv6 address must be in brackets");
  }
  if (host.empty()) return bad("missing host");
  e.host = std::string(host);
  MV_ASSIGN_OR_RETURN(e.port, ParsePort(port, spec));
  return e;
}

Socket::~Socket() { Close(); }

Socket::Socket(Socket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

void Socket::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status Socket::WriteAll(std::string_view data, Deadline deadline) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!WaitFor(fd_, POLLOUT, deadline)) return Status::Unavailable("timed out sending");
      continue;
    }
    return ErrnoStatus("sending: ", n < 0 ? errno : EPIPE);
  }
  return Status::Ok();
}

Result<std::string> Socket::ReadUntil(char terminator, size_t max_bytes, Deadline deadline) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      std::string_view got(buf, static_cast<size_t>(n));
      size_t end = got.find(terminator);
      out.append(got.substr(0, end));
      if (out.size() > max_bytes) {
        return Status::Corruption("reply longer than " + std::to_string(max_bytes) + " bytes");
      }
      if (end != std::string_view::npos) return out;
      continue;
    }
    if (n == 0) return out;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!WaitFor(fd_, POLLIN, deadline))
        return Status::Unavailable("timed out waiting for a reply");
      continue;
    }
    return ErrnoStatus("reading: ", errno);
  }
}

Result<std::string> Socket::ReadExactly(size_t n, Deadline deadline) {
  std::string out(n, '\0');
  size_t have = 0;
  while (have < n) {
    ssize_t got = ::recv(fd_, out.data() + have, n - have, 0);
    if (got > 0) {
      have += static_cast<size_t>(got);
      continue;
    }
    if (got == 0)
      return Status::IOError("peer closed after " + std::to_string(have) + " of " +
                             std::to_string(n) + " bytes");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!WaitFor(fd_, POLLIN, deadline)) return Status::Unavailable("timed out reading");
      continue;
    }
    return ErrnoStatus("reading: ", errno);
  }
  return out;
}

bool Socket::HasInput() const {
  pollfd p{fd_, POLLIN, 0};
  int n;
  do {
    n = ::poll(&p, 1, 0);
  } while (n < 0 && errno == EINTR);
  return n > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

void Socket::ShutdownWrite() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

Result<Socket> Socket::Accept(Deadline deadline) {
  for (;;) {
    int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) return Socket(fd);
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return ErrnoStatus("accept: ", errno);
    if (!WaitFor(fd_, POLLIN, deadline)) return Status::Unavailable("timed out accepting");
  }
}

uint16_t Socket::LocalPort() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

Result<Socket> Connect(const Endpoint& endpoint, Deadline deadline) {
  if (endpoint.kind == Endpoint::Kind::kUnix) {
    MV_ASSIGN_OR_RETURN(sockaddr_un addr, UnixAddress(endpoint.path));
    MV_ASSIGN_OR_RETURN(
        int fd, ConnectOne(AF_UNIX, reinterpret_cast<sockaddr*>(&addr), sizeof(addr), deadline));
    return Socket(fd);
  }
  if (endpoint.port == 0) return Status::InvalidArgument("cannot connect to port 0");
  MV_ASSIGN_OR_RETURN(addrinfo * list, Resolve(endpoint, /*passive=*/false));
  Status last = Status::Unavailable("no address for " + endpoint.host);
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    auto fd = ConnectOne(ai->ai_family, ai->ai_addr, ai->ai_addrlen, deadline);
    if (fd.ok()) {
      ::freeaddrinfo(list);
      return Socket(*fd);
    }
    last = fd.status();
    if (Clock::now() >= deadline) break;
  }
  ::freeaddrinfo(list);
  return last;
}

Result<Socket> Listen(const Endpoint& endpoint) {
  if (endpoint.kind == Endpoint::Kind::kUnix) {
    MV_ASSIGN_OR_RETURN(sockaddr_un addr, UnixAddress(endpoint.path));
    Socket s(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!s.valid()) return ErrnoStatus("socket: ", errno);
    if (::bind(s.fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return ErrnoStatus("bind " + endpoint.path + ": ", errno);
    }
    if (::listen(s.fd_, 64) != 0) return ErrnoStatus("listen: ", errno);
    return s;
  }
  MV_ASSIGN_OR_RETURN(addrinfo * list, Resolve(endpoint, /*passive=*/true));
  Status last = Status::Unavailable("no address for " + endpoint.host);
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    Socket s(::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!s.valid()) {
      last = ErrnoStatus("socket: ", errno);
      continue;
    }
    int one = 1;
    ::setsockopt(s.fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(s.fd_, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(s.fd_, 64) != 0) {
      last = ErrnoStatus("listen on " + endpoint.ToString() + ": ", errno);
      continue;
    }
    ::freeaddrinfo(list);
    return s;
  }
  ::freeaddrinfo(list);
  return last;
}

}  // namespace mailvault::scan::net
