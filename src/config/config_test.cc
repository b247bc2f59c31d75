// Tests of config parsing: defaults, units, listen addresses, and that bad
// values and typos are errors naming the key.
#include "config/config.h"

#include <gtest/gtest.h>

namespace mailvault::config {
namespace {

TEST(ConfigTest, EmptyGivesDefaults) {
  auto o = ParseConfig("", "t.toml");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->data_dir, "./var");
  EXPECT_EQ(o->listen_host, "127.0.0.1");
  EXPECT_EQ(o->listen_port, 8025);
  EXPECT_EQ(o->max_message_size, 64'000'000u);
  EXPECT_EQ(TokenFilePath(*o), "./var/api.token");
}

TEST(ConfigTest, FullFile) {
  auto o = ParseConfig(R"(
[store]
dir = "/srv/mv"
[api]
listen = "[::1]:0"
token_file = "/etc/mv/token"
max_message_size = "10MiB"
timeout = "2m"
[log]
level = "debug"
)",
                       "t.toml");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->data_dir, "/srv/mv");
  EXPECT_EQ(o->listen_host, "::1");
  EXPECT_EQ(o->listen_port, 0);
  EXPECT_EQ(TokenFilePath(*o), "/etc/mv/token");
  EXPECT_EQ(o->max_message_size, 10u << 20);
  EXPECT_EQ(o->request_timeout_micros, 120'000'000);
  EXPECT_EQ(o->log_level, "debug");
}

TEST(ConfigTest, ShippedDefaultsParse) {
  auto o = LoadConfig(std::string(MV_SOURCE_DIR) + "/conf/mailvault.toml");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->listen_host, "127.0.0.1");
  EXPECT_EQ(o->listen_port, 8025);
}

void ExpectError(const char* text, const char* needle) {
  auto o = ParseConfig(text, "t.toml");
  ASSERT_FALSE(o.ok()) << text;
  EXPECT_EQ(o.status().code(), Code::kInvalidArgument);
  EXPECT_NE(o.status().message().find(needle), std::string::npos)
      << "message: " << o.status().message();
}

TEST(ConfigTest, BadValuesNameTheKey) {
  ExpectError("[api]\nmax_message_size = \"lots\"\n", "api.max_message_size");
  ExpectError("[api]\nmax_message_size = 64\n", "must be a string");
  ExpectError("[api]\nlisten = \"127.0.0.1\"\n", "HOST:PORT");
  ExpectError("[api]\nlisten = \"127.0.0.1:99999\"\n", "port");
  ExpectError("[api]\nlisten = \"127.0.0.1:80x\"\n", "bad port");
  ExpectError("[api]\ntimeout = \"soon\"\n", "api.timeout");
  ExpectError("[api]\ntoken = \"short\"\n", "16 characters");
  ExpectError("[api]\nlistn = \"x:1\"\n", "unknown key api.listn");
  ExpectError("[stroe]\ndir = \"x\"\n", "unknown key stroe");
  ExpectError("[log]\nlevel = \"loud\"\n", "log.level");
  ExpectError("store = 3\n", "must be a table");
  ExpectError("[api\n", "t.toml:1");
}

TEST(ParseListenTest, Forms) {
  std::string host;
  int port = -1;
  ASSERT_TRUE(ParseListen("localhost:8025", &host, &port).ok());
  EXPECT_EQ(host, "localhost");
  EXPECT_EQ(port, 8025);
  ASSERT_TRUE(ParseListen("0.0.0.0:0", &host, &port).ok());
  EXPECT_EQ(port, 0);
  EXPECT_FALSE(ParseListen(":80", &host, &port).ok());
  EXPECT_FALSE(ParseListen("h:", &host, &port).ok());
  EXPECT_FALSE(ParseListen("[::1:80", &host, &port).ok());
}

}  // namespace
}  // namespace mailvault::config
