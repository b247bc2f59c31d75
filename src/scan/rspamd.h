// RspamdEngine: Anti-Spam, Anti-Phishing and Sender authentication through
// rspamd's normal worker (POST /checkv2, rspamd 3.x).
//
// A pure mapping (reply JSON -> three verdicts, below) and a thin libcurl
// shell: one easy handle per Scan, the body streamed from the ByteSource
// with its size known up front, the envelope in rspamd's request headers
// (IP, Helo, Hostname, From, one Rcpt per recipient, Queue-Id, and Password
// when set), the whole exchange bounded by options.timeout_micros. Messages
// larger than options.max_size are not sent. When rspamd cannot be asked
// (down, timeout, HTTP error, a reply that is not rspamd's JSON) all three
// verdicts are "not-scanned" with the reason in `error`.
//
// Every verdict carries details "score", "required_score", "action" and
// "symbols" (all symbol names, by descending score, comma-separated).
//
// Mapping, by symbol names of rspamd 3.4 (conf/scores.d, modules.d/rbl.conf,
// plugins/{phishing,dcc,spf,dkim,dmarc}.lua). A "listing" symbol counts only
// with a score > 0 in the reply, which leaves out the informational ones
// rspamd also emits: *_BLOCKED (the DNS list refused the resolver), parents
// like RBL_SPAMHAUS or URIBL_MULTI, *_UNKNOWN, RECEIVED_SPAMHAUS_PBL, and any
// list a site has scored 0. The others count by presence.
//
// anti-spam, first match:
//   | condition                                              | label         |
//   |--------------------------------------------------------|---------------|
//   | action "reject", or symbol GTUBE                       | spam          |
//   | listing RBL_*, RECEIVED_SPAMHAUS_*, RECEIVED_BLOCKLISTDE | blacklisted |
//   | action "add header" or "rewrite subject"               | probable-spam |
//   | DCC_BULK, DCC_REJECT, PRECEDENCE_BULK                  | massmail      |
//   | otherwise ("no action", "greylist", "soft reject")     | "" (clean)    |
// anti-phishing, first match:
//   | PHISHING, PHISHED_OPENPHISH, PHISHED_PHISHTANK, PHISHED_URL,          |
//   |   PHISHED_GENERIC_SERVICE, HACKED_WP_PHISHING  -> phishing             |
//   | listing SURBL_*, *_SURBL, *_SURBL_MULTI, URIBL_*, DBL_*, SEM_URIBL*,  |
//   |   RSPAMD_URIBL, except *_GREY and URIBL_PBL    -> malicious-link       |
//   | a URL host equal to, or a subdomain of, options.malicious_hosts       |
//   |                                                -> malicious-link       |
// sender-auth, first match:
//   | DMARC_POLICY_REJECT, DMARC_POLICY_QUARANTINE   -> dmarc-fail          |
//   | R_DKIM_REJECT                                  -> dkim-fail           |
//   | R_SPF_FAIL                                     -> spf-fail            |
// Not failures: DMARC_POLICY_SOFTFAIL (the domain asked for p=none),
// R_SPF_SOFTFAIL ("~all" is the norm for many legitimate domains and breaks
// on every forward), R_SPF_PERMFAIL/R_DKIM_PERMFAIL (broken records: the
// sender's DNS, not a forgery), *_DNSFAIL/_TEMPFAIL (ours).
//
// URL hosts come from the reply's "urls" array, which rspamd's /checkv2
// always sends when the message has links (src/libserver/protocol.c,
// rspamd_protocol_write_ucl: host names, deduplicated, mailto excluded; with
// the request header "URL-Format: extended" objects with a "host" field,
// which the mapping also reads). rspamd finds only URLs with a known TLD.
//
// Thread-safe: the engine holds only immutable options; each Scan has its
// own curl handle.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/status.h"
#include "scan/engine.h"
#include "scan/options.h"

namespace mailvault::scan {

// ---- Pure mapping ---------------------------------------------------------

// Three verdicts, in the order anti-spam, anti-phishing, sender-auth, from a
// /checkv2 reply body. Never throws; a body that is not a JSON object with a
// string "action" and a numeric "score" gives three not-scanned verdicts.
// `malicious_hosts` are lower-case host names (see RspamdOptions).
std::vector<Verdict> MapRspamdReply(std::string_view body,
                                    const std::vector<std::string>& malicious_hosts);

// Three not-scanned verdicts with `error`.
std::vector<Verdict> RspamdNotScanned(const std::string& error);

// True when `host` (any case, trailing dot ignored) is one of `hosts` or a
// subdomain of one.
bool HostListed(std::string_view host, const std::vector<std::string>& hosts);

// The request headers for an envelope, "Name: value" each, in the order
// IP, Helo, Hostname, From, Rcpt..., Queue-Id, Password. Empty fields are
// left out except From ("<>" for the null sender); CR, LF and NUL are removed
// from values.
std::vector<std::string> RspamdRequestHeaders(const Envelope& envelope,
                                              const std::string& password);

// ---- I/O shell ------------------------------------------------------------

// [engines.rspamd] url: http:// or https:// (any case) with a host, no
// white space or control characters; the answer drops trailing slashes.
// The one parser of that value (config check and Make).
Result<std::string> ParseRspamdUrl(std::string_view url);
// A malicious_hosts entry, normalised: lower case, without a leading "*."
// or "." and a trailing "."; InvalidArgument if nothing is left or it holds
// white space, '/' or ':'.
Result<std::string> ParseMaliciousHost(std::string_view host);
// What Make refuses, without building anything; `mailvault config check`
// calls it too. InvalidArgument naming the key.
Status CheckRspamdOptions(const RspamdOptions& options);

class RspamdEngine final : public Engine {
 public:
  // InvalidArgument as CheckRspamdOptions says. Initialises libcurl once
  // per process. Does not connect.
  static Result<std::unique_ptr<RspamdEngine>> Make(const RspamdOptions& options);

  RspamdEngine(const RspamdEngine&) = delete;
  RspamdEngine& operator=(const RspamdEngine&) = delete;

  std::string_view name() const override { return "rspamd"; }
  std::vector<std::string> covers() const override {
    return {"anti-spam", "anti-phishing", "sender-auth"};
  }
  // Three verdicts; see the tables above.
  std::vector<Verdict> Scan(const Message& message) override;
  std::string address() const override { return options_.url; }
  // GET /ping, expecting 200 "pong".
  Status Ping() override;

 private:
  RspamdEngine(RspamdOptions options, std::string endpoint)
      : options_(std::move(options)), endpoint_(std::move(endpoint)) {}

  const RspamdOptions options_;  // malicious_hosts normalised to lower case
  const std::string endpoint_;   // url + "/checkv2"
};

}  // namespace mailvault::scan
