// Configuration accepted = configuration the daemon runs: every row goes
// through ParseConfig (what `mailvault config check` calls) and through
// Prepare (the daemon's start-up up to the point where it would touch the
// data dir: the components' Make and option checks), and both must accept
// it, or both refuse it naming the key, in the same words.
#include "daemon/daemon.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/units.h"
#include "config/config.h"
#include "env/env.h"

namespace mailvault::daemon {
namespace {

using config::DaemonOptions;

// How a key's value is written in TOML and, for the daemon's side, put
// into DaemonOptions as it is (so a value config refuses can still be
// handed to the daemon). A setter returns false when the value has no
// representation in DaemonOptions at all ("soon" for a duration): only
// the config side sees those.
enum class Kind { kString, kStrings, kInt, kBool };
using Setter = std::function<bool(DaemonOptions&, const std::string&)>;
struct KeyInfo {
  Kind kind;
  Setter set;
};

Setter Str(std::string DaemonOptions::*field) {
  return [field](DaemonOptions& o, const std::string& v) { return (o.*field = v, true); };
}
template <typename F>
Setter Fn(F f) {
  return [f](DaemonOptions& o, const std::string& v) { return (f(o) = v, true); };
}
template <typename F>
Setter Dur(F f) {
  return [f](DaemonOptions& o, const std::string& v) {
    auto d = ParseDurationMicros(v);
    if (d.ok()) f(o) = *d;
    return d.ok();
  };
}
template <typename F>
Setter Size(F f) {
  return [f](DaemonOptions& o, const std::string& v) {
    auto n = ParseSize(v);
    if (n.ok()) f(o) = *n;
    return n.ok();
  };
}
template <typename F>
Setter Int(F f) {
  return [f](DaemonOptions& o, const std::string& v) { return (f(o) = std::stoi(v), true); };
}
template <typename F>
Setter Bool(F f) {
  return [f](DaemonOptions& o, const std::string& v) { return (f(o) = v == "true", true); };
}
template <typename F>
Setter List(F f) {
  return [f](DaemonOptions& o, const std::string& v) { return (f(o) = {v}, true); };
}
template <typename F>
Setter HostPort(F f) {
  return [f](DaemonOptions& o, const std::string& v) {
    auto [host, port] = f(o);
    return config::ParseListen(v, host, port).ok();
  };
}

const std::map<std::string, KeyInfo>& Keys() {
  using O = DaemonOptions;
  static const auto* keys = new std::map<std::string, KeyInfo>{
      {"api.listen", {Kind::kString, HostPort([](O& o) {
                        return std::pair{&o.listen_host, &o.listen_port};
                      })}},
      {"api.max_message_size",
       {Kind::kString, Size([](O& o) -> uint64_t& { return o.max_message_size; })}},
      {"api.timeout",
       {Kind::kString, Dur([](O& o) -> int64_t& { return o.request_timeout_micros; })}},
      {"api.tls_cert", {Kind::kString, Str(&O::tls_cert)}},
      {"api.server_names",
       {Kind::kStrings, List([](O& o) -> std::vector<std::string>& { return o.server_names; })}},
      {"console.session_idle",
       {Kind::kString, Dur([](O& o) -> int64_t& { return o.session_idle_micros; })}},
      {"console.session_lifetime",
       {Kind::kString, Dur([](O& o) -> int64_t& { return o.session_lifetime_micros; })}},
      {"milter.socket", {Kind::kString, Fn([](O& o) -> std::string& { return o.milter.socket; })}},
      {"milter.timeout",
       {Kind::kString, Dur([](O& o) -> int64_t& { return o.milter.timeout_micros; })}},
      {"milter.release_max_age",
       {Kind::kString, Dur([](O& o) -> int64_t& { return o.milter.release_max_age_micros; })}},
      {"milter.max_connections",
       {Kind::kInt, Int([](O& o) -> int& { return o.milter.max_connections; })}},
      {"engines.clamd.address",
       {Kind::kString, Fn([](O& o) -> std::string& { return o.engines.clamd.address; })}},
      {"engines.clamd.timeout",
       {Kind::kString, Dur([](O& o) -> int64_t& { return o.engines.clamd.timeout_micros; })}},
      {"engines.clamd.max_stream",
       {Kind::kString, Size([](O& o) -> uint64_t& { return o.engines.clamd.max_stream; })}},
      {"engines.rspamd.url",
       {Kind::kString, Fn([](O& o) -> std::string& { return o.engines.rspamd.url; })}},
      {"engines.rspamd.timeout",
       {Kind::kString, Dur([](O& o) -> int64_t& { return o.engines.rspamd.timeout_micros; })}},
      {"engines.rspamd.max_size",
       {Kind::kString, Size([](O& o) -> uint64_t& { return o.engines.rspamd.max_size; })}},
      {"engines.rspamd.malicious_hosts",
       {Kind::kStrings,
        List([](O& o) -> std::vector<std::string>& { return o.engines.rspamd.malicious_hosts; })}},
      {"engines.content.banned_names", {Kind::kStrings, List([](O& o) -> std::vector<std::string>& {
                                          return o.engines.content.banned_names;
                                        })}},
      {"engines.content.banned_formats",
       {Kind::kStrings,
        List([](O& o) -> std::vector<std::string>& { return o.engines.content.banned_formats; })}},
      {"engines.lists.blacklist", {Kind::kStrings, List([](O& o) -> std::vector<std::string>& {
                                     return o.engines.lists.blacklist;
                                   })}},
      {"engines.lists.whitelist", {Kind::kStrings, List([](O& o) -> std::vector<std::string>& {
                                     return o.engines.lists.whitelist;
                                   })}},
      {"delivery.relay", {Kind::kString, HostPort([](O& o) {
                            return std::pair{&o.delivery.relay.host, &o.delivery.relay.port};
                          })}},
      {"delivery.helo",
       {Kind::kString, Fn([](O& o) -> std::string& { return o.delivery.relay.helo; })}},
      {"delivery.username",
       {Kind::kString, Fn([](O& o) -> std::string& { return o.delivery.relay.username; })}},
      {"delivery.ca_file",
       {Kind::kString, Fn([](O& o) -> std::string& { return o.delivery.relay.ca_file; })}},
      {"delivery.sender",
       {Kind::kString, Fn([](O& o) -> std::string& { return o.delivery.sender; })}},
      {"delivery.from", {Kind::kString, Fn([](O& o) -> std::string& { return o.delivery.from; })}},
      {"delivery.workers", {Kind::kInt, Int([](O& o) -> int& { return o.delivery.workers; })}},
      {"delivery.retry_min",
       {Kind::kString, Dur([](O& o) -> int64_t& { return o.delivery.retry_min_micros; })}},
      {"delivery.retry_max",
       {Kind::kString, Dur([](O& o) -> int64_t& { return o.delivery.retry_max_micros; })}},
      {"delivery.lifetime",
       {Kind::kString, Dur([](O& o) -> int64_t& { return o.delivery.lifetime_micros; })}},
      {"delivery.connect_timeout", {Kind::kString, Dur([](O& o) -> int64_t& {
                                      return o.delivery.relay.connect_timeout_micros;
                                    })}},
      {"delivery.timeout",
       {Kind::kString, Dur([](O& o) -> int64_t& { return o.delivery.relay.timeout_micros; })}},
      {"log.trace_file", {Kind::kString, Str(&O::trace_file)}},
      {"log.trace_max_size",
       {Kind::kString, Size([](O& o) -> uint64_t& { return o.trace_max_size; })}},
      {"log.trace_files", {Kind::kInt, Int([](O& o) -> int& { return o.trace_files; })}},
      {"ldap.enabled", {Kind::kBool, Bool([](O& o) -> bool& { return o.ldap.enabled; })}},
      {"ldap.servers",
       {Kind::kStrings, List([](O& o) -> std::vector<std::string>& { return o.ldap.servers; })}},
      {"ldap.starttls", {Kind::kBool, Bool([](O& o) -> bool& { return o.ldap.starttls; })}},
      {"ldap.ca_file", {Kind::kString, Fn([](O& o) -> std::string& { return o.ldap.ca_file; })}},
      {"ldap.bind_dn", {Kind::kString, Fn([](O& o) -> std::string& { return o.ldap.bind_dn; })}},
      {"ldap.bind_password_file",
       {Kind::kString, Fn([](O& o) -> std::string& { return o.ldap.bind_password_file; })}},
      {"ldap.base_dn", {Kind::kString, Fn([](O& o) -> std::string& { return o.ldap.base_dn; })}},
      {"ldap.user_filter",
       {Kind::kString, Fn([](O& o) -> std::string& { return o.ldap.user_filter; })}},
      {"ldap.group_filter",
       {Kind::kString, Fn([](O& o) -> std::string& { return o.ldap.group_filter; })}},
      {"ldap.address_attributes", {Kind::kStrings, List([](O& o) -> std::vector<std::string>& {
                                     return o.ldap.address_attributes;
                                   })}},
      {"ldap.login_attributes", {Kind::kStrings, List([](O& o) -> std::vector<std::string>& {
                                   return o.ldap.login_attributes;
                                 })}},
      {"ldap.group_attribute",
       {Kind::kString, Fn([](O& o) -> std::string& { return o.ldap.group_attribute; })}},
      {"ldap.delegation_attribute",
       {Kind::kString, Fn([](O& o) -> std::string& { return o.ldap.delegation_attribute; })}},
      {"ldap.sync_interval",
       {Kind::kString, Dur([](O& o) -> int64_t& { return o.ldap.sync_interval_micros; })}},
      {"ldap.timeout",
       {Kind::kString, Dur([](O& o) -> int64_t& { return o.ldap.timeout_micros; })}},
      {"ldap.page_size", {Kind::kInt, Int([](O& o) -> int& { return o.ldap.page_size; })}},
  };
  return *keys;
}

std::string TomlString(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// "[engines.clamd]\naddress = \"...\"\n"
std::string Toml(const std::string& key, const KeyInfo& info, const std::string& value) {
  size_t dot = key.rfind('.');
  std::string v = info.kind == Kind::kInt || info.kind == Kind::kBool ? value
                  : info.kind == Kind::kStrings ? "[" + TomlString(value) + "]"
                                                : TomlString(value);
  return "[" + key.substr(0, dot) + "]\n" + key.substr(dot + 1) + " = " + v + "\n";
}

struct Row {
  const char* key;
  std::string value;
  bool ok;
};

std::vector<Row> Rows() {
  const std::string long_name(120, 'x');
  return {
      // [milter] socket: config's own parser took inet:PORT and relative
      // unix paths, and passed any PORT@HOST; intake refused or misread them.
      {"milter.socket", "inet:127.0.0.1:10025", true},
      {"milter.socket", "inet:10025@127.0.0.1", true},
      {"milter.socket", "inet6:[::1]:10025", true},
      {"milter.socket", "unix:/run/mailvault/milter.sock", true},
      {"milter.socket", "local:/run/m.sock", true},
      {"milter.socket", "inet:10025", false},
      {"milter.socket", "unix:rel.sock", false},
      {"milter.socket", "unix:rel/m.sock", false},
      {"milter.socket", "unix:/" + long_name, false},
      {"milter.socket", "inet:0@127.0.0.1", false},
      {"milter.socket", "inet:x@127.0.0.1", false},
      {"milter.socket", "inet:127.0.0.1:99999", false},
      {"milter.socket", "inet6:::1:10025", false},
      {"milter.socket", "tcp:127.0.0.1:10025", false},
      {"milter.timeout", "300s", true},
      {"milter.timeout", "0s", false},
      {"milter.timeout", "soon", false},
      {"milter.timeout", "1e300s", false},
      {"milter.release_max_age", "5m", true},
      {"milter.release_max_age", "2h", false},
      {"milter.release_max_age", "500ms", false},
      {"milter.max_connections", "10", true},
      {"milter.max_connections", "0", false},
      {"milter.max_connections", "2000000", false},
      // [engines.clamd] address: config's CheckEndpoint took HOST:PORT and
      // relative unix paths; scan::ParseEndpoint refused them at start.
      {"engines.clamd.address", "unix:/run/clamav/clamd.ctl", true},
      {"engines.clamd.address", "tcp:127.0.0.1:3310", true},
      {"engines.clamd.address", "tcp:[::1]:3310", true},
      {"engines.clamd.address", "tcp:localhost:3310", true},
      {"engines.clamd.address", "127.0.0.1:3310", false},
      {"engines.clamd.address", "unix:rel.sock", false},
      {"engines.clamd.address", "unix:", false},
      {"engines.clamd.address", "tcp:127.0.0.1:0", false},
      {"engines.clamd.address", "tcp:127.0.0.1:99999", false},
      {"engines.clamd.address", "unix:/" + long_name, false},
      {"engines.clamd.timeout", "30s", true},
      {"engines.clamd.timeout", "0s", false},
      {"engines.clamd.max_stream", "25MB", true},
      {"engines.clamd.max_stream", "0", false},
      // [engines.rspamd]: the URL's scheme in capitals, a URL without a host,
      // and host patterns were judged differently.
      {"engines.rspamd.url", "http://127.0.0.1:11333", true},
      {"engines.rspamd.url", "HTTPS://rspamd.example:11333/", true},
      {"engines.rspamd.url", "127.0.0.1:11333", false},
      {"engines.rspamd.url", "http:///checkv2", false},
      {"engines.rspamd.url", "http://rspamd\n.example", false},
      {"engines.rspamd.timeout", "15s", true},
      {"engines.rspamd.timeout", "0ms", false},
      {"engines.rspamd.max_size", "25MB", true},
      {"engines.rspamd.max_size", "0KB", false},
      {"engines.rspamd.malicious_hosts", "evil.example", true},
      {"engines.rspamd.malicious_hosts", "*.evil.example", true},
      {"engines.rspamd.malicious_hosts", ".", false},
      {"engines.rspamd.malicious_hosts", "http://evil.example/", false},
      // [engines.content]: a glob with '/' never matches a base name.
      {"engines.content.banned_names", "*.exe", true},
      {"engines.content.banned_names", "dir/*.exe", false},
      {"engines.content.banned_names", long_name + long_name + long_name, false},
      {"engines.content.banned_formats", "application/x-dosexec", true},
      {"engines.content.banned_formats", " Application/X-DOSEXEC ", true},
      {"engines.content.banned_formats", "exe", false},
      {"engines.content.banned_formats", "application/", false},
      // [engines.lists]
      {"engines.lists.blacklist", "spam@example.com", true},
      {"engines.lists.blacklist", "@example.com", true},
      {"engines.lists.blacklist", "example.com", true},
      {"engines.lists.blacklist", "user@", false},
      {"engines.lists.blacklist", "a,b@example.com", false},
      {"engines.lists.blacklist", "@", false},
      {"engines.lists.whitelist", "a b@example.com", false},
      // [api]: a listen address off loopback needs TLS (the console refused
      // it at start, config check did not).
      {"api.listen", "127.0.0.1:8025", true},
      {"api.listen", "[::1]:8025", true},
      {"api.listen", "localhost:0", true},
      {"api.listen", "0.0.0.0:8025", false},
      {"api.listen", "192.0.2.1:8025", false},
      {"api.listen", "127.0.0.1:99999", false},
      {"api.max_message_size", "10MB", true},
      {"api.max_message_size", "0", false},
      {"api.timeout", "60s", true},
      {"api.timeout", "0s", false},
      {"api.tls_cert", "/etc/mailvault/cert.pem", false},  // without tls_key
      {"api.server_names", "mail.example.com", true},
      {"api.server_names", "[::1]", true},
      {"api.server_names", "mail.example.com:8025", false},
      {"api.server_names", "-mail", false},
      // [console]
      {"console.session_idle", "1h", true},
      {"console.session_idle", "13h", false},  // longer than the lifetime
      {"console.session_idle", "0s", false},
      {"console.session_lifetime", "10m", false},  // shorter than the idle time
      // [delivery]: the relay host and EHLO name went to libcurl unchecked by
      // config check; the SMTP client refused them at start.
      {"delivery.relay", "127.0.0.1:25", true},
      {"delivery.relay", "[::1]:25", true},
      {"delivery.relay", "relay.example:587", true},
      {"delivery.relay", "127.0.0.1:0", false},
      {"delivery.relay", "bad host:25", false},
      {"delivery.relay", "relay/x:25", false},
      {"delivery.helo", "gw.example", true},
      {"delivery.helo", "gw example", false},
      {"delivery.username", "user\x01", false},
      {"delivery.ca_file", "/etc/ssl/ca.pem\x07", false},
      {"delivery.sender", "bounce@example.com", true},
      {"delivery.sender", "Bounce <bounce@example.com>", false},
      {"delivery.from", "Gateway <gw@example.com>", true},
      {"delivery.from", "not an address", false},
      {"delivery.workers", "4", true},
      {"delivery.workers", "0", false},
      {"delivery.workers", "65", false},
      {"delivery.retry_min", "5m", true},
      {"delivery.retry_min", "2h", false},  // above retry_max
      {"delivery.retry_max", "10s", false},
      {"delivery.lifetime", "0s", false},
      {"delivery.connect_timeout", "0s", false},
      {"delivery.timeout", "0s", false},
      // [log]: the trace log's rotation (issue 17 §2).
      {"log.trace_file", "/var/log/mailvault/trace.log", true},
      {"log.trace_file", "/var/log/mailvault/", false},
      {"log.trace_max_size", "500MB", true},
      {"log.trace_max_size", "64KB", true},
      {"log.trace_max_size", "1KB", false},
      {"log.trace_max_size", "0", false},
      {"log.trace_files", "4", true},
      {"log.trace_files", "100", true},
      {"log.trace_files", "0", false},
      {"log.trace_files", "101", false},
      // [ldap]: directory/ldap_options.h's rules on both sides.
      {"ldap.enabled", "false", true},
      {"ldap.enabled", "true", false},  // no server, no base DN
      {"ldap.servers", "ldap://dc1.example.com", true},
      {"ldap.servers", "LDAPS://dc1.example.com:636/", true},
      {"ldap.servers", "ldap://[2001:db8::1]:389", true},
      {"ldap.servers", "dc1.example.com", false},
      {"ldap.servers", "http://dc1.example.com", false},
      {"ldap.servers", "ldap://dc1.example.com:0", false},
      {"ldap.servers", "ldap://dc1.example.com/dc=example,dc=com", false},
      {"ldap.servers", "ldap://dc1.example.com:389?cn", false},
      {"ldap.starttls", "true", true},
      {"ldap.starttls", "false", true},  // no server: nothing in clear
      {"ldap.ca_file", "/etc/ssl/certs/corp-ca.pem", true},
      {"ldap.ca_file", "certs/ca.pem", false},
      {"ldap.ca_file", "/etc/ca.pem\x07", false},
      {"ldap.bind_dn", "CN=mailvault,OU=Service,DC=example,DC=com", true},
      {"ldap.bind_dn", "mailvault@example.com", false},
      {"ldap.bind_password_file", "/etc/mailvault/ldap.pw", false},  // without bind_dn
      {"ldap.base_dn", "DC=example,DC=com", true},
      {"ldap.base_dn", "dc=example,,dc=com", false},
      {"ldap.user_filter", "(objectClass=inetOrgPerson)", true},
      {"ldap.user_filter", "objectClass=inetOrgPerson", false},
      {"ldap.user_filter", "(&(objectClass=user)(cn=a(b))", false},
      {"ldap.group_filter", "(objectClass=groupOfNames)", true},
      {"ldap.group_filter", "(objectClass=group", false},
      {"ldap.address_attributes", "mail", true},
      {"ldap.address_attributes", "mail)(x", false},
      {"ldap.login_attributes", "uid", true},
      {"ldap.login_attributes", "uid;binary", false},
      {"ldap.group_attribute", "memberOf", true},
      {"ldap.group_attribute", "member of", false},
      {"ldap.delegation_attribute", "publicDelegates", true},
      {"ldap.delegation_attribute", "", false},
      {"ldap.sync_interval", "1h", true},
      {"ldap.sync_interval", "10s", false},
      {"ldap.sync_interval", "0s", false},
      {"ldap.timeout", "5s", true},
      {"ldap.timeout", "0s", false},
      {"ldap.timeout", "1h", false},
      {"ldap.page_size", "1000", true},
      {"ldap.page_size", "0", false},
      {"ldap.page_size", "100000", false},
  };
}

TEST(ConfigAgreesWithStartup, EveryRow) {
  Env& env = *PosixEnv();
  for (const Row& row : Rows()) {
    SCOPED_TRACE(std::string(row.key) + " = \"" + row.value + "\"");
    auto info = Keys().find(row.key);
    ASSERT_NE(info, Keys().end()) << "no setter for " << row.key;
    const std::string toml = Toml(row.key, info->second, row.value);
    auto config = config::ParseConfig(toml, "t.toml");
    EXPECT_EQ(config.ok(), row.ok) << toml << (config.ok() ? "" : config.status().message());
    if (!config.ok()) {
      EXPECT_EQ(config.status().code(), Code::kInvalidArgument);
      EXPECT_NE(config.status().message().find(row.key), std::string::npos)
          << config.status().message();
    }
    // The daemon gets what config made of the file, or, where config
    // refused it, the value as written.
    DaemonOptions options;
    if (config.ok()) {
      options = *config;
    } else if (!info->second.set(options, row.value)) {
      continue;  // no such value in DaemonOptions: nothing reaches the daemon
    }
    auto prepared = Prepare(options, env);
    EXPECT_EQ(prepared.ok(), row.ok) << (prepared.ok() ? "" : prepared.status().message());
    if (!prepared.ok() && !config.ok()) {
      // Same words; config only puts the file and line in front.
      const std::string said = config.status().message();
      const std::string ran = prepared.status().message();
      EXPECT_NE(ran.find(row.key), std::string::npos) << ran;
      EXPECT_TRUE(said.size() >= ran.size() &&
                  said.compare(said.size() - ran.size(), ran.size(), ran) == 0)
          << "config: " << said << "\ndaemon: " << ran;
    }
  }
}

// The shipped config is one the daemon runs.
TEST(ConfigAgreesWithStartup, ShippedConfig) {
  auto config = config::LoadConfig(std::string(MV_SOURCE_DIR) + "/conf/mailvault.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto prepared = Prepare(*config, *PosixEnv());
  EXPECT_TRUE(prepared.ok()) << prepared.status().ToString();
}

}  // namespace
}  // namespace mailvault::daemon
