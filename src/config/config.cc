// Config parsing with toml++ (its exceptions are caught here and become
// InvalidArgument with the file, line and key).
#include "config/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <map>
#include <set>

#include "base/units.h"
#include "env/data_dir.h"
#include "env/env.h"
#include "intake/milter_socket.h"
#include "mailvault/copy.h"
#include "scan/address_lists.h"
#include "scan/clamd.h"
#include "scan/content_filter.h"
#include "scan/rspamd.h"

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

std::string KeyName(std::string_view table, std::string_view key) {
  return table.empty() ? std::string(key) : std::string(table) + "." + std::string(key);
}

// "t.toml:7: engines.clamd.timeout must be a string", for the node at `key`.
Status Bad(std::string_view source, const toml::node& node, std::string_view table,
           std::string_view key, std::string_view what) {
  return Status::InvalidArgument(Where(source, node) + ": " + KeyName(table, key) + " " +
                                 std::string(what));
}

Status GetBool(std::string_view source, const toml::table& t, std::string_view table,
               const char* key, bool* out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::Ok();
  if (!n->is_boolean()) return Bad(source, *n, table, key, "must be true or false");
  *out = n->as_boolean()->get();
  return Status::Ok();
}

// A whole number; its range is the component's rule (Check*Options), so a
// value outside int becomes one no range admits.
Status GetInt(std::string_view source, const toml::table& t, std::string_view table,
              const char* key, int* out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::Ok();
  auto v = n->value<int64_t>();
  if (!n->is_integer() || !v) return Bad(source, *n, table, key, "must be a whole number");
  *out = *v < INT_MIN || *v > INT_MAX ? INT_MIN : static_cast<int>(*v);
  return Status::Ok();
}

// An array of non-empty strings without control characters.
Status GetStrings(std::string_view source, const toml::table& t, std::string_view table,
                  const char* key, std::vector<std::string>* out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::Ok();
  const toml::array* a = n->as_array();
  if (a == nullptr) return Bad(source, *n, table, key, "must be an array of strings");
  std::vector<std::string> values;
  for (const toml::node& e : *a) {
    auto v = e.value<std::string>();
    if (!e.is_string() || !v) return Bad(source, e, table, key, "must be an array of strings");
    bool printable = !v->empty() && std::all_of(v->begin(), v->end(), [](char c) {
      return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
    });
    if (!printable) {
      return Bad(source, e, table, key, "entries must be non-empty, without control characters");
    }
    values.push_back(*v);
  }
  *out = std::move(values);
  return Status::Ok();
}

Status GetSizeKey(std::string_view source, const toml::table& t, std::string_view table,
                  const char* key, bool zero_ok, uint64_t* out) {
  std::string text;
  MV_RETURN_IF_ERROR(GetString(source, t, std::string(table).c_str(), key, &text));
  if (!t.contains(key)) return Status::Ok();
  auto n = zero_ok ? ParseSize(text) : ParsePositiveSize(text);
  if (!n.ok()) return n.status().Annotate(Where(source, *t.get(key)) + ": " + KeyName(table, key));
  *out = *n;
  return Status::Ok();
}

Status GetDurationKey(std::string_view source, const toml::table& t, std::string_view table,
                      const char* key, int64_t* out) {
  std::string text;
  MV_RETURN_IF_ERROR(GetString(source, t, std::string(table).c_str(), key, &text));
  if (!t.contains(key)) return Status::Ok();
  auto d = ParsePositiveDuration(text);
  if (!d.ok()) return d.status().Annotate(Where(source, *t.get(key)) + ": " + KeyName(table, key));
  *out = *d;
  return Status::Ok();
}

// The table at `key` of `t`, or nullptr if absent; an error if it is not one.
Status GetTable(std::string_view source, const toml::table& t, std::string_view table,
                const char* key, const toml::table** out) {
  *out = nullptr;
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::Ok();
  *out = n->as_table();
  if (*out == nullptr) {
    return Bad(source, *n, table, key, "must be a table ([" + KeyName(table, key) + "])");
  }
  return Status::Ok();
}

