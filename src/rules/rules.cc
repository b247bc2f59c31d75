// Rule matching and decisions. Design note: everything a config can get wrong
// is caught in Make, so Match and Decide cannot fail; Decide sanitizes what
// engines report (details and external labels are untrusted text) before it
// goes into a header, a subject or an SMTP reply.
#include "rules/rules.h"

#include <fnmatch.h>

#include <algorithm>
#include <set>

#include "mailvault/copy.h"

namespace mailvault::rules {
namespace {

constexpr std::string_view kActionNames[] = {
    "skip", "add-header", "tag-subject", "delete-attachment", "delete-message", "reject"};

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool EndsWithNoCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && EqualsNoCase(s.substr(s.size() - suffix.size()), suffix);
}

bool HasGlob(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

bool Glob(std::string_view pattern, std::string_view text) {
  return fnmatch(std::string(pattern).c_str(), std::string(text).c_str(), FNM_CASEFOLD) == 0;
}

// `domain` is `base` or one of its subdomains.
bool InDomain(std::string_view domain, std::string_view base) {
  return EqualsNoCase(domain, base) ||
         (domain.size() > base.size() && domain[domain.size() - base.size() - 1] == '.' &&
          EndsWithNoCase(domain, base));
}

bool IsFailureLabel(std::string_view label) {
  return label == "not-scanned" || label == "bases-error";
}

bool Printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// Untrusted text made safe for one header line or SMTP reply: printable
// ASCII only ('%' too: a milter reply's text is a format string to Sendmail), at most `max` bytes.
std::string Sanitize(std::string_view s, size_t max) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) {
      out.replace(max - 3, std::string::npos, "...");
      break;
    }
    out += (c >= 0x20 && c < 0x7f && c != '%') ? c : '?';
  }
  return out;
}

// The built-in engine whose label `label` is, or "" (none) / "*" (several).
// "external" takes any label, so it never resolves a bare one.
std::string BareLabelEngine(std::string_view label) {
  std::string found;
  for (std::string_view e : kEngines) {
    if (e == "external" || !ValidateStatus(e, label).ok()) continue;
    if (!found.empty()) return "*";
    found = std::string(e);
  }
  return found;
}

bool Runs(const Rule& rule, std::string_view engine) {
  return std::find(rule.engines.begin(), rule.engines.end(), engine) != rule.engines.end();
}

bool MatchesAny(const std::vector<std::string>& patterns, std::string_view address) {
  if (patterns.empty()) return true;
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return AddressMatches(p, address); });
}

bool MatchesEveryone(const std::vector<std::string>& patterns) {
  return patterns.empty() || std::find(patterns.begin(), patterns.end(), "*") != patterns.end();
}

Status CheckPattern(const std::string& where, std::string_view p, bool sender) {
  if (p.empty() || p.size() > 320) {
    return Status::InvalidArgument(where + ": pattern must be 1 to 320 bytes");
  }
  if (p == "<>") {
    if (sender) return Status::Ok();
    return Status::InvalidArgument(where + ": \"<>\" (the null sender) is for senders only");
  }
  for (char c : p) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '<' || c == '>') {
      return Status::InvalidArgument(where + ": \"" + Sanitize(p, 100) +
                                     "\" has a space, control character or angle bracket");
    }
  }
  if (p == "@" || p == "*.") {
    return Status::InvalidArgument(where + ": \"" + std::string(p) + "\" names no domain");
  }
  return Status::Ok();
}

// "{label}" and "{engine}" are the only placeholders.
Status CheckTemplate(const std::string& where, std::string_view t) {
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '}') return Status::InvalidArgument(where + ": unmatched '}'");
    if (t[i] != '{') continue;
    size_t end = t.find('}', i);
    if (end == std::string_view::npos) return Status::InvalidArgument(where + ": unmatched '{'");
    std::string_view name = t.substr(i + 1, end - i - 1);
    if (name != "label" && name != "engine") {
      return Status::InvalidArgument(where + ": unknown placeholder {" + Sanitize(name, 40) +
                                     "} (use {label} or {engine})");
    }
    i = end;
  }
  return Status::Ok();
}

std::string Expand(std::string_view t, std::string_view engine, std::string_view label) {
  std::string out;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t.substr(i).starts_with("{label}")) {
      out += Sanitize(label, 64);
      i += 6;
    } else if (t.substr(i).starts_with("{engine}")) {
      out += engine;
      i += 7;
    } else {
      out += t[i];
    }
  }
  return out;
}

