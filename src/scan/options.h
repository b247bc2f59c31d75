// Options of the scanning engines, filled from the [engines.*] tables of the
// config file (src/config). Plain values; durations in microseconds, sizes
// in bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mailvault::scan {

struct ClamdOptions {
  bool enabled = true;
  // "unix:/run/clamav/clamd.ctl" or "tcp:127.0.0.1:3310" (also "[::1]:3310").
  std::string address = "unix:/run/clamav/clamd.ctl";
  int64_t timeout_micros = 30'000'000;  // whole scan, connect to answer
  // clamd's StreamMaxLength: larger messages are sent only up to it and the
  // verdict of the prefix stands, with a detail saying so.
  uint64_t max_stream = 25'000'000;
};

struct RspamdOptions {
  bool enabled = true;
  std::string url = "http://127.0.0.1:11333";  // the normal worker; /checkv2 is appended
  std::string password;                        // sent as the Password header if set
  int64_t timeout_micros = 15'000'000;
  uint64_t max_size = 25'000'000;  // larger messages are not sent: not-scanned
  // Site URL list for Anti-Phishing: a message linking to a host on this list
  // (or a subdomain) is labelled malicious-link. Lower-case host names.
  std::vector<std::string> malicious_hosts;
};

struct ContentOptions {
  bool enabled = true;
  // Globs over attachment file names, case-insensitive ("*.exe"); also
  // applied to the names inside zip (and other) archives.
  std::vector<std::string> banned_names;
  // File formats by content (libmagic MIME type, "application/x-dosexec"),
  // never by the declared type or the extension.
  std::vector<std::string> banned_formats;
  uint64_t max_message_size = 0;  // 0: no limit; larger -> size-exceeded
  uint64_t max_archive_size = 50'000'000;  // archives larger are not opened
};

struct ListOptions {
  // Addresses ("user@example.com") and domains ("example.com", which also
  // covers its subdomains; "@example.com" only that domain), case-insensitive.
  std::vector<std::string> blacklist;
  std::vector<std::string> whitelist;  // white wins over black
};

struct EngineOptions {
  ClamdOptions clamd;
  RspamdOptions rspamd;
  ContentOptions content;
  ListOptions lists;
};

}  // namespace mailvault::scan
