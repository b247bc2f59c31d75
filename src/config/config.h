// The daemon's configuration: a TOML file (conf/mailvault.toml) read into a
// typed DaemonOptions. Every key has a default, so an empty file or no file
// gives a working loopback daemon on ./var. Unknown tables or keys, values of
// the wrong type and unparsable units are errors naming the key, so a typo
// never silently falls back to a default. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "console/server.h"
#include "delivery/options.h"
#include "directory/ldap_options.h"
#include "intake/options.h"
#include "mailvault/status.h"
#include "rules/rules.h"
#include "scan/options.h"

namespace mailvault::config {

struct DaemonOptions {
  // [store]
  std::string data_dir = "./var";   // relative paths are relative to the working dir
  uint64_t index_cache = 64 << 20;  // the index's SQLite page cache, writer and reader together
  // [api]
  std::string listen_host = "127.0.0.1";
  int listen_port = 8025;  // 0: any free port (logged, written to DATA/mailvaultd.port)
  std::string token;       // inline token; overrides token_file
  std::string token_file;  // "": DATA/api.token, created on first start
  uint64_t max_message_size = 64'000'000;       // bytes of one posted message
  int64_t request_timeout_micros = 60'000'000;  // read/write timeout per request
  // HTTPS for the API and the console: PEM certificate (chain) and key.
  // Without them only a loopback listen address is allowed.
  std::string tls_cert, tls_key;
  // Names the console answers to (the Host header) besides its listen
  // address (and localhost forms of a loopback one): host names or IP
  // addresses, lower case. Any other Host gets 421 (DNS rebinding).
  std::vector<std::string> server_names;
  // [console]: browser sessions and the audit log.
  int64_t session_idle_micros = 30 * 60 * 1'000'000LL;
  int64_t session_lifetime_micros = 12 * 3600 * 1'000'000LL;
  uint64_t audit_max_records = 1'000'000;  // oldest records dropped beyond this
  // [log]
  std::string log_level = "info";  // the trace file's: trace, debug, info, warn, error
  // The daemon's detailed log (addresses, subjects, client IPs): "" =
  // DATA/log/trace.log (TraceFilePath). Rotated when it reaches
  // trace_max_size, keeping trace_files rotated files beside it; all 0600.
  std::string trace_file;
  uint64_t trace_max_size = 500'000'000;  // 500 MB
  int trace_files = 4;
  // [debug]
  bool core_dumps = false;  // crash dumps (they hold message contents): env/core_dumps.h
  // [milter]; the socket in its normalised form ("inet:10025@127.0.0.1", as
  // intake::MilterSocketSpec gives it).
  intake::MilterOptions milter;
  // [engines.clamd], [engines.rspamd], [engines.content], [engines.lists]
  scan::EngineOptions engines;
  // [delivery]: the relay released copies go through, and retries.
  delivery::DeliveryOptions delivery;
  // [ldap]: the LDAP/AD cache of the directory (off by default).
  directory::LdapOptions ldap;
  // [[rule]] tables in file order, validated by rules::RuleSet::Make (and
  // normalized by it). A file without [[rule]] gets the built-in default rule
  // (the one conf/mailvault.toml spells out); `rule = []` means no rules:
  // every message passes unscanned.
  std::vector<rules::Rule> rules = {rules::DefaultRule()};
};

// "127.0.0.1:8025", "[::1]:0", "localhost:8025" -> host and port.
Status ParseListen(std::string_view text, std::string* host, int* port);

// The console's options as the daemon runs them; the token is left empty
// (start-up loads or creates it).
console::ConsoleOptions ConsoleOptionsOf(const DaemonOptions& options);

// The components' own rules over the options, the ones the daemon's
// start-up applies: console::CheckConsoleOptions, intake::CheckMilterOptions,
// scan::Check{Clamd,Rspamd,Content,List}Options,
// delivery::CheckDeliveryOptions, directory::CheckLdapOptions,
// rules::RuleSet::Make. ParseConfig ends
// with it, so a file `mailvault config check` accepts is one the daemon
// runs. InvalidArgument whose message starts with the key
// ("engines.clamd.address: ...").
Status CheckDaemonOptions(const DaemonOptions& options);

// Parses TOML text; `source` names it in error messages. Value syntax is
// each component's own parser (intake::MilterSocketSpec,
// scan::ParseClamdAddress, ParsePositiveSize, ...), then
// CheckDaemonOptions.
Result<DaemonOptions> ParseConfig(std::string_view toml_text, std::string_view source);
// Reads and parses a config file.
Result<DaemonOptions> LoadConfig(const std::string& path);

// The rules for the [log] keys: trace_max_size at least 64KB, trace_files
// 1 to 100, trace_file not a directory name. InvalidArgument naming the key
// ("log.trace_files: ..."). CheckDaemonOptions applies it, and so does the
// daemon's start-up (daemon::Prepare).
Status CheckLogOptions(const DaemonOptions& options);

// The trace log's path: options.trace_file or DATA/log/trace.log.
std::string TraceFilePath(const DaemonOptions& options);

// The token file to use: options.token_file or DATA/api.token.
std::string TokenFilePath(const DaemonOptions& options);

}  // namespace mailvault::config
