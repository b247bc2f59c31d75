#include "intake/milter_socket.h"

#include <gtest/gtest.h>

namespace mailvault::intake {
namespace {

TEST(MilterSocketSpecTest, Forms) {
  const std::pair<const char*, const char*> good[] = {
      {"inet:127.0.0.1:10025", "inet:10025@127.0.0.1"},
      {"inet:localhost:10025", "inet:10025@localhost"},
      {"inet:0.0.0.0:10025", "inet:10025@0.0.0.0"},
      {"inet:10025@127.0.0.1", "inet:10025@127.0.0.1"},
      {"inet6:[::1]:10025", "inet6:10025@::1"},
      {"inet6:10025@::1", "inet6:10025@::1"},
      {"unix:/run/mailvault/milter.sock", "unix:/run/mailvault/milter.sock"},
      {"local:/run/m.sock", "local:/run/m.sock"},
  };
  for (const auto& [in, want] : good) {
    auto got = MilterSocketSpec(in);
    ASSERT_TRUE(got.ok()) << in << ": " << got.status().ToString();
    EXPECT_EQ(*got, want);
  }
  const std::string long_path = "unix:/" + std::string(120, 'm');
  for (const std::string bad :
       {"", "127.0.0.1:10025", "tcp:127.0.0.1:10025", "unix:", "unix:rel.sock", "unix:rel/m.sock",
        long_path.c_str(), "inet:10025", "inet:host", "inet:host:0", "inet:host:99999",
        "inet:[::1]:10025", "inet6:::1:10025", "inet:x@host", "inet:0@host", "inet:10025@",
        "inet::10025", "inet:127.0.0.1 :10025", "unix:/run/m\n.sock"}) {
    auto got = MilterSocketSpec(bad);
    EXPECT_FALSE(got.ok()) << bad;
    EXPECT_EQ(got.status().code(), Code::kInvalidArgument) << bad;
  }
  // The message says what is wrong and how to write it.
  EXPECT_EQ(MilterSocketSpec("inet:10025").status().message(),
            "milter socket \"inet:10025\": no host (0.0.0.0 or [::] listens on every address) "
            "(use inet:HOST:PORT, inet6:[ADDR]:PORT or unix:/path)");
}

}  // namespace
}  // namespace mailvault::intake
