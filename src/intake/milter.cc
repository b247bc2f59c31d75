// The milter's I/O shell. Design note: the loop thread alone accepts,
// dispatches and expires; a worker owns a connection from dispatch until it
// re-arms it (EPOLLONESHOT) or closes it. Both sides take `mu` for the
// connection table and each connection's `busy` and `deadline`, so a
// connection is never expired while a worker holds it, nor dispatched twice.
// Epoll events carry a connection id, not a descriptor, so an event that
// arrives for a connection already closed (and its descriptor reused) finds
// nothing.
#include "intake/milter.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "base/display_text.h"
#include "intake/milter_codec.h"
#include "intake/milter_session.h"
#include "intake/task_pool.h"

namespace mailvault::intake {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kListenId = 0, kWakeId = 1;  // connection ids start above
constexpr int64_t kMaxNegotiationMicros = 10'000'000;
constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kTurnBytes = 1 << 20;  // read per turn, then let others in

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// The address a connection came from, for log lines.
std::string PeerName(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
    return std::string(buf) + ":" + std::to_string(ntohs(a->sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
    return "[" + std::string(buf) + "]:" + std::to_string(ntohs(a->sin6_port));
  }
  return "unix";
}

// Opens the listening socket of a normalised spec (MilterSocketSpec).
// `unix_path` is set for a Unix socket, to remove it at stop.
Result<int> Listen(const std::string& spec, std::string* unix_path) {
  if (spec.starts_with("unix:") || spec.starts_with("local:")) {
    const std::string path = spec.substr(spec.find(':') + 1);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof(sa.sun_path)) return Status::InvalidArgument("socket path too long");
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) return Status::Unavailable(path + " exists and is not a socket");
      // A socket someone still answers on is in use; a stale one is removed.
      int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      const bool live =
          probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
      if (probe >= 0) ::close(probe);
      if (live) return Status::Unavailable("cannot listen on " + path + ": in use");
      ::unlink(path.c_str());
    }
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return Status::Unavailable(Errno("socket"));
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 || ::listen(fd, 1024) != 0) {
      Status s = Status::Unavailable(Errno(("cannot listen on " + path).c_str()));
      ::close(fd);
      return s;
    }
    *unix_path = path;
    return fd;
  }
  const bool v6 = spec.starts_with("inet6:");
  const std::string rest = spec.substr(v6 ? 6 : 5);
  const size_t at = rest.find('@');
  if (at == std::string::npos) return Status::InvalidArgument("bad milter socket " + spec);
  const std::string port = rest.substr(0, at);
  std::string host = rest.substr(at + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = v6 ? AF_INET6 : AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    return Status::InvalidArgument("milter socket " + spec + ": " + gai_strerror(rc));
  }
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    ::freeaddrinfo(res);
    return Status::Unavailable(Errno("socket"));
  }
  // Lets a restarted daemon bind while old connections linger in TIME_WAIT;
  // a port another process listens on still fails (no SO_REUSEPORT).
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const bool ok = ::bind(fd, res->ai_addr, res->ai_addrlen) == 0 && ::listen(fd, 1024) == 0;
  ::freeaddrinfo(res);
  if (!ok) {
    Status s = Status::Unavailable(Errno("cannot listen (in use, or no permission?)"));
    ::close(fd);
    return s;
  }
  return fd;
}

// Writes all of `data`, waiting for the socket to drain until `deadline`.
Status WriteAll(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return Status::IOError(Errno("write"));
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return Status::Unavailable("write timed out (the MTA does not read)");
    pollfd p{fd, POLLOUT, 0};
    ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
  }
  return Status::Ok();
}

}  // namespace

struct Milter::Impl {
  struct Conn {
    Conn(uint64_t id, int fd, std::string peer, Env& env, const std::string& spool_dir,
         DecideFn decide)
        : id(id), fd(fd), peer(std::move(peer)), session(env, spool_dir, std::move(decide)) {}
    const uint64_t id;
    const int fd;
    const std::string peer;
    // Worker side (one at a time).
    milter::FrameDecoder decoder;
    MilterSession session;
    // Guarded by Impl::mu.
    bool busy = false;
    Clock::time_point deadline;
  };

  Impl(const MilterOptions& options, Env& env, Processor& processor, std::function<void()> on_exit)
      : options(options),
        env(env),
        processor(processor),
        on_exit(std::move(on_exit)),
        pool(static_cast<size_t>(std::clamp(options.max_connections, 4, 512))) {}
  ~Impl() {
    for (int fd : {listen_fd, epoll_fd, wake_fd}) {
      if (fd >= 0) ::close(fd);
    }
    if (!unix_path.empty()) ::unlink(unix_path.c_str());
  }

