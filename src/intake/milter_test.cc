// The milter's I/O shell over a real Unix socket: a whole message, a
// protocol error and a silent session closed, max_connections, Stop() with
// sessions open, a socket in use, and the socket spec forms. The protocol
// itself is tested in milter_session_test.cc; here a real Processor (no
// engines, no rules) over a real store answers end-of-message.
#include "intake/milter.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "intake/milter_codec.h"
#include "testutil/temp_dir.h"

namespace mailvault::intake {
namespace {

template <size_t N>
std::string Bytes(const char (&s)[N]) {
  return std::string(s, N - 1);
}

std::string U32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(v >> (24 - 8 * i));
  return s;
}

// A blocking client; every read gives up after 10 s (a hung test fails
// instead of hanging).
class Client {
 public:
  explicit Client(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path.c_str());
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~Client() { ::close(fd_); }
  bool connected() const { return connected_; }
  void Send(char cmd, const std::string& payload = "") {
    std::string f = milter::EncodeFrame(cmd, payload);
    ASSERT_EQ(::send(fd_, f.data(), f.size(), MSG_NOSIGNAL), static_cast<ssize_t>(f.size()));
  }
  // The next reply frame; nullopt on EOF, reset or timeout.
  std::optional<milter::Frame> Read() {
    while (true) {
      auto f = decoder_.Next();
      if (!f.ok()) return std::nullopt;
      if (f->has_value()) return **f;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return std::nullopt;
      decoder_.Feed(std::string_view(buf, static_cast<size_t>(n)));
    }
  }
  // True if the milter closed the connection (rather than answering).
  bool Closed() {
    char c;
    ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  milter::FrameDecoder decoder_;
};

class MilterShellTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.dir = dir_.path() + "/store";
    ASSERT_TRUE(Store::Init(o).ok());
    auto s = Store::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    policy::SettingsOptions po;
    po.dir = o.dir;
    auto p = policy::Settings::Open(po);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    policy_ = std::move(*p);
    auto rules = rules::RuleSet::Make({});
    ASSERT_TRUE(rules.ok()) << rules.status().ToString();
    processor_ = std::make_unique<Processor>(
        *PosixEnv(), *store_, *policy_, std::vector<std::unique_ptr<scan::Engine>>(),
        std::move(*rules), nullptr, nullptr, ProcessorOptions{},
        [](std::string_view, std::string_view) {});
    options_.socket = "unix:" + path_;
    options_.spool_dir = dir_.path() + "/spool";
  }
  void Start() {
    auto m = Milter::Start(options_, *PosixEnv(), *processor_, [this] { exited_ = true; });
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    milter_ = std::move(*m);
  }
  void Negotiate(Client& c) {
    c.Send('O', U32(6) + U32(0x1ff) + U32(0));
    auto r = c.Read();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->cmd, 'O');
  }

  TempDir dir_;
  const std::string path_ = dir_.path() + "/milter.sock";
  std::unique_ptr<Store> store_;
  std::unique_ptr<policy::Settings> policy_;
  std::unique_ptr<Processor> processor_;
  MilterOptions options_;
  std::unique_ptr<Milter> milter_;
  bool exited_ = false;
};

TEST_F(MilterShellTest, ServesAWholeMessage) {
  Start();
  Client c(path_);
  ASSERT_TRUE(c.connected());
  Negotiate(c);
  c.Send('C', Bytes("mx\0"
                    "4\0\x19"
                    "192.0.2.1\0"));
  c.Send('M', Bytes("<a@example.org>\0"));
  c.Send('R', Bytes("<b@example.com>\0"));
  c.Send('L', Bytes("Subject\0hi\0"));
  c.Send('N');
  c.Send('B', "hello\r\n");
  for (int i = 0; i < 6; ++i) {
    auto r = c.Read();
    ASSERT_TRUE(r.has_value()) << i;
    EXPECT_EQ(r->cmd, 'c') << i;
  }
  c.Send('D', Bytes("Ei\0QID\0"));
  c.Send('E');
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cmd, 'c');
  // A second message on the same session.
  c.Send('M', Bytes("<a@example.org>\0"));
  r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cmd, 'c');
  milter_->Stop();
  EXPECT_FALSE(exited_);
}

TEST_F(MilterShellTest, OutOfOrderCommandCloses) {
  Start();
  Client c(path_);
  Negotiate(c);
  c.Send('C', Bytes("mx\0U"));
  ASSERT_TRUE(c.Read().has_value());
  c.Send('E');  // end-of-message before MAIL
  EXPECT_TRUE(c.Closed());
  Client bad(path_);
  bad.Send('O', "");  // too short for option negotiation
  EXPECT_TRUE(bad.Closed());
}

TEST_F(MilterShellTest, SilentSessionIsClosedAfterTheTimeout) {
  options_.timeout_micros = 1'000'000;
  Start();
  Client silent(path_);
  EXPECT_TRUE(silent.Closed());
  Client idle(path_);
  Negotiate(idle);
  EXPECT_TRUE(idle.Closed());
}

TEST_F(MilterShellTest, MaxConnections) {
  options_.max_connections = 1;
  Start();
  Client first(path_);
  Negotiate(first);
  Client second(path_);
  EXPECT_TRUE(second.Closed());
  first.Send('Q');
  EXPECT_TRUE(first.Closed());
  // Once the first is gone, a new one is served (the loop may need a
  // moment to see the quit: try a few times).
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    Client again(path_);
    again.Send('O', U32(6) + U32(0) + U32(0));
    auto r = again.Read();
    served = r.has_value() && r->cmd == 'O';
    if (!served) ::usleep(100'000);
  }
  EXPECT_TRUE(served);
}

TEST_F(MilterShellTest, StopEndsOpenSessions) {
  Start();
  Client a(path_), b(path_);
  Negotiate(a);
  Negotiate(b);
  b.Send('C', Bytes("mx\0U"));
  ASSERT_TRUE(b.Read().has_value());
  b.Send('M', Bytes("<a@x>\0"));  // a message open
  ASSERT_TRUE(b.Read().has_value());
  milter_->Stop();
  EXPECT_TRUE(a.Closed());
  EXPECT_TRUE(b.Closed());
  EXPECT_FALSE(exited_);
  Client late(path_);
  EXPECT_FALSE(late.connected() && !late.Closed());
}

TEST_F(MilterShellTest, SocketInUseFailsAtStart) {
  Start();
  auto second = Milter::Start(options_, *PosixEnv(), *processor_, nullptr);
  EXPECT_FALSE(second.ok());
  // A stale socket file (nobody listening) is replaced.
  milter_.reset();
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path_.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  ::close(fd);
  Start();
  Client c(path_);
  Negotiate(c);
}

TEST(MilterSocketSpec, Forms) {
  EXPECT_EQ(*MilterSocketSpec("inet:127.0.0.1:10025"), "inet:10025@127.0.0.1");
  EXPECT_EQ(*MilterSocketSpec("inet:10025@127.0.0.1"), "inet:10025@127.0.0.1");
  EXPECT_EQ(*MilterSocketSpec("inet6:[::1]:10025"), "inet6:10025@::1");
  EXPECT_EQ(*MilterSocketSpec("unix:/run/m.sock"), "unix:/run/m.sock");
  EXPECT_EQ(*MilterSocketSpec("local:/run/m.sock"), "local:/run/m.sock");
  for (const char* bad :
       {"tcp:1.2.3.4:25", "inet:1.2.3.4", "inet::25", "unix:rel", "inet:h:99999x"})
    EXPECT_FALSE(MilterSocketSpec(bad).ok()) << bad;
}

}  // namespace
}  // namespace mailvault::intake