Status ParseStore(std::string_view source, const toml::table& t, DaemonOptions* o) {
  MV_RETURN_IF_ERROR(CheckKeys(source, t, "store", {"dir", "index_cache"}));
  MV_RETURN_IF_ERROR(GetString(source, t, "store", "dir", &o->data_dir));
  if (o->data_dir.empty())
    return Status::InvalidArgument(std::string(source) + ": store.dir is empty");
  MV_RETURN_IF_ERROR(GetSizeKey(source, t, "store", "index_cache", false, &o->index_cache));
  if (o->index_cache < (1 << 20)) {
    return Bad(source, *t.get("index_cache"), "store", "index_cache", "must be at least 1MB");
  }
  return Status::Ok();
}

Status ParseApi(std::string_view source, const toml::table& t, DaemonOptions* o) {
  MV_RETURN_IF_ERROR(CheckKeys(source, t, "api",
                               {"listen", "token", "token_file", "max_message_size", "timeout",
                                "tls_cert", "tls_key", "server_names"}));
  std::string listen;
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
  MV_RETURN_IF_ERROR(GetSizeKey(source, t, "api", "max_message_size", false, &o->max_message_size));
  MV_RETURN_IF_ERROR(GetDurationKey(source, t, "api", "timeout", &o->request_timeout_micros));
  MV_RETURN_IF_ERROR(GetStrings(source, t, "api", "server_names", &o->server_names));
  for (std::string& name : o->server_names) {
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  MV_RETURN_IF_ERROR(GetString(source, t, "api", "tls_cert", &o->tls_cert));
  MV_RETURN_IF_ERROR(GetString(source, t, "api", "tls_key", &o->tls_key));
  return Status::Ok();
}

Status ParseConsole(std::string_view source, const toml::table& t, DaemonOptions* o) {
  constexpr std::string_view kTable = "console";
  MV_RETURN_IF_ERROR(
      CheckKeys(source, t, "console", {"session_idle", "session_lifetime", "audit_max_records"}));
  MV_RETURN_IF_ERROR(GetDurationKey(source, t, kTable, "session_idle", &o->session_idle_micros));
  MV_RETURN_IF_ERROR(
      GetDurationKey(source, t, kTable, "session_lifetime", &o->session_lifetime_micros));
  if (const toml::node* n = t.get("audit_max_records")) {
    auto v = n->value<int64_t>();
    if (!n->is_integer() || !v || *v < 1000) {
      return Bad(source, *n, kTable, "audit_max_records", "must be a whole number of 1000 or more");
    }
    o->audit_max_records = static_cast<uint64_t>(*v);
  }
  return Status::Ok();
}

Status ParseLog(std::string_view source, const toml::table& t, DaemonOptions* o) {
  MV_RETURN_IF_ERROR(
      CheckKeys(source, t, "log", {"level", "trace_file", "trace_max_size", "trace_files"}));
  MV_RETURN_IF_ERROR(GetString(source, t, "log", "level", &o->log_level));
  MV_RETURN_IF_ERROR(GetString(source, t, "log", "trace_file", &o->trace_file));
  MV_RETURN_IF_ERROR(GetSizeKey(source, t, "log", "trace_max_size", true, &o->trace_max_size));
  MV_RETURN_IF_ERROR(GetInt(source, t, "log", "trace_files", &o->trace_files));
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
  if (!kLevels.contains(o->log_level)) {
    return Status::InvalidArgument(std::string(source) + ": log.level \"" + o->log_level +
                                   "\": use trace, debug, info, warn or error");
  }
  return Status::Ok();
}

Status ParseDebug(std::string_view source, const toml::table& t, DaemonOptions* o) {
  MV_RETURN_IF_ERROR(CheckKeys(source, t, "debug", {"core_dumps"}));
  return GetBool(source, t, "debug", "core_dumps", &o->core_dumps);
}

Status ParseMilter(std::string_view source, const toml::table& t, DaemonOptions* o) {
  const char* kTable = "milter";
  MV_RETURN_IF_ERROR(CheckKeys(
      source, t, kTable,
      {"enabled", "socket", "spool_dir", "timeout", "release_max_age", "max_connections"}));
  intake::MilterOptions& m = o->milter;
  MV_RETURN_IF_ERROR(GetBool(source, t, kTable, "enabled", &m.enabled));
  std::string socket;
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "socket", &socket));
  if (t.contains("socket")) {
    auto spec = intake::MilterSocketSpec(socket);
    if (!spec.ok())
      return spec.status().Annotate(Where(source, *t.get("socket")) + ": milter.socket");
    m.socket = *spec;
  }
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "spool_dir", &m.spool_dir));
  MV_RETURN_IF_ERROR(GetDurationKey(source, t, kTable, "timeout", &m.timeout_micros));
  MV_RETURN_IF_ERROR(
      GetDurationKey(source, t, kTable, "release_max_age", &m.release_max_age_micros));
  MV_RETURN_IF_ERROR(GetInt(source, t, kTable, "max_connections", &m.max_connections));
  return Status::Ok();
}

