// The scanning engines: one interface, one adapter per verdict source.
//
// An Engine looks at one message and answers with one Verdict per scan type
// it covers (kEngines in mailvault/copy.h): clamd covers "anti-virus";
// rspamd covers "anti-spam", "anti-phishing" and "sender-auth"; the built-in
// content filter covers "content-filtering"; the address lists cover
// "blacklist". Scan never fails and never outlives its own timeout: when the
// source cannot be asked (down, timeout, protocol error) the verdict says
// "not-scanned" (or "bases-error" for an anti-virus whose signatures are
// broken) and `error` says why, so the caller can log an event.
//
// Engines are shared by all milter connections: Scan must be thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/byte_source.h"
#include "mailvault/status.h"

namespace mailvault::mime {
class ParsedMessage;
}  // namespace mailvault::mime

namespace mailvault::scan {

// What the MTA told us about the message besides its bytes.
struct Envelope {
  std::string client_ip;        // "192.0.2.1", "" if unknown
  std::string client_hostname;  // reverse DNS name as the MTA saw it
  std::string helo;
  std::string mail_from;          // envelope sender without <>, "" = null sender
  std::vector<std::string> rcpt;  // envelope recipients without <>
  std::string queue_id;           // the MTA's queue id
};

struct Message {
  const ByteSource& raw;  // the whole message as received (headers + body, CRLF)
  const Envelope& envelope;
  // `raw` parsed (the milter parses each message once); null: an engine
  // that needs the MIME structure parses `raw` itself. Only one engine may
  // walk it (the content filter): a ParsedMessage is used by one thread at
  // a time.
  const mime::ParsedMessage* parsed = nullptr;
};

struct Verdict {
  std::string engine;  // a kEngines name: "anti-virus", "anti-spam", ...
  // A label valid for `engine` (ValidateStatus in mailvault/copy.h), or ""
  // when the engine looked and found nothing. "not-detected" is anti-virus's
  // own clean answer and counts as clean for rules.
  std::string label;
  std::string detail;  // for people: "Win.Test.EICAR_HDB-1", "score 15.2: GTUBE, ..."
  std::string error;   // why the engine could not scan; set with not-scanned/bases-error
  // Scan details kept with the copy (engine-specific): "signature",
  // "database" (anti-virus database release date, RFC 3339 date),
  // "score", "symbols", "action".
  std::map<std::string, std::string> details;
  // MIME part numbers (as in mime::Part::index) that caused the label, where
  // the engine knows them (content filter; anti-virus per-part rescans).
  std::vector<int> parts;
  // Address lists only: the sender is white-listed (Anti-Spam verdicts are
  // then dropped for this message).
  bool whitelisted = false;

  bool clean() const { return label.empty() || label == "not-detected"; }
};

class Engine {
 public:
  virtual ~Engine() = default;
  // Short name for logs and config: "clamd", "rspamd", "content", "lists".
  virtual std::string_view name() const = 0;
  // The scan types this engine answers for, in kEngines spelling.
  virtual std::vector<std::string> covers() const = 0;
  // One verdict per covered scan type. Thread-safe; returns within the
  // engine's configured timeout (plus a small margin).
  virtual std::vector<Verdict> Scan(const Message& message) = 0;

  // Where the engine's source is asked ("unix:/run/clamav/clamd.ctl",
  // "http://127.0.0.1:11333"); "" for an engine that works in this process.
  virtual std::string address() const { return ""; }
  // Whether the source answers now (clamd: PING, rspamd: GET /ping), within
  // min(the engine's timeout, 5 s): OK, or Unavailable/IOError saying why.
  // Built-in engines always answer. Thread-safe; mailvaultd asks at start.
  virtual Status Ping() { return Status::Ok(); }
};

}  // namespace mailvault::scan
