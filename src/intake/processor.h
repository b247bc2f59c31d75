// Processor: the end-of-message decision for one received message.
//
// Given the envelope and the spooled message, it groups the recipients by
// processing rule, asks the engines those rules run (in parallel), decides
// per group, keeps a durable copy of the original for every group whose
// labels ask for one (Store::Put returns only once the copy is synced), and
// only then says what the milter must do. If a copy cannot be kept, the
// policy's unavailable_action decides: process (go on, log an event),
// tempfail (4xx) or reject (5xx).
//
// Recipient groups: the milter protocol gives one answer per message, so
// when groups disagree, the recipients of groups that reject or delete the
// message are removed from the envelope and the others get the message with
// the union of the passing groups' changes (header, subject tag, attachment
// removal); only when every group rejects or deletes does the whole message
// get rejected or discarded.
//
// Loop-safe release: a message carrying a valid X-Mailvault-Release header
// (crypto/release.h) signed for its body and its envelope (the same sender,
// every recipient among those signed), younger than release_max_age and not
// honoured before is accepted unscanned and uncopied; its nonce is recorded
// as consumed, durably, before the answer. Any other release header is
// ignored (an event says why) and the message scanned like any other.
//
// Thread-safe: Process is called concurrently from the milter's workers.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crypto/release.h"
#include "env/env.h"
#include "intake/task_pool.h"
#include "mailvault/byte_source.h"
#include "mailvault/store.h"
#include "policy/settings.h"
#include "rules/rules.h"
#include "scan/engine.h"

namespace mailvault::intake {

using EventSink = std::function<void(std::string_view kind, std::string_view message)>;

// What the milter collected besides the bytes.
struct Received {
  scan::Envelope envelope;
  const ByteSource* raw = nullptr;            // the whole message (headers + body)
  std::optional<std::string> subject;         // raw Subject value as received
  std::optional<std::string> release_header;  // raw X-Mailvault-Release value
  std::string body_digest;                    // crypto::BodyDigest of the body
  int64_t received_at = 0;                    // micros; 0 = now
};

struct Outcome {
  enum class Kind { kAccept, kDiscard, kReject, kTempfail };
  Kind kind = Kind::kAccept;
  std::string rcode, xcode, text;  // for reject/tempfail: "550", "5.7.1", "..."
  std::vector<std::string> delete_rcpt;
  std::vector<std::pair<std::string, std::string>> add_headers;  // name, value
  std::optional<std::string> new_subject;                        // whole new value
  // Attachment removal: the new body and top-level header changes.
  std::optional<std::string> new_body;
  std::vector<std::pair<std::string, std::string>> header_changes;
  std::vector<CopyId> copies;
  std::string summary;  // one line for the log
};

// Records a release nonce as consumed until `expires_at` (micros), durably,
// and answers whether it was new (index::QueueDb::ConsumeRelease in
// mailvaultd). Called concurrently.
using ConsumeRelease =
    std::function<Result<bool>(std::string_view nonce, int64_t expires_at, int64_t now)>;

struct ProcessorOptions {
  int64_t release_max_age_micros = 300'000'000;
  std::string attachment_note =
      "The attachment \"{filename}\" was removed by the mail gateway's security policy. "
      "A copy is kept in the Backup; ask your administrator.";
};

class Processor {
 public:
  // `env` (the clock), `store` and `policy` (its unavailable_action
  // decides what a copy the store cannot take does) must outlive the
  // processor. Release
  // headers are honoured only with both a `signer` and `consume_release`
  // (either may be null/empty: every message is scanned). Engines are
  // shared by all calls.
  Processor(Env& env, Store& store, const policy::Settings& policy,
            std::vector<std::unique_ptr<scan::Engine>> engines, rules::RuleSet rules,
            std::unique_ptr<crypto::ReleaseSigner> signer, ConsumeRelease consume_release,
            ProcessorOptions options, EventSink on_event);

  // Decides and counts the outcome into the metrics (docs/metrics.md).
  Outcome Process(const Received& message);

 private:
  Outcome Decide(const Received& message);
  std::vector<scan::Verdict> RunEngines(const std::vector<std::string>& scan_types,
                                        const scan::Message& message);
  Outcome Unavailable(const Status& why, const std::string& queue_id, Outcome pass);
  // The copy id of a release header that lets `m` pass unscanned (its nonce
  // now consumed); PermissionDenied or the ledger's error saying why not.
  Result<uint64_t> HonourRelease(const Received& m, int64_t now);

  Env& env_;
  Store& store_;
  const policy::Settings& policy_;
  std::vector<std::unique_ptr<scan::Engine>> engines_;
  const rules::RuleSet rules_;
  const std::unique_ptr<crypto::ReleaseSigner> signer_;
  const ConsumeRelease consume_release_;
  const ProcessorOptions options_;
  EventSink on_event_;
  TaskPool pool_{256};  // engine scans beside the milter's own thread
};

}  // namespace mailvault::intake