Status ParseClamd(std::string_view source, const toml::table& t, scan::ClamdOptions* c) {
  const char* kTable = "engines.clamd";
  MV_RETURN_IF_ERROR(CheckKeys(source, t, kTable, {"enabled", "address", "timeout", "max_stream"}));
  MV_RETURN_IF_ERROR(GetBool(source, t, kTable, "enabled", &c->enabled));
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "address", &c->address));
  if (t.contains("address")) {
    Status s = scan::ParseClamdAddress(c->address).status();
    if (!s.ok()) return s.Annotate(Where(source, *t.get("address")) + ": engines.clamd.address");
  }
  MV_RETURN_IF_ERROR(GetDurationKey(source, t, kTable, "timeout", &c->timeout_micros));
  MV_RETURN_IF_ERROR(GetSizeKey(source, t, kTable, "max_stream", false, &c->max_stream));
  return Status::Ok();
}

Status ParseRspamd(std::string_view source, const toml::table& t, scan::RspamdOptions* r) {
  const char* kTable = "engines.rspamd";
  MV_RETURN_IF_ERROR(CheckKeys(
      source, t, kTable, {"enabled", "url", "password", "timeout", "max_size", "malicious_hosts"}));
  MV_RETURN_IF_ERROR(GetBool(source, t, kTable, "enabled", &r->enabled));
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "url", &r->url));
  if (t.contains("url")) {
    Status s = scan::ParseRspamdUrl(r->url).status();
    if (!s.ok()) return s.Annotate(Where(source, *t.get("url")) + ": engines.rspamd.url");
  }
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "password", &r->password));
  MV_RETURN_IF_ERROR(GetDurationKey(source, t, kTable, "timeout", &r->timeout_micros));
  MV_RETURN_IF_ERROR(GetSizeKey(source, t, kTable, "max_size", false, &r->max_size));
  MV_RETURN_IF_ERROR(GetStrings(source, t, kTable, "malicious_hosts", &r->malicious_hosts));
  for (std::string& h : r->malicious_hosts) {
    auto n = scan::ParseMaliciousHost(h);
    if (!n.ok()) {
      return n.status().Annotate(Where(source, *t.get("malicious_hosts")) +
                                 ": engines.rspamd.malicious_hosts");
    }
    h = *n;
  }
  return Status::Ok();
}

Status ParseContent(std::string_view source, const toml::table& t, scan::ContentOptions* c) {
  const char* kTable = "engines.content";
  MV_RETURN_IF_ERROR(CheckKeys(
      source, t, kTable,
      {"enabled", "banned_names", "banned_formats", "max_message_size", "max_archive_size"}));
  MV_RETURN_IF_ERROR(GetBool(source, t, kTable, "enabled", &c->enabled));
  MV_RETURN_IF_ERROR(GetStrings(source, t, kTable, "banned_names", &c->banned_names));
  for (const std::string& g : c->banned_names) {  // kept as written; the engine folds case
    auto n = scan::ParseBannedName(g);
    if (!n.ok()) {
      return n.status().Annotate(Where(source, *t.get("banned_names")) +
                                 ": engines.content.banned_names");
    }
  }
  MV_RETURN_IF_ERROR(GetStrings(source, t, kTable, "banned_formats", &c->banned_formats));
  for (std::string& f : c->banned_formats) {
    auto n = scan::ParseBannedFormat(f);
    if (!n.ok()) {
      return n.status().Annotate(Where(source, *t.get("banned_formats")) +
                                 ": engines.content.banned_formats");
    }
    f = *n;
  }
  MV_RETURN_IF_ERROR(GetSizeKey(source, t, kTable, "max_message_size", true, &c->max_message_size));
  MV_RETURN_IF_ERROR(GetSizeKey(source, t, kTable, "max_archive_size", true, &c->max_archive_size));
  return Status::Ok();
}

