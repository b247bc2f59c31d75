#include "scan/net.h"

#include <gtest/gtest.h>

#include <thread>

#include "testutil/temp_dir.h"

namespace mailvault::scan::net {
namespace {

TEST(ParseEndpoint, Accepts) {
  struct Case {
    const char* spec;
    Endpoint::Kind kind;
    const char* path_or_host;
    uint16_t port;
  } cases[] = {
      {"unix:/run/clamav/clamd.ctl", Endpoint::Kind::kUnix, "/run/clamav/clamd.ctl", 0},
      {"tcp:127.0.0.1:3310", Endpoint::Kind::kTcp, "127.0.0.1", 3310},
      {"tcp:localhost:1", Endpoint::Kind::kTcp, "localhost", 1},
      {"tcp:[::1]:3310", Endpoint::Kind::kTcp, "::1", 3310},
      {"tcp:[fe80::1%eth0]:65535", Endpoint::Kind::kTcp, "fe80::1%eth0", 65535},
      {"tcp:clamd.example.com:0", Endpoint::Kind::kTcp, "clamd.example.com", 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.spec);
    auto e = ParseEndpoint(c.spec);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_EQ(e->kind, c.kind);
    EXPECT_EQ(c.kind == Endpoint::Kind::kUnix ? e->path : e->host, c.path_or_host);
    EXPECT_EQ(e->port, c.port);
    EXPECT_EQ(e->ToString(), c.spec);  // round trip
  }
}

TEST(ParseEndpoint, Rejects) {
  const std::string too_long = "unix:/" + std::string(200, 'a');
  for (const std::string spec :
       {"", "unix:", "unix:relative/path", "tcp:", "tcp:host", "tcp::3310",
        "tcp:host:", "tcp:host:99999", "tcp:host:-1", "tcp:host:33x", "tcp:::1:3310",
        "tcp:[::1]3310", "tcp:[::1]:", "tcp:[::1", "http://127.0.0.1:3310", "127.0.0.1:3310",
        "tcp:h ost:1", "unix:/a\nb", too_long.c_str()}) {
    SCOPED_TRACE(spec);
    auto e = ParseEndpoint(spec);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.status().code(), Code::kInvalidArgument);
  }
}

// Connects a client to a fresh listener; returns {client, server side}.
std::pair<Socket, Socket> Pair(const Endpoint& at) {
  auto listener = Listen(at);
  EXPECT_TRUE(listener.ok()) << listener.status().ToString();
  Endpoint target = at;
  if (at.kind == Endpoint::Kind::kTcp) target.port = listener->LocalPort();
  auto client = Connect(target, DeadlineAfter(5'000'000));
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  auto server = listener->Accept(DeadlineAfter(5'000'000));
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return {std::move(client).value(), std::move(server).value()};
}

void RoundTrip(const Endpoint& at) {
  auto [client, server] = Pair(at);
  // Larger than any socket buffer, so both sides must wait for each other.
  std::string big(3 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4093) big[i] = static_cast<char>(i);
  big.back() = 'y';
  std::thread writer([&] {
    EXPECT_TRUE(client.WriteAll(big, DeadlineAfter(10'000'000)).ok());
    EXPECT_TRUE(
        client.WriteAll(std::string_view("reply\0tail", 10), DeadlineAfter(5'000'000)).ok());
  });
  auto got = server.ReadExactly(big.size(), DeadlineAfter(10'000'000));
  writer.join();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == big);
  auto line = server.ReadUntil('\0', 100, DeadlineAfter(5'000'000));
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(*line, "reply");
}

TEST(Socket, RoundTripUnix) {
  TempDir dir;
  RoundTrip(Endpoint{Endpoint::Kind::kUnix, dir.File("s.sock"), "", 0});
}

TEST(Socket, RoundTripTcp) { RoundTrip(Endpoint{Endpoint::Kind::kTcp, "", "127.0.0.1", 0}); }

TEST(Socket, ReadUntilStopsAtPeerCloseAndAtMaxBytes) {
  TempDir dir;
  Endpoint at{Endpoint::Kind::kUnix, dir.File("s.sock"), "", 0};
  {
    auto [client, server] = Pair(at);
    ASSERT_TRUE(server.WriteAll("no terminator", DeadlineAfter(1'000'000)).ok());
    server.ShutdownWrite();
    auto got = client.ReadUntil('\0', 100, DeadlineAfter(5'000'000));
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, "no terminator");
  }
  std::filesystem::remove(at.path);
  {
    auto [client, server] = Pair(at);
    ASSERT_TRUE(server.WriteAll(std::string(300, 'a'), DeadlineAfter(1'000'000)).ok());
    auto got = client.ReadUntil('\0', 100, DeadlineAfter(5'000'000));
    ASSERT_FALSE(got.ok());
    EXPECT_TRUE(got.status().IsCorruption());
  }
}

TEST(Socket, ReadExactlyFailsWhenPeerCloses) {
  auto [client, server] = Pair(Endpoint{Endpoint::Kind::kTcp, "", "127.0.0.1", 0});
  ASSERT_TRUE(client.WriteAll("abc", DeadlineAfter(1'000'000)).ok());
  client = Socket();
  auto got = server.ReadExactly(10, DeadlineAfter(5'000'000));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kIOError);
}

TEST(Socket, WaitsEndAtTheDeadline) {
  auto [client, server] = Pair(Endpoint{Endpoint::Kind::kTcp, "", "127.0.0.1", 0});
  EXPECT_FALSE(client.HasInput());
  auto got = client.ReadUntil('\0', 100, DeadlineAfter(50'000));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kUnavailable);
  EXPECT_NE(got.status().message().find("timed out"), std::string::npos);
  // A deadline already passed still lets waiting data through.
  ASSERT_TRUE(server.WriteAll(std::string_view("x\0", 2), DeadlineAfter(1'000'000)).ok());
  while (!client.HasInput()) std::this_thread::yield();
  auto now = client.ReadUntil('\0', 100, DeadlineAfter(0));
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(*now, "x");
}

TEST(Connect, RefusedAndMissing) {
  Endpoint tcp{Endpoint::Kind::kTcp, "", "127.0.0.1", 0};
  {
    auto listener = Listen(tcp);
    ASSERT_TRUE(listener.ok());
    tcp.port = listener->LocalPort();
  }  // closed: nobody listens on that port now
  auto refused = Connect(tcp, DeadlineAfter(5'000'000));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kUnavailable);
  EXPECT_EQ(refused.status().message(), "connection refused");

  TempDir dir;
  auto missing =
      Connect(Endpoint{Endpoint::Kind::kUnix, dir.File("none"), "", 0}, DeadlineAfter(5'000'000));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "no such file or directory");

  auto port0 =
      Connect(Endpoint{Endpoint::Kind::kTcp, "", "127.0.0.1", 0}, DeadlineAfter(1'000'000));
  EXPECT_EQ(port0.status().code(), Code::kInvalidArgument);
}

TEST(Listen, AcceptTimesOut) {
  auto listener = Listen(Endpoint{Endpoint::Kind::kTcp, "", "127.0.0.1", 0});
  ASSERT_TRUE(listener.ok());
  EXPECT_NE(listener->LocalPort(), 0);
  auto conn = listener->Accept(DeadlineAfter(20'000));
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace mailvault::scan::net
