// Processing rules: which engines run for a message and what each label
// leads to.
//
// A rule matches an envelope sender and recipient by patterns; the first
// matching rule (in config order) applies to that recipient. A message with
// several recipients under different rules is split into groups, one per
// rule, and each group is decided on its own (Partition). For each label an
// engine gives, the rule names an action and whether a copy is kept in the
// Backup. Pure values and functions; thread-safe once built.
//
// Engine failures ("not-scanned", and "bases-error" of anti-virus) are labels
// like the others, with one difference: "ENGINE:*" and `default_action` do
// not cover them. A failure label takes only an explicit "ENGINE:not-scanned"
// (or "bases-error", which belongs to anti-virus alone) and otherwise gets
// kEngineFailureAction: skip, no copy. So "anti-virus:*" = reject means "any
// virus finding", never "reject all mail while clamd restarts".
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/status.h"
#include "scan/engine.h"

namespace mailvault::rules {

// In increasing severity; a message gets every action its labels ask for,
// and reject/delete-message override the rest.
enum class ActionKind {
  kSkip,
  kAddHeader,
  kTagSubject,
  kDeleteAttachment,
  kDeleteMessage,
  kReject
};

std::string_view ActionName(ActionKind a);  // "skip", "add-header", ...
Result<ActionKind> ParseAction(std::string_view name);

struct LabelAction {
  ActionKind action = ActionKind::kSkip;
  bool keep_copy = true;
  bool operator==(const LabelAction&) const = default;
};

// What a failure label gets when the rule names no action for it.
inline constexpr LabelAction kEngineFailureAction{ActionKind::kSkip, false};

struct Rule {
  std::string id;  // shown and stored with every copy: [A-Za-z0-9._-]{1,64}
  // Address patterns, case-insensitive (AddressMatches): "*" (anyone, also
  // the null sender), "user@example.com", "@example.com" (that domain only),
  // "example.com" (that domain and its subdomains), "*.example.com"
  // (subdomains only), or a glob over the whole address ("sales-*@example.com";
  // "@*.example.com" globs the domain). "<>" matches the null sender (senders
  // only). Empty list = "*".
  std::vector<std::string> senders;
  std::vector<std::string> recipients;
  // Scan types (kEngines names) this rule runs; the others are not asked and
  // their verdicts are ignored. Empty: none (a bypass rule).
  std::vector<std::string> engines;
  // Per label: key "ENGINE:LABEL" ("anti-virus:infected"), just "LABEL" when
  // it is a label of exactly one built-in engine ("spam"; not "blacklisted",
  // which anti-spam and blacklist both give, nor "not-scanned"), or
  // "ENGINE:*" for any label of an engine. Every key must name an engine the
  // rule runs. Most specific wins: "engine:label", then "label", then
  // "engine:*", then `default_action` (the last two not for failure labels).
  std::map<std::string, LabelAction> actions;
  LabelAction default_action;                      // skip, keep copy
  std::string header_name = "X-Mailvault-Status";  // for add-header
  // For tag-subject; {label} and {engine} are replaced by the label that
  // asked for the tag and its engine. Printable ASCII, at most 100 bytes.
  std::string subject_tag = "[{label}]";
  // For reject, with {label} and {engine} as above. Printable ASCII without
  // '%', at most 300 bytes. Make keeps a leading "5.X.Y " enhanced status
  // code, rejects any other leading "D.X.Y" code and otherwise prepends
  // "5.7.1 ".
  std::string reject_reply = "5.7.1 Message rejected by policy ({label})";
  bool operator==(const Rule&) const = default;
};

// The gateway rule used when the config names none; conf/mailvault.toml ships
// the same rule spelled out.
Rule DefaultRule();

// Whether `address` (envelope form without <>, "" = null sender) matches
// `pattern` as described at Rule::senders.
bool AddressMatches(std::string_view pattern, std::string_view address);

// What applies to one group of recipients.
struct Decision {
  // Points into the RuleSet that made this Decision (valid while it lives and
  // is not reassigned); nullptr: no rule matched, the message passes unscanned.
  const Rule* rule = nullptr;
  std::vector<std::string> rcpt;
  // Labelled verdicts (clean ones left out), each with the action chosen,
  // strongest action first (verdict order among equals). `detail` is the
  // verdict's detail, or its error for a failure label.
  struct Applied {
    std::string engine, label, detail;
    LabelAction what;
  };
  std::vector<Applied> applied;
  bool keep_copy = false;  // some label asks for a copy
  // The flags say what the labels ask for; when `strongest` is reject or
  // delete-message the caller does that and ignores the flags.
  ActionKind strongest = ActionKind::kSkip;
  bool add_header = false, tag_subject = false, delete_attachment = false;
  std::vector<int> delete_parts;  // sorted union of verdict parts under delete-attachment
  // "anti-virus=infected (Eicar-Test-Signature); anti-spam=spam": every
  // applied label (failure labels without their error); one line of
  // printable ASCII, at most kMaxHeaderValue bytes.
  std::string header_value;
  std::string subject_tag;   // expanded tag ("[spam]"), set when tag_subject
  std::string reject_reply;  // expanded reply ("5.7.1 ..."), set when strongest is reject
  // Why a copy was kept, for people: "anti-virus: infected (Eicar); anti-spam:
  // spam (score 1000.0)"; the labels that asked for a copy. "" if none did.
  std::string reason;
};

inline constexpr size_t kMaxHeaderValue = 900;
inline constexpr size_t kMaxReason = 1000;

class RuleSet {
 public:
  // Validates and normalizes (reject_reply) the rules. InvalidArgument naming
  // the rule and field: duplicate or bad ids, bad patterns, unknown or
  // repeated engines, action keys that name no label of an engine the rule
  // runs or are ambiguous, bad header name or templates, and rules that can
  // never match because an earlier rule matches everyone.
  static Result<RuleSet> Make(std::vector<Rule> rules);
  RuleSet() = default;

  const std::vector<Rule>& rules() const { return rules_; }
  // The first rule matching sender and recipient, or nullptr.
  const Rule* Match(std::string_view sender, std::string_view rcpt) const;
  // Recipients grouped by their first matching rule, in rule order; the
  // recipients no rule matches form a last group with rule == nullptr.
  std::vector<Decision> Partition(std::string_view sender,
                                  const std::vector<std::string>& rcpt) const;
  // Union of the scan types the given groups' rules run, in kEngines order.
  static std::vector<std::string> EnginesFor(const std::vector<Decision>& groups);

 private:
  explicit RuleSet(std::vector<Rule> rules) : rules_(std::move(rules)) {}
  std::vector<Rule> rules_;
};

// Fills `group` (whose rule and rcpt are set; earlier results are replaced)
// from the verdicts: only the verdicts of scan types the rule runs count;
// clean verdicts count for nothing. A whitelisted sender (any counted verdict
// with whitelisted) drops the anti-spam verdict. A delete-attachment label
// whose verdict names no parts becomes delete-message: the harmful part cannot
// be singled out, so nothing of it may pass. With rule == nullptr nothing
// applies.
void Decide(const std::vector<scan::Verdict>& verdicts, Decision* group);

}  // namespace mailvault::rules