bool IsDigits(std::string_view s) {
  return !s.empty() && s.size() <= 3 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Length of a leading "D.X.Y" enhanced status code followed by a space or the
// end, or 0.
size_t EnhancedCodeLength(std::string_view s) {
  size_t end = s.find(' ');
  std::string_view code = s.substr(0, end);
  size_t d1 = code.find('.');
  if (d1 != 1 || !IsDigits(code.substr(0, 1))) return 0;
  size_t d2 = code.find('.', d1 + 1);
  if (d2 == std::string_view::npos) return 0;
  if (!IsDigits(code.substr(d1 + 1, d2 - d1 - 1)) || !IsDigits(code.substr(d2 + 1))) return 0;
  return code.size();
}

Status CheckActionKey(const Rule& rule, const std::string& where, const std::string& key) {
  size_t colon = key.find(':');
  if (colon == std::string::npos) {
    std::string engine = BareLabelEngine(key);
    if (engine.empty()) {
      return Status::InvalidArgument(where + ": \"" + Sanitize(key, 100) +
                                     "\" is no label of a built-in engine (use ENGINE:LABEL)");
    }
    if (engine == "*") {
      return Status::InvalidArgument(where + ": label \"" + key +
                                     "\" belongs to several engines; write ENGINE:" + key);
    }
    if (!Runs(rule, engine)) {
      return Status::InvalidArgument(where + ": \"" + key + "\" is a label of " + engine +
                                     ", which the rule does not run");
    }
    return Status::Ok();
  }
  std::string engine = key.substr(0, colon), label = key.substr(colon + 1);
  if (auto bit = EngineBit(engine); !bit.ok()) return bit.status().Annotate(where);
  if (!Runs(rule, engine)) {
    return Status::InvalidArgument(where + ": the rule does not run " + engine);
  }
  if (label == "*") return Status::Ok();
  MV_RETURN_IF_ERROR(ValidateStatus(engine, label).Annotate(where));
  if (label == "not-detected") {
    return Status::InvalidArgument(where + ": not-detected is a clean answer; no action applies");
  }
  return Status::Ok();
}

Status CheckRule(Rule* rule, size_t index) {
  const bool id_ok = !rule->id.empty() && rule->id.size() <= 64 &&
                     std::all_of(rule->id.begin(), rule->id.end(), [](char c) {
                       return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
                     });
  if (!id_ok) {
    return Status::InvalidArgument("rule #" + std::to_string(index + 1) + ": id \"" +
                                   Sanitize(rule->id, 80) +
                                   "\" must be 1 to 64 of A-Z a-z 0-9 . _ -");
  }
  const std::string name = "rule \"" + rule->id + "\"";
  for (const std::string& p : rule->senders) {
    MV_RETURN_IF_ERROR(CheckPattern(name + ": senders", p, true));
  }
  for (const std::string& p : rule->recipients) {
    MV_RETURN_IF_ERROR(CheckPattern(name + ": recipients", p, false));
  }
  std::set<std::string> seen;
  for (const std::string& e : rule->engines) {
    if (auto bit = EngineBit(e); !bit.ok()) return bit.status().Annotate(name + ": engines");
    if (!seen.insert(e).second) {
      return Status::InvalidArgument(name + ": engines: " + e + " is listed twice");
    }
  }
  for (const auto& [key, what] : rule->actions) {
    MV_RETURN_IF_ERROR(
        CheckActionKey(*rule, name + ": action \"" + Sanitize(key, 100) + "\"", key));
  }
  const std::string& h = rule->header_name;
  if (h.empty() || h.size() > 76 ||
      !std::all_of(h.begin(), h.end(), [](char c) { return c > 0x20 && c < 0x7f && c != ':'; })) {
    return Status::InvalidArgument(name + ": header_name \"" + Sanitize(h, 80) +
                                   "\" must be 1 to 76 printable characters without ':' or space");
  }
  if (!Printable(rule->subject_tag) || rule->subject_tag.size() > 100) {
    return Status::InvalidArgument(name +
                                   ": subject_tag must be printable ASCII, at most 100 bytes");
  }
  MV_RETURN_IF_ERROR(CheckTemplate(name + ": subject_tag", rule->subject_tag));
  std::string& reply = rule->reject_reply;
  if (reply.empty() || !Printable(reply) || reply.find('%') != std::string::npos ||
      reply.size() > 300) {
    return Status::InvalidArgument(name +
                                   ": reject_reply must be 1 to 300 bytes of printable ASCII "
                                   "without '%'");
  }
  MV_RETURN_IF_ERROR(CheckTemplate(name + ": reject_reply", reply));
  if (size_t n = EnhancedCodeLength(reply); n > 0) {
    if (reply[0] != '5') {
      return Status::InvalidArgument(name + ": reject_reply code " + reply.substr(0, n) +
                                     " is not a permanent (5.X.Y) one");
    }
  } else {
    reply = "5.7.1 " + reply;
  }
  return Status::Ok();
}

LabelAction Lookup(const Rule& rule, const std::string& engine, const std::string& label) {
  if (auto it = rule.actions.find(engine + ":" + label); it != rule.actions.end()) {
    return it->second;
  }
  if (auto it = rule.actions.find(label);
      it != rule.actions.end() && BareLabelEngine(label) == engine) {
    return it->second;
  }
  if (IsFailureLabel(label)) return kEngineFailureAction;
  if (auto it = rule.actions.find(engine + ":*"); it != rule.actions.end()) return it->second;
  return rule.default_action;
}

// Joins "ENGINE<sep>LABEL (DETAIL)" of the entries `pick` selects with "; ",
// cut to `max` bytes. `errors`: whether a failure label shows its error
// (for the reason, which only administrators see; a header travels with the
// mail and must not tell recipients about the gateway's sockets).
template <typename Pick>
std::string Summary(const std::vector<Decision::Applied>& applied, std::string_view sep,
                    bool errors, size_t max, Pick pick) {
  std::string out;
  for (const Decision::Applied& a : applied) {
    if (!pick(a)) continue;
    if (!out.empty()) out += "; ";
    out += a.engine;
    out += sep;
    out += Sanitize(a.label, 64);
    if (!a.detail.empty() && (errors || !IsFailureLabel(a.label))) {
      out += " (" + Sanitize(a.detail, 200) + ")";
    }
  }
  return Sanitize(out, max);
}

}  // namespace

