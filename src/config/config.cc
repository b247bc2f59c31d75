// Config parsing with toml++ (its exceptions are caught here and become
// InvalidArgument with the file, line and key).
#include "config/config.h"

#include <toml++/toml.h>

#include <set>

#include "base/units.h"
#include "env/env.h"

namespace mailvault::config {
namespace {

std::string Where(std::string_view source, const toml::node& node) {
  const toml::source_region& r = node.source();
  return std::string(source) + ":" + std::to_string(r.begin.line);
}

// Rejects keys of `table` outside `known`.
Status CheckKeys(std::string_view source, const toml::table& table, std::string_view table_name,
                 const std::set<std::string>& known) {
  for (const auto& [key, node] : table) {
    if (!known.contains(std::string(key.str()))) {
      std::string valid;
      for (const std::string& k : known) valid += (valid.empty() ? "" : ", ") + k;
      return Status::InvalidArgument(Where(source, node) + ": unknown key " +
                                     std::string(table_name) + (table_name.empty() ? "" : ".") +
                                     std::string(key.str()) + " (known: " + valid + ")");
    }
  }
  return Status::Ok();
}

Status GetString(std::string_view source, const toml::table& t, const char* table, const char* key,
                 std::string* out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::Ok();
  auto v = n->value<std::string>();
  if (!n->is_string() || !v) {
    return Status::InvalidArgument(Where(source, *n) + ": " + table + "." + key +
                                   " must be a string");
  }
  *out = *v;
  return Status::Ok();
}

Status ParseStore(std::string_view source, const toml::table& t, DaemonOptions* o) {
  MV_RETURN_IF_ERROR(CheckKeys(source, t, "store", {"dir"}));
  MV_RETURN_IF_ERROR(GetString(source, t, "store", "dir", &o->data_dir));
  if (o->data_dir.empty())
    return Status::InvalidArgument(std::string(source) + ": store.dir is empty");
  return Status::Ok();
}

Status ParseApi(std::string_view source, const toml::table& t, DaemonOptions* o) {
  MV_RETURN_IF_ERROR(CheckKeys(source, t, "api",
                               {"listen", "token", "token_file", "max_message_size", "timeout"}));
  std::string listen, size, timeout;
  MV_RETURN_IF_ERROR(GetString(source, t, "api", "listen", &listen));
  if (!listen.empty()) {
    Status s = ParseListen(listen, &o->listen_host, &o->listen_port);
    if (!s.ok()) return s.Annotate(Where(source, *t.get("listen")) + ": api.listen");
  }
  MV_RETURN_IF_ERROR(GetString(source, t, "api", "token", &o->token));
  MV_RETURN_IF_ERROR(GetString(source, t, "api", "token_file", &o->token_file));
  if (t.contains("token") && o->token.size() < 16) {
    return Status::InvalidArgument(Where(source, *t.get("token")) +
                                   ": api.token must be at least 16 characters");
  }
  MV_RETURN_IF_ERROR(GetString(source, t, "api", "max_message_size", &size));
  if (!size.empty()) {
    auto n = ParseSize(size);
    if (!n.ok())
      return n.status().Annotate(Where(source, *t.get("max_message_size")) +
                                 ": api.max_message_size");
    if (*n == 0)
      return Status::InvalidArgument(std::string(source) + ": api.max_message_size must be > 0");
    o->max_message_size = *n;
  }
  MV_RETURN_IF_ERROR(GetString(source, t, "api", "timeout", &timeout));
  if (!timeout.empty()) {
    auto d = ParseDurationMicros(timeout);
    if (!d.ok()) return d.status().Annotate(Where(source, *t.get("timeout")) + ": api.timeout");
    if (*d <= 0) return Status::InvalidArgument(std::string(source) + ": api.timeout must be > 0");
    o->request_timeout_micros = *d;
  }
  return Status::Ok();
}

Status ParseLog(std::string_view source, const toml::table& t, DaemonOptions* o) {
  MV_RETURN_IF_ERROR(CheckKeys(source, t, "log", {"level"}));
  MV_RETURN_IF_ERROR(GetString(source, t, "log", "level", &o->log_level));
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
  if (!kLevels.contains(o->log_level)) {
    return Status::InvalidArgument(std::string(source) + ": log.level \"" + o->log_level +
                                   "\": use trace, debug, info, warn or error");
  }
  return Status::Ok();
}

}  // namespace

Status ParseListen(std::string_view text, std::string* host, int* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::InvalidArgument("\"" + std::string(text) +
                                   "\": use HOST:PORT, e.g. 127.0.0.1:8025");
  }
  std::string_view h = text.substr(0, colon), p = text.substr(colon + 1);
  if (h.front() == '[') {
    if (h.size() < 3 || h.back() != ']')
      return Status::InvalidArgument("\"" + std::string(text) + "\": bad IPv6 host");
    h = h.substr(1, h.size() - 2);
  }
  int n = 0;
  if (p.empty() || p.size() > 5)
    return Status::InvalidArgument("\"" + std::string(text) + "\": bad port");
  for (char c : p) {
    if (c < '0' || c > '9')
      return Status::InvalidArgument("\"" + std::string(text) + "\": bad port");
    n = n * 10 + (c - '0');
  }
  if (n > 65535) return Status::InvalidArgument("\"" + std::string(text) + "\": port above 65535");
  *host = std::string(h);
  *port = n;
  return Status::Ok();
}

Result<DaemonOptions> ParseConfig(std::string_view toml_text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    return Status::InvalidArgument(std::string(source) + ":" + std::to_string(b.line) + ":" +
                                   std::to_string(b.column) + ": " + std::string(e.description()));
  }
  DaemonOptions o;
  MV_RETURN_IF_ERROR(CheckKeys(source, root, "", {"store", "api", "log"}));
  for (const auto& [key, node] : root) {
    if (!node.is_table()) {
      return Status::InvalidArgument(Where(source, node) + ": " + std::string(key.str()) +
                                     " must be a table ([" + std::string(key.str()) + "])");
    }
  }
  if (auto* t = root["store"].as_table()) MV_RETURN_IF_ERROR(ParseStore(source, *t, &o));
  if (auto* t = root["api"].as_table()) MV_RETURN_IF_ERROR(ParseApi(source, *t, &o));
  if (auto* t = root["log"].as_table()) MV_RETURN_IF_ERROR(ParseLog(source, *t, &o));
  return o;
}

Result<DaemonOptions> LoadConfig(const std::string& path) {
  auto text = PosixEnv()->ReadFile(path);
  if (!text.ok()) return text.status().Annotate("config " + path);
  return ParseConfig(*text, path);
}

std::string TokenFilePath(const DaemonOptions& options) {
  return options.token_file.empty() ? JoinPath(options.data_dir, "api.token") : options.token_file;
}

}  // namespace mailvault::config