  void Loop();
  void Accept();
  void Dispatch(uint64_t id);
  void ExpireIdle();
  void Serve(const std::shared_ptr<Conn>& c);
  // Removes and closes `c`; mu held.
  void CloseLocked(const std::shared_ptr<Conn>& c);
  // The time a connection may wait for its next bytes, by its stage.
  Clock::duration WaitFor(const Conn& c) const;

  const MilterOptions options;
  Env& env;
  Processor& processor;
  std::function<void()> on_exit;
  int listen_fd = -1, epoll_fd = -1, wake_fd = -1;
  std::string unix_path;
  std::thread thread;
  std::atomic<bool> stopping{false};

  std::mutex mu;
  std::condition_variable all_closed;
  std::map<uint64_t, std::shared_ptr<Conn>> conns;  // guarded by mu
  uint64_t next_id = 2;                             // guarded by mu
  TaskPool pool;                                    // last: its destructor joins the workers first
};

Clock::duration Milter::Impl::WaitFor(const Conn& c) const {
  int64_t micros = std::max<int64_t>(options.timeout_micros, 1'000'000);
  if (c.session.state() == MilterSession::State::kInit)
    micros = std::min(micros, kMaxNegotiationMicros);
  return std::chrono::microseconds(micros);
}

void Milter::Impl::CloseLocked(const std::shared_ptr<Conn>& c) {
  ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, nullptr);
  ::close(c->fd);
  conns.erase(c->id);
  if (conns.empty()) all_closed.notify_all();
}

void Milter::Impl::Loop() {
  epoll_event events[256];
  Clock::time_point next_sweep = Clock::now();
  while (!stopping.load()) {
    const int n = ::epoll_wait(epoll_fd, events, 256, 250);
    if (n < 0 && errno != EINTR) {
      spdlog::error("milter stopped by itself: {}", Errno("epoll_wait"));
      if (!stopping.load() && on_exit) on_exit();
      break;
    }
    for (int i = 0; i < n; ++i) {
      const uint64_t id = events[i].data.u64;
      if (id == kListenId) {
        Accept();
      } else if (id == kWakeId) {
        uint64_t v;
        while (::read(wake_fd, &v, sizeof(v)) > 0) {
        }
      } else {
        Dispatch(id);
      }
    }
    // Deadlines are seconds apart: a sweep every 250 ms is enough, however
    // many events come meanwhile.
    if (Clock::now() >= next_sweep) {
      ExpireIdle();
      next_sweep = Clock::now() + std::chrono::milliseconds(250);
    }
  }
  // Stopping: no new connections; idle sessions end now, a busy one when
  // its worker is done with it (Serve closes instead of re-arming).
  ::close(listen_fd);
  listen_fd = -1;
  std::unique_lock<std::mutex> lock(mu);
  for (auto it = conns.begin(); it != conns.end();) {
    auto c = (it++)->second;
    if (!c->busy) CloseLocked(c);
  }
  all_closed.wait(lock, [&] { return conns.empty(); });
}

void Milter::Impl::Accept() {
  while (true) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    int fd =
        ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        // Out of descriptors or memory: the connection waits in the
        // backlog; say so (rarely: the loop comes back every 250 ms).
        spdlog::warn("event milter-accept-failed: {}", Errno("accept"));
      }
      return;
    }
    std::lock_guard<std::mutex> lock(mu);
    if (static_cast<int64_t>(conns.size()) >= options.max_connections) {
      spdlog::warn(
          "event milter-session-refused: {} milter sessions open ([milter] max_connections); "
          "connection from {} closed",
          conns.size(), PeerName(ss));
      ::close(fd);
      continue;
    }
    const uint64_t id = next_id++;
    Processor& p = processor;
    auto c = std::make_shared<Conn>(id, fd, PeerName(ss), env, options.spool_dir,
                                    [&p](const Received& r) { return p.Process(r); });
    c->deadline = Clock::now() + WaitFor(*c);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    ev.data.u64 = id;
    if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
      spdlog::warn("event milter-accept-failed: {}", Errno("epoll_ctl"));
      ::close(fd);
      continue;
    }
    conns.emplace(id, std::move(c));
  }
}

void Milter::Impl::Dispatch(uint64_t id) {
  std::shared_ptr<Conn> c;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = conns.find(id);
    if (it == conns.end() || it->second->busy) return;  // closed meanwhile
    c = it->second;
    c->busy = true;
  }
  pool.Run([this, c] { Serve(c); });
}

