// Stream sockets with deadlines, for the network scan engines (clamd) and
// their test fakes: the only place in src/scan that calls the socket API.
//
// Every socket is non-blocking; each call that waits takes an absolute
// deadline on the monotonic clock and fails with Unavailable ("timed out
// ...") once it has passed, so a whole exchange (connect, send, answer) can
// share one budget. Writes never raise SIGPIPE. A Socket is used by one
// thread at a time; different sockets are independent.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "mailvault/status.h"

namespace mailvault::scan::net {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

// Now plus `micros` (clamped to [0, ~31 years]).
Deadline DeadlineAfter(int64_t micros);

// Where a server listens: "unix:/run/clamav/clamd.ctl", "tcp:127.0.0.1:3310",
// "tcp:[::1]:3310", "tcp:localhost:3310".
struct Endpoint {
  enum class Kind { kUnix, kTcp };
  Kind kind = Kind::kUnix;
  std::string path;   // kUnix: absolute socket path
  std::string host;   // kTcp: name or address, without brackets
  uint16_t port = 0;  // kTcp; 0 only for Listen (the kernel picks one)

  // Back in the spelling ParseEndpoint reads.
  std::string ToString() const;
};

// InvalidArgument saying what is wrong with `spec`. Port 0 is accepted (for
// Listen); connecting to it fails.
Result<Endpoint> ParseEndpoint(std::string_view spec);

class Socket {
 public:
  Socket() = default;
  ~Socket();
  Socket(Socket&& other) noexcept;
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  bool valid() const { return fd_ >= 0; }

  // Sends all of `data`. IOError with the reason ("connection reset by
  // peer", "broken pipe") or Unavailable when the deadline passes.
  Status WriteAll(std::string_view data, Deadline deadline);

  // Reads until `terminator` (consumed, not returned) or until the peer
  // closes its side, whichever comes first; so an empty string means the peer
  // closed without saying anything. Corruption if more than `max_bytes` come
  // before the terminator. Bytes after the terminator in the same read are
  // dropped (each engine protocol here has one reply per connection).
  Result<std::string> ReadUntil(char terminator, size_t max_bytes, Deadline deadline);

  // Reads exactly `n` bytes; IOError if the peer closes first.
  Result<std::string> ReadExactly(size_t n, Deadline deadline);

  // True when a read would not block (data waiting, or the peer closed).
  bool HasInput() const;

  // Tells the peer no more data will come (shutdown SHUT_WR).
  void ShutdownWrite();

  // Listening sockets: the next connection. Unavailable on timeout.
  Result<Socket> Accept(Deadline deadline);
  // The local TCP port (after Listen on port 0), 0 for unix sockets.
  uint16_t LocalPort() const;

 private:
  friend Result<Socket> Connect(const Endpoint& endpoint, Deadline deadline);
  friend Result<Socket> Listen(const Endpoint& endpoint);
  explicit Socket(int fd) : fd_(fd) {}
  void Close();

  int fd_ = -1;
};

// Connects to `endpoint` (each address a name resolves to in turn; name
// resolution itself is not bounded by the deadline, so use addresses for
// remote hosts). Unavailable for "connection refused", "no such file or
// directory" (unix) and timeouts; IOError otherwise.
Result<Socket> Connect(const Endpoint& endpoint, Deadline deadline);

// A listening socket (tests' fake servers). A unix socket path must not
// exist yet; TCP port 0 picks a free port (see LocalPort).
Result<Socket> Listen(const Endpoint& endpoint);

}  // namespace mailvault::scan::net