Status ParseLists(std::string_view source, const toml::table& t, scan::ListOptions* l) {
  const char* kTable = "engines.lists";
  MV_RETURN_IF_ERROR(CheckKeys(source, t, kTable, {"blacklist", "whitelist"}));
  for (const char* key : {"blacklist", "whitelist"}) {
    std::vector<std::string>* list =
        std::string_view(key) == "blacklist" ? &l->blacklist : &l->whitelist;
    MV_RETURN_IF_ERROR(GetStrings(source, t, kTable, key, list));
    Status s = scan::CheckListOptions(*l);  // names the key
    if (!s.ok() && t.contains(key)) return s.Annotate(Where(source, *t.get(key)));
  }
  return Status::Ok();
}

Status ParseEngines(std::string_view source, const toml::table& t, DaemonOptions* o) {
  MV_RETURN_IF_ERROR(CheckKeys(source, t, "engines", {"clamd", "rspamd", "content", "lists"}));
  const toml::table* sub = nullptr;
  MV_RETURN_IF_ERROR(GetTable(source, t, "engines", "clamd", &sub));
  if (sub != nullptr) MV_RETURN_IF_ERROR(ParseClamd(source, *sub, &o->engines.clamd));
  MV_RETURN_IF_ERROR(GetTable(source, t, "engines", "rspamd", &sub));
  if (sub != nullptr) MV_RETURN_IF_ERROR(ParseRspamd(source, *sub, &o->engines.rspamd));
  MV_RETURN_IF_ERROR(GetTable(source, t, "engines", "content", &sub));
  if (sub != nullptr) MV_RETURN_IF_ERROR(ParseContent(source, *sub, &o->engines.content));
  MV_RETURN_IF_ERROR(GetTable(source, t, "engines", "lists", &sub));
  if (sub != nullptr) MV_RETURN_IF_ERROR(ParseLists(source, *sub, &o->engines.lists));
  return Status::Ok();
}

Status ParseDelivery(std::string_view source, const toml::table& t, DaemonOptions* o) {
  const char* kTable = "delivery";
  MV_RETURN_IF_ERROR(CheckKeys(
      source, t, kTable,
      {"enabled", "relay", "tls", "tls_verify", "ca_file", "username", "password", "helo", "sender",
       "from", "workers", "retry_min", "retry_max", "lifetime", "connect_timeout", "timeout"}));
  delivery::DeliveryOptions& d = o->delivery;
  delivery::RelayOptions& r = d.relay;
  MV_RETURN_IF_ERROR(GetBool(source, t, kTable, "enabled", &d.enabled));
  std::string relay;
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "relay", &relay));
  if (t.contains("relay")) {
    Status s = ParseListen(relay, &r.host, &r.port);
    if (!s.ok()) return s.Annotate(Where(source, *t.get("relay")) + ": delivery.relay");
  }
  std::string tls;
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "tls", &tls));
  if (t.contains("tls")) {
    static const std::map<std::string, delivery::TlsMode> kModes = {
        {"none", delivery::TlsMode::kNone},
        {"starttls", delivery::TlsMode::kStartTls},
        {"try", delivery::TlsMode::kTry},
        {"smtps", delivery::TlsMode::kImplicit}};
    auto it = kModes.find(tls);
    if (it == kModes.end()) {
      return Bad(source, *t.get("tls"), kTable, "tls",
                 "\"" + tls + "\": use none, starttls, try or smtps");
    }
    r.tls = it->second;
  }
  MV_RETURN_IF_ERROR(GetBool(source, t, kTable, "tls_verify", &r.tls_verify));
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "ca_file", &r.ca_file));
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "username", &r.username));
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "password", &r.password));
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "helo", &r.helo));
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "sender", &d.sender));
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "from", &d.from));
  MV_RETURN_IF_ERROR(GetInt(source, t, kTable, "workers", &d.workers));
  MV_RETURN_IF_ERROR(GetDurationKey(source, t, kTable, "retry_min", &d.retry_min_micros));
  MV_RETURN_IF_ERROR(GetDurationKey(source, t, kTable, "retry_max", &d.retry_max_micros));
  MV_RETURN_IF_ERROR(GetDurationKey(source, t, kTable, "lifetime", &d.lifetime_micros));
  MV_RETURN_IF_ERROR(
      GetDurationKey(source, t, kTable, "connect_timeout", &r.connect_timeout_micros));
  MV_RETURN_IF_ERROR(GetDurationKey(source, t, kTable, "timeout", &r.timeout_micros));
  return Status::Ok();
}