void Milter::Impl::ExpireIdle() {
  const auto now = Clock::now();
  std::lock_guard<std::mutex> lock(mu);
  for (auto it = conns.begin(); it != conns.end();) {
    auto c = (it++)->second;
    if (c->busy || now < c->deadline) continue;
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(WaitFor(*c)).count();
    const char* what = c->session.state() == MilterSession::State::kInit ? "no option negotiation"
                       : c->decoder.partial()      ? "a packet stalled half-way"
                       : c->session.message_open() ? "no command while a message is open"
                                                   : "idle";
    spdlog::warn("event milter-timeout: session from {} closed: {} for {}s ([milter] timeout)",
                 c->peer, what, secs);
    CloseLocked(c);
  }
}

void Milter::Impl::Serve(const std::shared_ptr<Conn>& c) {
  std::string out;
  bool close = false;
  std::string error;  // a protocol error, logged once
  size_t turn = 0;
  char buf[kReadChunk];
  while (!close && turn < kTurnBytes) {
    const ssize_t n = ::recv(c->fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) {  // the MTA closed (or reset) the connection: a dropped session
      close = true;
      break;
    }
    turn += static_cast<size_t>(n);
    c->decoder.Feed(std::string_view(buf, static_cast<size_t>(n)));
    while (!close) {
      auto frame = c->decoder.Next();
      if (!frame.ok()) {
        error = frame.status().message();
        close = true;
        break;
      }
      if (!frame->has_value()) break;
      auto command = milter::DecodeCommand(**frame);
      if (!command.ok()) {
        error = command.status().message();
        close = true;
        break;
      }
      MilterSession::Step step = c->session.Handle(*command);
      out += step.reply;
      if (step.close) {
        close = true;
        if (!step.error.ok()) error = step.error.message();
      }
    }
    // Replies go out before more is read: the MTA waits for them.
    if (!out.empty()) {
      Status w = WriteAll(c->fd, out, Clock::now() + WaitFor(*c));
      out.clear();
      if (!w.ok()) {
        spdlog::warn("event milter-write-failed: session from {} closed: {}", c->peer,
                     w.ToString());
        close = true;
      }
    }
  }
  if (!error.empty()) {
    // The reasons name commands and states, never message bytes; escaped
    // all the same, so a log line stays one line.
    spdlog::warn("event milter-protocol-error: session from {} closed: {}", c->peer,
                 DisplayText(error));
  }
  std::lock_guard<std::mutex> lock(mu);
  c->busy = false;
  if (close || stopping.load()) {
    CloseLocked(c);
    return;
  }
  // A new deadline from now for every stage but negotiation, whose
  // deadline runs from the connect.
  if (c->session.state() != MilterSession::State::kInit) c->deadline = Clock::now() + WaitFor(*c);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
  ev.data.u64 = c->id;
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
    spdlog::warn("event milter-session-closed: session from {}: {}", c->peer, Errno("epoll_ctl"));
    CloseLocked(c);
  }
}

Milter::Milter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Milter>> Milter::Start(const MilterOptions& options, Env& env,
                                              Processor& processor, std::function<void()> on_exit) {
  MV_ASSIGN_OR_RETURN(std::string spec, MilterSocketSpec(options.socket));
  if (options.spool_dir.empty()) return Status::InvalidArgument("milter spool dir not set");
  MV_RETURN_IF_ERROR(env.CreateDir(options.spool_dir));
  auto impl = std::make_unique<Impl>(options, env, processor, std::move(on_exit));
  auto fail = [&](const Status& s) {
    return Status::Unavailable("milter " + spec + ": " + s.message());
  };
  auto fd = Listen(spec, &impl->unix_path);
  if (!fd.ok()) return fail(fd.status());
  impl->listen_fd = *fd;
  impl->epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  impl->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl->epoll_fd < 0 || impl->wake_fd < 0) return fail(Status::Unavailable(Errno("epoll")));
  for (auto [fd2, id] : {std::pair{impl->listen_fd, kListenId}, {impl->wake_fd, kWakeId}}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = id;
    if (::epoll_ctl(impl->epoll_fd, EPOLL_CTL_ADD, fd2, &ev) != 0)
      return fail(Status::Unavailable(Errno("epoll_ctl")));
  }
  Impl* self = impl.get();
  impl->thread = std::thread([self] { self->Loop(); });
  return std::unique_ptr<Milter>(new Milter(std::move(impl)));
}

Milter::~Milter() { Stop(); }

void Milter::Stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->stopping.store(true);
  const uint64_t one = 1;
  if (::write(impl_->wake_fd, &one, sizeof(one)) < 0) {
    // The loop still notices `stopping` within its 250 ms wait.
  }
  impl_->thread.join();
}

}  // namespace mailvault::intake