std::string_view ActionName(ActionKind a) { return kActionNames[static_cast<int>(a)]; }

Result<ActionKind> ParseAction(std::string_view name) {
  for (size_t i = 0; i < std::size(kActionNames); ++i) {
    if (kActionNames[i] == name) return static_cast<ActionKind>(i);
  }
  return Status::InvalidArgument("unknown action \"" + Sanitize(name, 40) +
                                 "\" (one of: skip, add-header, tag-subject, delete-attachment, "
                                 "delete-message, reject)");
}

Rule DefaultRule() {
  Rule r;
  r.id = "default";
  r.senders = {"*"};
  r.recipients = {"*"};
  for (std::string_view e : kEngines) r.engines.emplace_back(e);
  using A = ActionKind;
  const LabelAction no_copy{A::kSkip, false};
  r.actions = {
      {"anti-virus:infected", {A::kReject, true}},
      {"anti-virus:probably-infected", {A::kReject, true}},
      {"anti-virus:encrypted", {A::kAddHeader, true}},
      {"anti-virus:corrupted", {A::kAddHeader, true}},
      {"anti-virus:not-scanned", no_copy},
      {"anti-virus:bases-error", no_copy},
      {"anti-spam:spam", {A::kTagSubject, true}},
      {"anti-spam:probable-spam", {A::kAddHeader, true}},
      {"anti-spam:blacklisted", {A::kReject, true}},
      {"anti-spam:massmail", {A::kAddHeader, true}},
      {"anti-spam:not-scanned", no_copy},
      {"anti-phishing:phishing", {A::kDeleteMessage, true}},
      {"anti-phishing:malicious-link", {A::kDeleteMessage, true}},
      {"anti-phishing:not-scanned", no_copy},
      {"content-filtering:banned-file-name", {A::kDeleteAttachment, true}},
      {"content-filtering:banned-file-format", {A::kDeleteAttachment, true}},
      {"content-filtering:size-exceeded", {A::kReject, true}},
      {"content-filtering:not-scanned", no_copy},
      {"sender-auth:spf-fail", {A::kAddHeader, true}},
      {"sender-auth:dkim-fail", {A::kAddHeader, true}},
      {"sender-auth:dmarc-fail", {A::kAddHeader, true}},
      {"sender-auth:not-scanned", no_copy},
      {"blacklist:blacklisted", {A::kReject, true}},
  };
  r.default_action = {A::kSkip, true};
  return r;
}

bool AddressMatches(std::string_view pattern, std::string_view address) {
  if (pattern == "*") return true;
  const bool null_sender = address.empty() || address == "<>";
  if (pattern == "<>") return null_sender;
  if (null_sender) return false;
  size_t at = address.rfind('@');
  std::string_view domain = at == std::string_view::npos ? "" : address.substr(at + 1);
  if (pattern.front() == '@') {
    std::string_view d = pattern.substr(1);
    return HasGlob(d) ? Glob(d, domain) : EqualsNoCase(domain, d);
  }
  if (pattern.starts_with("*.")) {
    std::string_view base = pattern.substr(2);
    if (!HasGlob(base) && base.find('@') == std::string_view::npos) {
      return InDomain(domain, base) && !EqualsNoCase(domain, base);
    }
  }
  if (HasGlob(pattern)) return Glob(pattern, address);
  if (pattern.find('@') != std::string_view::npos) return EqualsNoCase(pattern, address);
  return InDomain(domain, pattern);
}

