// Processing rules: which engines run for a message and what each label
// leads to.
//
// A rule matches an envelope sender and recipient by patterns; the first
// matching rule (in config order) applies to that recipient. A message with
// several recipients under different rules is split into groups, one per
// rule, and each group is decided on its own (Partition). For each label an
// engine gives, the rule names an action and whether a copy is kept in the
// Backup. Pure values and functions; thread-safe once built.
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
enum class ActionKind { kSkip, kAddHeader, kTagSubject, kDeleteAttachment, kDeleteMessage, kReject };

std::string_view ActionName(ActionKind a);  // "skip", "add-header", ...
Result<ActionKind> ParseAction(std::string_view name);

struct LabelAction {
  ActionKind action = ActionKind::kSkip;
  bool keep_copy = true;
};

struct Rule {
  std::string id;  // shown and stored with every copy: [A-Za-z0-9._-]{1,64}
  // Address patterns, case-insensitive: "*" (anyone), "user@example.com",
  // "@example.com" or "example.com" (that domain), "*.example.com"
  // (subdomains), or a glob over the whole address ("sales-*@example.com").
  // "<>" matches the null sender. Empty list = "*".
  std::vector<std::string> senders;
  std::vector<std::string> recipients;
  // Scan types (kEngines names) this rule runs; the others are not asked.
  std::vector<std::string> engines;
  // Per label: key "ENGINE:LABEL" ("anti-virus:infected") or just "LABEL"
  // when unambiguous ("spam"), or "ENGINE:*" for any label of an engine.
  // Most specific wins: "engine:label", then "label", then "engine:*",
  // then `default_action`.
  std::map<std::string, LabelAction> actions;
  LabelAction default_action;  // skip, keep copy
  std::string header_name = "X-Mailvault-Status";  // for add-header
  std::string subject_tag = "[{label}]";           // for tag-subject; {label}, {engine}
  std::string reject_reply = "5.7.1 Message rejected by policy ({label})";
};

// What applies to one group of recipients.
struct Decision {
  const Rule* rule = nullptr;  // nullptr: no rule matched, the message passes unscanned
  std::vector<std::string> rcpt;
  // Labelled verdicts (clean ones left out), each with the action chosen.
  struct Applied {
    std::string engine, label, detail;
    LabelAction what;
  };
  std::vector<Applied> applied;
  bool keep_copy = false;            // some label asks for a copy
  ActionKind strongest = ActionKind::kSkip;
  bool add_header = false, tag_subject = false, delete_attachment = false;
  std::vector<int> delete_parts;     // union of verdict parts under delete-attachment
  std::string header_value;          // "anti-virus=infected; anti-spam=spam"
  std::string subject_tag;           // expanded tag ("[spam]")
  std::string reject_reply;          // expanded reply text for reject
  std::string reason;                // why a copy was kept, for people
};

class RuleSet {
 public:
  // InvalidArgument naming the rule and field: duplicate or bad ids, unknown
  // engines, labels that are not labels of the named engine.
  static Result<RuleSet> Make(std::vector<Rule> rules);
  RuleSet() = default;

  const std::vector<Rule>& rules() const { return rules_; }
  // The first rule matching sender and recipient, or nullptr.
  const Rule* Match(std::string_view sender, std::string_view rcpt) const;
  // Recipients grouped by their first matching rule, in rule order; the
  // recipients no rule matches form a last group with rule == nullptr.
  std::vector<Decision> Partition(std::string_view sender,
                                  const std::vector<std::string>& rcpt) const;
  // Union of the scan types the given groups' rules run.
  static std::vector<std::string> EnginesFor(const std::vector<Decision>& groups);

 private:
  explicit RuleSet(std::vector<Rule> rules) : rules_(std::move(rules)) {}
  std::vector<Rule> rules_;
};

// Fills `group` (whose rule and rcpt are set) from the verdicts: only the
// verdicts of scan types the rule runs count; clean verdicts count for
// nothing. A whitelisted sender (any verdict with whitelisted) drops the
// anti-spam verdict.
void Decide(const std::vector<scan::Verdict>& verdicts, Decision* group);

}  // namespace mailvault::rules