// An action: "reject" (keeps a copy) or { action = "reject", copy = false }.
Status ParseLabelAction(std::string_view source, const toml::node& n, std::string_view name,
                        rules::LabelAction* out) {
  std::string action;
  rules::LabelAction la;
  if (auto s = n.value<std::string>(); n.is_string() && s) {
    action = *s;
  } else if (const toml::table* t = n.as_table()) {
    MV_RETURN_IF_ERROR(CheckKeys(source, *t, name, {"action", "copy"}));
    const toml::node* a = t->get("action");
    if (a == nullptr) {
      return Status::InvalidArgument(Where(source, n) + ": " + std::string(name) +
                                     " needs an action");
    }
    auto v = a->value<std::string>();
    if (!a->is_string() || !v) return Bad(source, *a, name, "action", "must be a string");
    action = *v;
    if (const toml::node* c = t->get("copy")) {
      if (!c->is_boolean()) return Bad(source, *c, name, "copy", "must be true or false");
      la.keep_copy = c->as_boolean()->get();
    }
  } else {
    return Status::InvalidArgument(Where(source, n) + ": " + std::string(name) +
                                   " must be an action name or { action = \"...\", copy = ... }");
  }
  auto kind = rules::ParseAction(action);
  if (!kind.ok()) return kind.status().Annotate(Where(source, n) + ": " + std::string(name));
  la.action = *kind;
  *out = la;
  return Status::Ok();
}

// Builds the rule one field at a time and validates it after each with
// RuleSet::Make, so an error points at the line of the field that caused it.
Status ParseRule(std::string_view source, const toml::table& t, rules::Rule* rule) {
  const char* kTable = "rule";
  MV_RETURN_IF_ERROR(CheckKeys(source, t, kTable,
                               {"id", "senders", "recipients", "engines", "header_name",
                                "subject_tag", "reject_reply", "default", "actions"}));
  auto check = [&](const char* key) -> Status {
    auto made = rules::RuleSet::Make({*rule});
    if (made.ok()) return Status::Ok();
    const toml::node* n = t.get(key);
    return made.status().Annotate(n != nullptr ? Where(source, *n) : Where(source, t));
  };
  rules::Rule r;
  for (std::string_view e : kEngines) r.engines.emplace_back(e);
  *rule = r;
  if (!t.contains("id")) {
    return Status::InvalidArgument(Where(source, t) + ": rule needs an id");
  }
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "id", &rule->id));
  MV_RETURN_IF_ERROR(check("id"));
  MV_RETURN_IF_ERROR(GetStrings(source, t, kTable, "senders", &rule->senders));
  MV_RETURN_IF_ERROR(check("senders"));
  MV_RETURN_IF_ERROR(GetStrings(source, t, kTable, "recipients", &rule->recipients));
  MV_RETURN_IF_ERROR(check("recipients"));
  if (const toml::node* n = t.get("engines"); n != nullptr && n->as_array() != nullptr) {
    rule->engines.clear();  // an empty array means: run no engine
  }
  MV_RETURN_IF_ERROR(GetStrings(source, t, kTable, "engines", &rule->engines));
  MV_RETURN_IF_ERROR(check("engines"));
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "header_name", &rule->header_name));
  MV_RETURN_IF_ERROR(check("header_name"));
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "subject_tag", &rule->subject_tag));
  MV_RETURN_IF_ERROR(check("subject_tag"));
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "reject_reply", &rule->reject_reply));
  MV_RETURN_IF_ERROR(check("reject_reply"));
  if (const toml::node* n = t.get("default")) {
    MV_RETURN_IF_ERROR(ParseLabelAction(source, *n, "rule.default", &rule->default_action));
  }
  const toml::table* actions = nullptr;
  MV_RETURN_IF_ERROR(GetTable(source, t, kTable, "actions", &actions));
  if (actions != nullptr) {
    for (const auto& [key, node] : *actions) {
      std::string k(key.str());
      rules::LabelAction la;
      MV_RETURN_IF_ERROR(ParseLabelAction(source, node, "rule.actions.\"" + k + "\"", &la));
      rule->actions[k] = la;
      auto made = rules::RuleSet::Make({*rule});
      if (!made.ok()) return made.status().Annotate(Where(source, node));
    }
  }
  return Status::Ok();
}