Result<RuleSet> RuleSet::Make(std::vector<Rule> rules) {
  std::set<std::string> ids;
  const Rule* catch_all = nullptr;
  for (size_t i = 0; i < rules.size(); ++i) {
    Rule& r = rules[i];
    MV_RETURN_IF_ERROR(CheckRule(&r, i));
    if (!ids.insert(r.id).second) {
      return Status::InvalidArgument("rule \"" + r.id + "\": id used by an earlier rule");
    }
    if (catch_all != nullptr) {
      return Status::InvalidArgument("rule \"" + r.id + "\" is never used: rule \"" +
                                     catch_all->id +
                                     "\" before it matches every sender and recipient");
    }
    if (MatchesEveryone(r.senders) && MatchesEveryone(r.recipients)) catch_all = &r;
  }
  return RuleSet(std::move(rules));
}

const Rule* RuleSet::Match(std::string_view sender, std::string_view rcpt) const {
  for (const Rule& r : rules_) {
    if (MatchesAny(r.senders, sender) && MatchesAny(r.recipients, rcpt)) return &r;
  }
  return nullptr;
}

std::vector<Decision> RuleSet::Partition(std::string_view sender,
                                         const std::vector<std::string>& rcpt) const {
  std::vector<Decision> groups(rules_.size() + 1);
  for (const std::string& to : rcpt) {
    const Rule* r = Match(sender, to);
    size_t slot = r == nullptr ? rules_.size() : static_cast<size_t>(r - rules_.data());
    groups[slot].rule = r;
    groups[slot].rcpt.push_back(to);
  }
  std::erase_if(groups, [](const Decision& d) { return d.rcpt.empty(); });
  return groups;
}

std::vector<std::string> RuleSet::EnginesFor(const std::vector<Decision>& groups) {
  std::vector<std::string> out;
  for (std::string_view e : kEngines) {
    bool used = std::any_of(groups.begin(), groups.end(), [&](const Decision& d) {
      return d.rule != nullptr && Runs(*d.rule, e);
    });
    if (used) out.emplace_back(e);
  }
  return out;
}

void Decide(const std::vector<scan::Verdict>& verdicts, Decision* group) {
  const Rule* rule = group->rule;
  std::vector<std::string> rcpt = std::move(group->rcpt);
  *group = Decision{};
  group->rule = rule;
  group->rcpt = std::move(rcpt);
  if (rule == nullptr) return;

  bool whitelisted = std::any_of(verdicts.begin(), verdicts.end(), [&](const scan::Verdict& v) {
    return v.whitelisted && Runs(*rule, v.engine);
  });
  std::set<int> parts;
  for (const scan::Verdict& v : verdicts) {
    if (!Runs(*rule, v.engine) || v.clean()) continue;
    if (whitelisted && v.engine == "anti-spam") continue;
    Decision::Applied a{v.engine, v.label, v.detail, Lookup(*rule, v.engine, v.label)};
    if (a.detail.empty() && IsFailureLabel(v.label)) a.detail = v.error;
    if (a.what.action == ActionKind::kDeleteAttachment) {
      if (v.parts.empty()) {
        a.what.action = ActionKind::kDeleteMessage;
      } else {
        parts.insert(v.parts.begin(), v.parts.end());
      }
    }
    group->applied.push_back(std::move(a));
  }
  std::stable_sort(group->applied.begin(), group->applied.end(),
                   [](const Decision::Applied& x, const Decision::Applied& y) {
                     return x.what.action > y.what.action;
                   });
  group->delete_parts.assign(parts.begin(), parts.end());
  if (group->applied.empty()) return;

  const Decision::Applied* tagger = nullptr;
  for (const Decision::Applied& a : group->applied) {
    group->keep_copy = group->keep_copy || a.what.keep_copy;
    group->strongest = std::max(group->strongest, a.what.action);
    switch (a.what.action) {
      case ActionKind::kAddHeader:
        group->add_header = true;
        break;
      case ActionKind::kTagSubject:
        group->tag_subject = true;
        if (tagger == nullptr) tagger = &a;
        break;
      case ActionKind::kDeleteAttachment:
        group->delete_attachment = true;
        break;
      default:
        break;
    }
  }
  if (tagger != nullptr) {
    group->subject_tag = Sanitize(Expand(rule->subject_tag, tagger->engine, tagger->label), 200);
  }
  // Applied is sorted strongest first, so the front asked for a reject.
  const Decision::Applied& front = group->applied.front();
  if (group->strongest == ActionKind::kReject) {
    group->reject_reply = Sanitize(Expand(rule->reject_reply, front.engine, front.label), 400);
  }
  group->header_value = Summary(group->applied, "=", false, kMaxHeaderValue,
                                [](const Decision::Applied&) { return true; });
  group->reason = Summary(group->applied, ": ", true, kMaxReason,
                          [](const Decision::Applied& a) { return a.what.keep_copy; });
}

}  // namespace mailvault::rules
