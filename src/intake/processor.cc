#include "intake/processor.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <set>

#include "base/metrics.h"
#include "mime/metadata.h"
#include "mime/parsed_message.h"

namespace mailvault::intake {
namespace {

using rules::ActionKind;
using rules::Decision;

// Intake's and the engines' metrics (docs/metrics.md).
struct IntakeMetrics {
  metrics::CounterFamily& messages = metrics::Global().Counters(
      "mailvault_intake_messages_total",
      "Messages decided at end of message, by what the milter answered: accept, discard, "
      "reject, tempfail; released (a signed release let through unscanned).",
      {"outcome"});
  metrics::CounterFamily& verdicts = metrics::Global().Counters(
      "mailvault_intake_verdicts_total",
      "Engine verdicts, by scan type and label (label \"clean\" when the engine found nothing).",
      {"engine", "label"});
  metrics::CounterFamily& actions = metrics::Global().Counters(
      "mailvault_intake_actions_total",
      "Actions the rules took, one per label and recipient group.", {"action"});
  metrics::Counter& copy_failures = metrics::Global().CounterOf(
      "mailvault_intake_copy_failures_total",
      "Messages whose copy the Backup could not keep (unavailable_action applied).");
  metrics::HistogramFamily& engine_seconds = metrics::Global().Histograms(
      "mailvault_engine_scan_duration_seconds", "Time one engine took to scan one message.",
      {"engine"}, metrics::LatencyBuckets());
  metrics::CounterFamily& engine_errors = metrics::Global().Counters(
      "mailvault_engine_errors_total",
      "Scans an engine could not make (down, timeout, protocol error): the message passed as "
      "not-scanned for that engine.",
      {"engine"});
  metrics::Histogram& eom_seconds = metrics::Global().HistogramOf(
      "mailvault_intake_eom_duration_seconds",
      "End of message to the milter's answer: scans, copies made durable, decision.",
      metrics::LatencyBuckets());
};

IntakeMetrics& Metrics() {
  static IntakeMetrics m;
  return m;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Scans and counts: the engine's latency and its failures.
std::vector<scan::Verdict> TimedScan(scan::Engine& e, const scan::Message& message) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<scan::Verdict> v = e.Scan(message);
  IntakeMetrics& m = Metrics();
  const std::string_view name = e.name();
  m.engine_seconds.With({name}).Observe(SecondsSince(started));
  if (std::any_of(v.begin(), v.end(), [](const scan::Verdict& x) { return !x.error.empty(); })) {
    m.engine_errors.With({name}).Add();
  }
  return v;
}

std::string_view OutcomeName(Outcome::Kind k) {
  switch (k) {
    case Outcome::Kind::kAccept:
      return "accept";
    case Outcome::Kind::kDiscard:
      return "discard";
    case Outcome::Kind::kReject:
      return "reject";
    case Outcome::Kind::kTempfail:
      return "tempfail";
  }
  return "accept";
}

bool Passes(const Decision& g) {
  return g.rule == nullptr || g.strongest < ActionKind::kDeleteMessage;
}

// A human line of why a copy was kept, with the scan details people ask
// for (signature, anti-virus database date, spam score).
std::string Reason(const Decision& g, const std::vector<scan::Verdict>& verdicts) {
  std::string out = g.reason;
  for (const scan::Verdict& v : verdicts) {
    auto db = v.details.find("database");
    if (db != v.details.end() && !v.clean()) {
      if (!out.empty()) out += "; ";
      out += v.engine + " database " + db->second;
    }
  }
  return out;
}

// Splits "550 5.7.1 text" style replies into the parts smfi_setreply wants.
void SetReply(std::string_view reply, std::string_view rcode, Outcome* o) {
  o->rcode = std::string(rcode);
  std::string_view text = reply;
  size_t sp = text.find(' ');
  std::string_view first = text.substr(0, sp);
  if (first.size() >= 5 && first[1] == '.' && (first[0] == '4' || first[0] == '5')) {
    o->xcode = std::string(first);
    o->xcode[0] = rcode[0];  // the enhanced class follows the reply class
    text = sp == std::string_view::npos ? std::string_view() : text.substr(sp + 1);
  } else {
    o->xcode = rcode[0] == '4' ? "4.7.1" : "5.7.1";
  }
  o->text = std::string(text);
}

// Anti-virus scans the message as a whole, so its finding names no part. If
// the message has attachments, the finding is taken to be in them: a
// delete-attachment action then removes every attachment (as the console
// lists them: mime::ParsedMessage's rule). Without attachments below the
// top level the parts stay empty and the rules make that delete-message
// (nothing of a harmful body may pass).
void AttributeToAttachments(const std::function<const mime::ParsedMessage&()>& parsed,
                            std::vector<scan::Verdict>* verdicts) {
  auto unattributed = [](const scan::Verdict& v) {
    return v.engine == "anti-virus" && !v.clean() && v.error.empty() && v.parts.empty();
  };
  if (std::none_of(verdicts->begin(), verdicts->end(), unattributed)) return;
  std::vector<int> attachments;
  for (const mime::Part& p : parsed().Attachments()) {
    if (p.index > 0) attachments.push_back(p.index);
  }
  for (scan::Verdict& v : *verdicts) {
    if (unattributed(v)) v.parts = attachments;
  }
}

}  // namespace

Processor::Processor(Env& env, Store& store, const policy::Settings& policy,
                     std::vector<std::unique_ptr<scan::Engine>> engines, rules::RuleSet rules,
                     std::unique_ptr<crypto::ReleaseSigner> signer, ConsumeRelease consume_release,
                     ProcessorOptions options, EventSink on_event)
    : env_(env),
      store_(store),
      policy_(policy),
      engines_(std::move(engines)),
      rules_(std::move(rules)),
      signer_(std::move(signer)),
      consume_release_(std::move(consume_release)),
      options_(std::move(options)),
      on_event_(std::move(on_event)) {}

std::vector<scan::Verdict> Processor::RunEngines(const std::vector<std::string>& scan_types,
                                                 const scan::Message& message) {
  std::vector<scan::Engine*> run;
  for (const auto& e : engines_) {
    for (const std::string& c : e->covers()) {
      if (std::find(scan_types.begin(), scan_types.end(), c) != scan_types.end()) {
        run.push_back(e.get());
        break;
      }
    }
  }
  std::vector<scan::Verdict> out;
  if (run.empty()) return out;
  // Network engines wait on their peers; run them side by side, the first
  // on this thread, the others on the pool's long-lived threads.
  std::vector<std::future<std::vector<scan::Verdict>>> pending;
  for (size_t i = 1; i < run.size(); ++i) {
    auto task = std::make_shared<std::packaged_task<std::vector<scan::Verdict>()>>(
        [e = run[i], &message] { return TimedScan(*e, message); });
    pending.push_back(task->get_future());
    pool_.Run([task] { (*task)(); });
  }
  out = TimedScan(*run[0], message);
  for (auto& f : pending) {
    std::vector<scan::Verdict> v = f.get();
    out.insert(out.end(), std::make_move_iterator(v.begin()), std::make_move_iterator(v.end()));
  }
  for (const scan::Verdict& v : out) {
    if (!v.error.empty() && on_event_) {
      on_event_("engine-error", v.engine + ": " + v.label + ": " + v.error + " (queue id " +
                                    message.envelope.queue_id + ")");
    }
  }
  return out;
}

Outcome Processor::Unavailable(const Status& why, const std::string& queue_id, Outcome pass) {
  policy::UnavailableAction action = policy_.policy().unavailable_action;
  if (on_event_) {
    on_event_("backup-unavailable",
              "the Backup cannot keep a copy of " + queue_id + ": " + why.ToString());
  }
  Outcome o;
  switch (action) {
    case policy::UnavailableAction::kProcess:
      pass.summary = "backup unavailable, processed anyway: " + pass.summary;
      pass.copies.clear();
      return pass;
    case policy::UnavailableAction::kTempfail:
      o.kind = Outcome::Kind::kTempfail;
      SetReply("4.3.0 Message quarantine temporarily unavailable, try again later", "451", &o);
      break;
    case policy::UnavailableAction::kReject:
      o.kind = Outcome::Kind::kReject;
      SetReply("5.3.0 Message quarantine unavailable", "550", &o);
      break;
  }
  o.summary = "backup unavailable: " +
              std::string(o.kind == Outcome::Kind::kTempfail ? "tempfail" : "reject");
  return o;
}

Result<uint64_t> Processor::HonourRelease(const Received& m, int64_t now) {
  if (!signer_ || !consume_release_) {
    return Status::PermissionDenied("this intake does not check release headers");
  }
  const int64_t max_age = options_.release_max_age_micros / 1'000'000;
  crypto::ReleaseEnvelope envelope{m.envelope.mail_from, m.envelope.rcpt};
  MV_ASSIGN_OR_RETURN(
      crypto::VerifiedRelease r,
      signer_->Verify(*m.release_header, m.body_digest, envelope, now / 1'000'000, max_age));
  // Kept until the header is too old anyway (+1 s for the seconds the
  // signature is rounded to).
  const int64_t expires_at = (r.signed_at + max_age + 1) * 1'000'000;
  Result<bool> fresh = consume_release_(r.nonce, expires_at, now);
  if (!fresh.ok()) {
    return Status::Unavailable("cannot record the release as used: " + fresh.status().message());
  }
  if (!*fresh) {
    return Status::PermissionDenied("release header of copy " + std::to_string(r.copy_id) +
                                    " was used before (a replay)");
  }
  return r.copy_id;
}

Outcome Processor::Process(const Received& m) {
  const auto started = std::chrono::steady_clock::now();
  Outcome out = Decide(m);
  IntakeMetrics& metrics = Metrics();
  metrics.eom_seconds.Observe(SecondsSince(started));
  const bool released = out.kind == Outcome::Kind::kAccept && out.summary.rfind("released", 0) == 0;
  metrics.messages.With({released ? "released" : OutcomeName(out.kind)}).Add();
  return out;
}

Outcome Processor::Decide(const Received& m) {
  Outcome out;
  const ByteSource& raw = *m.raw;
  const int64_t now = env_.NowMicros();

  if (m.release_header) {
    Result<uint64_t> released = HonourRelease(m, now);
    if (released.ok()) {
      out.summary = "released copy " + std::to_string(*released) + ": accepted unscanned";
      return out;
    }
    if (on_event_) {
      on_event_("release-header-invalid",
                "release header of " + m.envelope.queue_id +
                    " not honoured, scanned as usual: " + released.status().message());
    }
  }

  std::vector<Decision> groups = rules_.Partition(m.envelope.mail_from, m.envelope.rcpt);
  std::vector<std::string> types = rules::RuleSet::EnginesFor(groups);
  // The message is parsed once, when first needed, and shared by the content
  // filter, the attribution of anti-virus findings, the metadata of the
  // copies and the removal of attachments: one parse, one attachment list.
  // Before the engines when the content filter runs (it alone walks the
  // message while they run); otherwise later, on this thread, if at all.
  std::unique_ptr<mime::ParsedMessage> parsed;
  auto parse = [&]() -> const mime::ParsedMessage& {
    if (!parsed) parsed = mime::ParsedMessage::Parse(raw);
    return *parsed;
  };
  if (std::find(types.begin(), types.end(), "content-filtering") != types.end()) parse();
  scan::Message message{raw, m.envelope, parsed.get()};
  std::vector<scan::Verdict> verdicts = RunEngines(types, message);
  AttributeToAttachments(parse, &verdicts);
  for (const scan::Verdict& v : verdicts) {
    Metrics().verdicts.With({v.engine, v.clean() ? std::string("clean") : v.label}).Add();
  }
  for (Decision& g : groups) {
    if (g.rule != nullptr) rules::Decide(verdicts, &g);
  }

  // Copies first: nothing is acted on before its copy is durable.
  bool any_copy = std::any_of(groups.begin(), groups.end(),
                              [](const Decision& g) { return g.rule && g.keep_copy; });
  Status copy_status;
  if (any_copy) {
    // The store reads the spool piecewise (thread-safe for reads), so the
    // message is never whole in memory here. The metadata is extracted once
    // for all groups' copies.
    const MessageMetadata metadata = mime::ExtractMetadata(parse());
    for (const Decision& g : groups) {
      if (g.rule == nullptr || !g.keep_copy) continue;
      PutRequest req;
      req.source = &raw;
      req.mail_from = m.envelope.mail_from;
      req.rcpt = g.rcpt;
      req.rule_id = g.rule->id;
      for (const auto& a : g.applied) {
        if (!a.label.empty()) req.statuses[a.engine] = a.label;
      }
      req.reason = Reason(g, verdicts);
      req.queue_id = m.envelope.queue_id;
      req.received_at = m.received_at;
      req.metadata = &metadata;
      Result<CopyId> id = store_.Put(req);
      if (!id.ok()) {
        copy_status = id.status();
        break;
      }
      out.copies.push_back(*id);
    }
  }

  // The actions.
  std::vector<const Decision*> passing, stopped;
  for (const Decision& g : groups) (Passes(g) ? passing : stopped).push_back(&g);
  std::string labels;
  for (const Decision& g : groups) {
    for (const auto& a : g.applied) {
      Metrics().actions.With({rules::ActionName(a.what.action)}).Add();
      if (!labels.empty()) labels += ", ";
      labels += a.engine + "=" + a.label + "->" + std::string(rules::ActionName(a.what.action));
    }
  }
  if (passing.empty()) {
    const Decision* rejecting = nullptr;
    for (const Decision* g : stopped) {
      if (g->strongest == ActionKind::kReject) {
        rejecting = g;
        break;
      }
    }
    if (rejecting != nullptr) {
      out.kind = Outcome::Kind::kReject;
      SetReply(rejecting->reject_reply, "550", &out);
    } else {
      out.kind = Outcome::Kind::kDiscard;
    }
  } else {
    for (const Decision* g : stopped) {
      out.delete_rcpt.insert(out.delete_rcpt.end(), g->rcpt.begin(), g->rcpt.end());
    }
    std::set<int> parts;
    bool remove_attachments = false;
    for (const Decision* g : passing) {
      if (g->rule == nullptr) continue;
      if (g->add_header) {
        bool have = std::any_of(out.add_headers.begin(), out.add_headers.end(),
                                [&](const auto& h) { return h.first == g->rule->header_name; });
        if (!have) out.add_headers.emplace_back(g->rule->header_name, g->header_value);
      }
      if (g->tag_subject && !out.new_subject && !g->subject_tag.empty()) {
        std::string old = m.subject.value_or("");
        while (!old.empty() && (old.front() == ' ' || old.front() == '\t')) old.erase(0, 1);
        out.new_subject = old.empty() ? g->subject_tag : g->subject_tag + " " + old;
      }
      if (g->delete_attachment) {
        remove_attachments = true;
        parts.insert(g->delete_parts.begin(), g->delete_parts.end());
      }
    }
    if (remove_attachments && !parts.empty()) {
      Result<mime::Rewrite> rw = parse().RemoveParts(std::vector<int>(parts.begin(), parts.end()),
                                                     options_.attachment_note);
      if (rw.ok()) {
        out.new_body = std::move(rw->body);
        out.header_changes = std::move(rw->header_changes);
      } else if (on_event_) {
        on_event_("mime", "cannot remove attachments: " + rw.status().message());
      }
    }
  }
  out.summary =
      (labels.empty() ? std::string("clean") : labels) + (out.copies.empty() ? "" : "; copies");
  for (CopyId id : out.copies) out.summary += " " + std::to_string(id);
  if (!copy_status.ok()) Metrics().copy_failures.Add();
  if (!copy_status.ok()) return Unavailable(copy_status, m.envelope.queue_id, std::move(out));
  return out;
}

}  // namespace mailvault::intake