Status ParseRules(std::string_view source, const toml::node& n, DaemonOptions* o) {
  const toml::array* a = n.as_array();
  if (a == nullptr) {
    return Status::InvalidArgument(Where(source, n) +
                                   ": rule must be an array of tables ([[rule]])");
  }
  std::vector<rules::Rule> parsed;
  for (const toml::node& e : *a) {
    const toml::table* t = e.as_table();
    if (t == nullptr) {
      return Status::InvalidArgument(Where(source, e) +
                                     ": rule must be an array of tables ([[rule]])");
    }
    parsed.emplace_back();
    MV_RETURN_IF_ERROR(ParseRule(source, *t, &parsed.back()));
    auto made = rules::RuleSet::Make(parsed);  // duplicate ids, rules never reached
    if (!made.ok()) return made.status().Annotate(Where(source, *t));
  }
  auto made = rules::RuleSet::Make(std::move(parsed));
  if (!made.ok()) return made.status().Annotate(std::string(source));
  o->rules = made->rules();  // normalized (reject_reply)
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

console::ConsoleOptions ConsoleOptionsOf(const DaemonOptions& options) {
  console::ConsoleOptions api;
  api.host = options.listen_host;
  api.port = options.listen_port;
  api.max_message_size = options.max_message_size;
  api.timeout_micros = options.request_timeout_micros;
  api.tls_cert = options.tls_cert;
  api.tls_key = options.tls_key;
  api.server_names = options.server_names;
  api.sessions.idle_micros = options.session_idle_micros;
  api.sessions.absolute_micros = options.session_lifetime_micros;
  return api;
}

Status CheckLogOptions(const DaemonOptions& options) {
  if (options.trace_max_size < 64'000) {
    return Status::InvalidArgument("log.trace_max_size: must be at least 64KB");
  }
  if (options.trace_files < 1 || options.trace_files > 100) {
    return Status::InvalidArgument("log.trace_files: must be a whole number from 1 to 100");
  }
  if (!options.trace_file.empty() && options.trace_file.back() == '/') {
    return Status::InvalidArgument("log.trace_file: \"" + options.trace_file +
                                   "\" names a directory: name the file (trace.log)");
  }
  return Status::Ok();
}

std::string TraceFilePath(const DaemonOptions& options) {
  return options.trace_file.empty() ? JoinPath(DataDir(options.data_dir).log(), "trace.log")
                                    : options.trace_file;
}

Status CheckDaemonOptions(const DaemonOptions& options) {
  MV_RETURN_IF_ERROR(CheckLogOptions(options));
  MV_RETURN_IF_ERROR(console::CheckConsoleOptions(ConsoleOptionsOf(options)));
  MV_RETURN_IF_ERROR(intake::CheckMilterOptions(options.milter));
  MV_RETURN_IF_ERROR(scan::CheckClamdOptions(options.engines.clamd));
  MV_RETURN_IF_ERROR(scan::CheckRspamdOptions(options.engines.rspamd));
  MV_RETURN_IF_ERROR(scan::CheckContentOptions(options.engines.content));
  MV_RETURN_IF_ERROR(scan::CheckListOptions(options.engines.lists));
  MV_RETURN_IF_ERROR(delivery::CheckDeliveryOptions(options.delivery));
  MV_RETURN_IF_ERROR(directory::CheckLdapOptions(options.ldap));
  return rules::RuleSet::Make(options.rules).status();
}

namespace {

// [ldap]: the values as written; directory::CheckLdapOptions (through
// CheckDaemonOptions) judges them, with its own URL, DN and filter parsers.
Status ParseLdap(std::string_view source, const toml::table& t, DaemonOptions* o) {
  const char* kTable = "ldap";
  MV_RETURN_IF_ERROR(CheckKeys(
      source, t, kTable,
      {"enabled", "servers", "starttls", "ca_file", "bind_dn", "bind_password_file", "base_dn",
       "user_filter", "group_filter", "address_attributes", "login_attributes", "group_attribute",
       "delegation_attribute", "sync_interval", "timeout", "page_size"}));
  directory::LdapOptions& l = o->ldap;
  MV_RETURN_IF_ERROR(GetBool(source, t, kTable, "enabled", &l.enabled));
  MV_RETURN_IF_ERROR(GetStrings(source, t, kTable, "servers", &l.servers));
  MV_RETURN_IF_ERROR(GetBool(source, t, kTable, "starttls", &l.starttls));
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "ca_file", &l.ca_file));
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "bind_dn", &l.bind_dn));
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "bind_password_file", &l.bind_password_file));
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "base_dn", &l.base_dn));
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "user_filter", &l.user_filter));
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "group_filter", &l.group_filter));
  MV_RETURN_IF_ERROR(GetStrings(source, t, kTable, "address_attributes", &l.address_attributes));
  MV_RETURN_IF_ERROR(GetStrings(source, t, kTable, "login_attributes", &l.login_attributes));
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "group_attribute", &l.group_attribute));
  MV_RETURN_IF_ERROR(GetString(source, t, kTable, "delegation_attribute", &l.delegation_attribute));
  MV_RETURN_IF_ERROR(GetDurationKey(source, t, kTable, "sync_interval", &l.sync_interval_micros));
  MV_RETURN_IF_ERROR(GetDurationKey(source, t, kTable, "timeout", &l.timeout_micros));
  MV_RETURN_IF_ERROR(GetInt(source, t, kTable, "page_size", &l.page_size));
  return Status::Ok();
}

}  // namespace

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
  MV_RETURN_IF_ERROR(CheckKeys(source, root, "",
                               {"store", "api", "console", "log", "debug", "milter", "engines",
                                "delivery", "ldap", "rule"}));
  for (const auto& [key, node] : root) {
    if (key.str() != "rule" && !node.is_table()) {
      return Status::InvalidArgument(Where(source, node) + ": " + std::string(key.str()) +
                                     " must be a table ([" + std::string(key.str()) + "])");
    }
  }
  if (auto* t = root["store"].as_table()) MV_RETURN_IF_ERROR(ParseStore(source, *t, &o));
  if (auto* t = root["api"].as_table()) MV_RETURN_IF_ERROR(ParseApi(source, *t, &o));
  if (auto* t = root["console"].as_table()) MV_RETURN_IF_ERROR(ParseConsole(source, *t, &o));
  if (auto* t = root["log"].as_table()) MV_RETURN_IF_ERROR(ParseLog(source, *t, &o));
  if (auto* t = root["debug"].as_table()) MV_RETURN_IF_ERROR(ParseDebug(source, *t, &o));
  if (auto* t = root["milter"].as_table()) MV_RETURN_IF_ERROR(ParseMilter(source, *t, &o));
  if (auto* t = root["engines"].as_table()) MV_RETURN_IF_ERROR(ParseEngines(source, *t, &o));
  if (auto* t = root["delivery"].as_table()) MV_RETURN_IF_ERROR(ParseDelivery(source, *t, &o));
  if (auto* t = root["ldap"].as_table()) MV_RETURN_IF_ERROR(ParseLdap(source, *t, &o));
  if (const toml::node* n = root.get("rule")) MV_RETURN_IF_ERROR(ParseRules(source, *n, &o));
  // The components' own rules, the ones the daemon's start-up applies
  // (cross-key ones among them); each error names its key, whose line
  // leads the message.
  Status s = CheckDaemonOptions(o);
  if (!s.ok()) {
    // The key's line, or its table's when the file leaves the key out.
    std::string_view key(s.message());
    key = key.substr(0, key.find(':'));
    const toml::node* n = root.at_path(key).node();
    if (n == nullptr && key.find('.') != std::string_view::npos) {
      n = root.at_path(key.substr(0, key.rfind('.'))).node();
    }
    return s.Annotate(n != nullptr ? Where(source, *n) : std::string(source));
  }
  return o;
}

Result<DaemonOptions> LoadConfig(const std::string& path) {
  auto text = PosixEnv()->ReadFile(path);
  if (!text.ok()) return text.status().Annotate("config " + path);
  return ParseConfig(*text, path);
}

std::string TokenFilePath(const DaemonOptions& options) {
  return options.token_file.empty() ? DataDir(options.data_dir).api_token() : options.token_file;
}

}  // namespace mailvault::config
