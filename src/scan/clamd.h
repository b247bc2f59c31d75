// ClamdEngine: Anti-Virus through ClamAV's clamd, over its INSTREAM command.
//
// A pure codec (chunk framing, reply and VERSION parsers, below) and a thin
// I/O shell. Each Scan opens its own connection (unix or TCP), sends
// "zINSTREAM\0", streams the message from its ByteSource in chunks of
// <4-byte big-endian length><bytes>, ends with a zero-length chunk and reads
// one NUL-terminated reply. Everything, connect to answer, shares one budget
// of options.timeout_micros. Messages larger than options.max_stream are sent
// only up to it (clamd's StreamMaxLength would refuse the rest); the verdict
// of that prefix stands and its detail says so.
//
// Signature database: "zVERSION\0" on a separate connection, answered like
// "ClamAV 1.4.6/27456/Thu Nov 20 08:25:44 2026". The release date goes into
// details["database"] ("2026-11-20") and details["database_version"]; the
// answer is cached for 60 s. A clamd that reports no database version
// ("ClamAV 1.4.6" alone: no daily.cvd/.cld/.cud loaded) or answers VERSION
// with something else turns a clean scan into "bases-error": its "not
// detected" cannot be trusted. A detection still stands.
//
// Labels ("anti-virus", see ClassifySignature for names):
//   | clamd reply                         | label             | also             |
//   |-------------------------------------|-------------------|------------------|
//   | stream: OK                          | not-detected      |                  |
//   | stream: NAME FOUND                  | by NAME (below)   | signature = NAME |
//   | ... ERROR (e.g. size limit)         | not-scanned       | error            |
//   | no reply, refused, timeout, garbage | not-scanned       | error            |
//   | OK, but VERSION without database    | bases-error       | error            |
//
// Thread-safe: many milter threads call Scan at once; the version cache is
// the only shared state and is guarded by a mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/status.h"
#include "scan/engine.h"
#include "scan/net.h"
#include "scan/options.h"

namespace mailvault::scan {

// ---- Pure codec -----------------------------------------------------------

// One INSTREAM chunk: 4-byte big-endian length, then the bytes. An empty
// `data` gives the end-of-stream marker. `data` must be < 4 GiB.
std::string ClamdChunk(std::string_view data);

// The label of a detection by signature name (first match wins):
//   | name                                        | label             |
//   |---------------------------------------------|-------------------|
//   | Heuristics.Encrypted.*, Encrypted.*         | encrypted         |
//   | Heuristics.Broken.*, Broken.*, *.Broken.*   | corrupted         |
//   | Heuristics.Limits.Exceeded.*                | not-scanned (*)   |
//   | Heuristics.*, *.Heuristic.*, *.Heuristics.*,| probably-infected |
//   |   PUA.*                                     |                   |
//   | anything else                               | infected          |
// (*) clamd stopped at one of its scan limits (AlertExceedsMax): the message
// was not fully scanned, which is not a finding about the message.
std::string_view ClassifySignature(std::string_view name);

// An "anti-virus" verdict from an INSTREAM reply (terminator already
// stripped; trailing white space ignored). Never fails: a reply it does not
// understand gives not-scanned with the reply quoted in `error`.
Verdict ParseClamdScanReply(std::string_view reply);

struct ClamdVersion {
  std::string engine;            // "1.4.6"
  std::string database_version;  // "27456", empty when clamd reports none
  std::string database_date;     // "2026-11-20", empty when clamd reports none
};

// Parses a VERSION reply. "ClamAV 1.4.6" alone is OK with empty database
// fields; anything not starting with "ClamAV " or with a database part that
// does not parse is Corruption.
Result<ClamdVersion> ParseClamdVersionReply(std::string_view reply);

// ---- I/O shell ------------------------------------------------------------

// [engines.clamd] address: a clamd endpoint as net::ParseEndpoint reads it,
// with a port. The one parser of that value (config check and Make).
Result<net::Endpoint> ParseClamdAddress(std::string_view address);

// What Make refuses, without building anything; `mailvault config check`
// calls it too. InvalidArgument naming the key ("engines.clamd.timeout: must
// be more than 0").
Status CheckClamdOptions(const ClamdOptions& options);

class ClamdEngine final : public Engine {
 public:
  // Microseconds on a monotonic clock; only the version cache reads it, so
  // tests can age the cache without waiting.
  using NowMicros = std::function<int64_t()>;

  // InvalidArgument as CheckClamdOptions says. Does not connect:
  // a clamd that is down shows in the verdicts. `now` defaults to the
  // steady clock.
  static Result<std::unique_ptr<ClamdEngine>> Make(const ClamdOptions& options,
                                                   NowMicros now = nullptr);

  ClamdEngine(const ClamdEngine&) = delete;
  ClamdEngine& operator=(const ClamdEngine&) = delete;

  std::string_view name() const override { return "clamd"; }
  std::vector<std::string> covers() const override { return {"anti-virus"}; }
  // One "anti-virus" verdict; see the table above.
  std::vector<Verdict> Scan(const Message& message) override;
  std::string address() const override { return options_.address; }
  // PING, expecting PONG.
  Status Ping() override;

  // How long a VERSION answer is reused.
  static constexpr int64_t kVersionCacheMicros = 60'000'000;

 private:
  ClamdEngine(ClamdOptions options, net::Endpoint endpoint, NowMicros now)
      : options_(std::move(options)), endpoint_(std::move(endpoint)), now_(std::move(now)) {}

  // Streams the first `limit` bytes of `raw` and parses clamd's answer.
  Verdict ScanStream(const ByteSource& raw, uint64_t limit, net::Deadline deadline);
  // The VERSION answer, from the cache when younger than 60 s. A transport
  // failure (Unavailable/IOError) is not cached; a reply that does not parse
  // (Corruption) is.
  Result<ClamdVersion> Version(net::Deadline deadline);
  Verdict NotScanned(std::string_view why) const;

  const ClamdOptions options_;
  const net::Endpoint endpoint_;
  const NowMicros now_;

  std::mutex mu_;
  std::optional<Result<ClamdVersion>> version_;  // guarded by mu_
  int64_t version_at_ = 0;                       // when version_ was fetched; guarded by mu_
};

}  // namespace mailvault::scan
