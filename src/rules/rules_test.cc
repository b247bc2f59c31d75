// Tests of processing rules: address patterns, recipient partitioning, the
// precedence of action keys, whitelisting, engine failures, what a Decision
// says (header, tag, reply, reason) and Make's validation.
#include "rules/rules.h"

#include <gtest/gtest.h>

namespace mailvault::rules {
namespace {

using A = ActionKind;

scan::Verdict V(std::string engine, std::string label, std::string detail = "",
                std::vector<int> parts = {}) {
  scan::Verdict v;
  v.engine = std::move(engine);
  v.label = std::move(label);
  v.detail = std::move(detail);
  v.parts = std::move(parts);
  return v;
}

Rule MakeRule(std::string id, std::vector<std::string> senders,
              std::vector<std::string> recipients) {
  Rule r;
  r.id = std::move(id);
  r.senders = std::move(senders);
  r.recipients = std::move(recipients);
  r.engines = {"anti-virus", "anti-spam", "content-filtering", "blacklist"};
  return r;
}

RuleSet MustMake(std::vector<Rule> rules) {
  auto set = RuleSet::Make(std::move(rules));
  EXPECT_TRUE(set.ok()) << set.status().ToString();
  return set.ok() ? std::move(set).value() : RuleSet();
}

// Decides for a single rule and the given verdicts.
Decision DecideWith(const Rule& rule, const std::vector<scan::Verdict>& verdicts) {
  Decision d;
  d.rule = &rule;
  d.rcpt = {"bob@example.com"};
  Decide(verdicts, &d);
  return d;
}

TEST(AddressMatchesTest, Patterns) {
  struct Case {
    const char* pattern;
    const char* address;
    bool match;
  };
  const Case cases[] = {
      {"*", "alice@example.com", true},
      {"*", "", true},
      {"<>", "", true},
      {"<>", "<>", true},
      {"<>", "alice@example.com", false},
      {"alice@example.com", "Alice@Example.COM", true},
      {"alice@example.com", "alice@example.org", false},
      {"alice@example.com", "malice@example.com", false},
      {"@example.com", "bob@EXAMPLE.com", true},
      {"@example.com", "bob@mx.example.com", false},
      {"@example.com", "bob@notexample.com", false},
      {"example.com", "bob@example.com", true},
      {"example.com", "bob@mx.eu.Example.com", true},
      {"example.com", "bob@badexample.com", false},
      {"example.com", "example.com@evil.org", false},
      {"*.example.com", "bob@mx.example.com", true},
      {"*.example.com", "bob@example.com", false},
      {"*.example.com", "bob@badexample.com", false},
      {"sales-*@example.com", "Sales-EU@example.com", true},
      {"sales-*@example.com", "sales@example.com", false},
      {"sales-*@example.com", "sales-eu@example.com.evil.org", false},
      {"*@*.example.com", "a@b.example.com", true},
      {"@*.example.com", "a@b.example.com", true},
      {"@*.example.com", "a@example.com", false},
      {"?ob@example.com", "bob@example.com", true},
      {"example.com", "", false},
      {"@example.com", "postmaster", false},
      {"*@*", "", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(AddressMatches(c.pattern, c.address), c.match)
        << "pattern " << c.pattern << " address " << c.address;
  }
}

TEST(ActionTest, NamesRoundTrip) {
  for (A a : {A::kSkip, A::kAddHeader, A::kTagSubject, A::kDeleteAttachment, A::kDeleteMessage,
              A::kReject}) {
    auto parsed = ParseAction(ActionName(a));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, a);
  }
  EXPECT_EQ(ActionName(A::kDeleteAttachment), "delete-attachment");
  EXPECT_FALSE(ParseAction("Reject").ok());
  EXPECT_FALSE(ParseAction("").ok());
}

TEST(RuleSetTest, PartitionGroupsByFirstMatchingRule) {
  RuleSet set = MustMake({MakeRule("finance", {"*"}, {"@finance.example.com"}),
                          MakeRule("example", {"*"}, {"example.com"}),
                          MakeRule("from-partner", {"partner.org"}, {"*"})});
  std::vector<std::string> rcpt = {"a@example.com", "b@finance.example.com", "c@other.org",
                                   "d@eu.example.com", "e@finance.example.com"};
  auto groups = set.Partition("x@mail.partner.org", rcpt);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].rule->id, "finance");
  EXPECT_EQ(groups[0].rcpt,
            (std::vector<std::string>{"b@finance.example.com", "e@finance.example.com"}));
  EXPECT_EQ(groups[1].rule->id, "example");
  EXPECT_EQ(groups[1].rcpt, (std::vector<std::string>{"a@example.com", "d@eu.example.com"}));
  EXPECT_EQ(groups[2].rule->id, "from-partner");
  EXPECT_EQ(groups[2].rcpt, (std::vector<std::string>{"c@other.org"}));

  // Another sender: c@other.org matches no rule and forms the last group.
  groups = set.Partition("", rcpt);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[2].rule, nullptr);
  EXPECT_EQ(groups[2].rcpt, (std::vector<std::string>{"c@other.org"}));
  EXPECT_EQ(set.Match("", "c@other.org"), nullptr);
  EXPECT_EQ(set.Match("y@partner.org", "c@other.org")->id, "from-partner");

  EXPECT_TRUE(set.Partition("x@y.z", {}).empty());
}

TEST(RuleSetTest, EnginesForIsTheUnionInFixedOrder) {
  Rule av = MakeRule("av", {"*"}, {"a.example"});
  av.engines = {"blacklist", "anti-virus"};
  Rule spam = MakeRule("spam", {"*"}, {"b.example"});
  spam.engines = {"anti-spam", "anti-virus"};
  RuleSet set = MustMake({av, spam});
  auto groups = set.Partition("x@y.z", {"u@a.example", "v@b.example", "w@c.example"});
  EXPECT_EQ(RuleSet::EnginesFor(groups),
            (std::vector<std::string>{"anti-virus", "anti-spam", "blacklist"}));
  EXPECT_TRUE(RuleSet::EnginesFor(set.Partition("x@y.z", {"w@c.example"})).empty());
}

TEST(DecideTest, ActionKeyPrecedence) {
  Rule r = MakeRule("r", {}, {});
  r.actions = {{"anti-virus:infected", {A::kReject, true}},
               {"infected", {A::kDeleteMessage, true}},
               {"anti-virus:*", {A::kAddHeader, false}},
               {"spam", {A::kTagSubject, true}}};
  r.default_action = {A::kSkip, false};
  ASSERT_TRUE(RuleSet::Make({r}).ok());
  struct Case {
    scan::Verdict verdict;
    LabelAction want;
  };
  const Case cases[] = {
      {V("anti-virus", "infected"), {A::kReject, true}},       // engine:label
      {V("anti-spam", "spam"), {A::kTagSubject, true}},        // label
      {V("anti-virus", "encrypted"), {A::kAddHeader, false}},  // engine:*
      {V("anti-spam", "probable-spam"), {A::kSkip, false}},    // default
      {V("content-filtering", "size-exceeded"), {A::kSkip, false}},
  };
  for (const Case& c : cases) {
    Decision d = DecideWith(r, {c.verdict});
    ASSERT_EQ(d.applied.size(), 1u) << c.verdict.label;
    EXPECT_EQ(d.applied[0].what, c.want) << c.verdict.label;
  }
  // Without the engine:label key, the bare label wins over engine:*.
  r.actions.erase("anti-virus:infected");
  EXPECT_EQ(DecideWith(r, {V("anti-virus", "infected")}).applied[0].what,
            (LabelAction{A::kDeleteMessage, true}));
  // A bare label only applies to its own engine: an external analyser's
  // "spam" falls through to the default.
  r.engines.push_back("external");
  EXPECT_EQ(DecideWith(r, {V("external", "spam")}).applied[0].what, r.default_action);
}

TEST(DecideTest, CleanAndUnrunVerdictsCountForNothing) {
  Rule r = MakeRule("r", {}, {});
  r.engines = {"anti-virus"};
  Decision d = DecideWith(r, {V("anti-virus", ""), V("anti-virus", "not-detected"),
                              V("anti-spam", "spam"), V("anti-phishing", "phishing")});
  EXPECT_TRUE(d.applied.empty());
  EXPECT_FALSE(d.keep_copy);
  EXPECT_EQ(d.strongest, A::kSkip);
  EXPECT_EQ(d.header_value, "");
  EXPECT_EQ(d.reason, "");
  EXPECT_EQ(d.rcpt, std::vector<std::string>{"bob@example.com"});

  Decision none;
  none.rcpt = {"x@y.z"};
  Decide({V("anti-virus", "infected")}, &none);
  EXPECT_TRUE(none.applied.empty());
  EXPECT_FALSE(none.keep_copy);
}

TEST(DecideTest, WhitelistDropsAntiSpamOnly) {
  Rule r = MakeRule("r", {}, {});
  scan::Verdict white = V("blacklist", "");
  white.whitelisted = true;
  Decision d = DecideWith(r, {V("anti-virus", "infected"), V("anti-spam", "spam"), white});
  ASSERT_EQ(d.applied.size(), 1u);
  EXPECT_EQ(d.applied[0].engine, "anti-virus");

  // A rule that does not run the lists does not honour their whitelist.
  r.engines = {"anti-virus", "anti-spam"};
  d = DecideWith(r, {V("anti-spam", "spam"), white});
  ASSERT_EQ(d.applied.size(), 1u);
  EXPECT_EQ(d.applied[0].label, "spam");
}

TEST(DecideTest, EngineFailures) {
  Rule r = MakeRule("r", {}, {});
  r.actions = {{"anti-virus:*", {A::kReject, true}}};
  r.default_action = {A::kDeleteMessage, true};
  scan::Verdict down = V("anti-virus", "not-scanned");
  down.error = "clamd: connection refused";
  // Neither engine:* nor the default covers a failure: skip, no copy.
  Decision d = DecideWith(r, {down, V("anti-spam", "not-scanned")});
  ASSERT_EQ(d.applied.size(), 2u);
  EXPECT_EQ(d.applied[0].what, kEngineFailureAction);
  EXPECT_EQ(d.applied[0].detail, "clamd: connection refused");
  EXPECT_FALSE(d.keep_copy);
  EXPECT_EQ(d.strongest, A::kSkip);
  // The header travels with the mail: no engine errors in it.
  EXPECT_EQ(d.header_value, "anti-virus=not-scanned; anti-spam=not-scanned");

  // Explicit keys do.
  r.actions["anti-virus:not-scanned"] = {A::kAddHeader, true};
  r.actions["bases-error"] = {A::kReject, false};
  ASSERT_TRUE(RuleSet::Make({r}).ok());
  d = DecideWith(r, {down});
  EXPECT_EQ(d.applied[0].what, (LabelAction{A::kAddHeader, true}));
  EXPECT_TRUE(d.keep_copy);
  EXPECT_EQ(d.reason, "anti-virus: not-scanned (clamd: connection refused)");
  d = DecideWith(r, {V("anti-virus", "bases-error")});
  EXPECT_EQ(d.strongest, A::kReject);
  EXPECT_FALSE(d.keep_copy);
}

TEST(DecideTest, FullDecision) {
  Rule r = DefaultRule();
  scan::Verdict banned = V("content-filtering", "banned-file-name", "invoice.exe", {3, 1});
  scan::Verdict banned2 = V("content-filtering", "banned-file-format", "", {3, 5});
  Decision d = DecideWith(
      r, {V("anti-virus", "infected", "Eicar-Test-Signature"),
          V("anti-spam", "spam", "score 1000.0"), banned, banned2, V("sender-auth", "dkim-fail")});
  EXPECT_TRUE(d.keep_copy);
  EXPECT_EQ(d.strongest, A::kReject);
  EXPECT_TRUE(d.add_header);
  EXPECT_TRUE(d.tag_subject);
  EXPECT_TRUE(d.delete_attachment);
  EXPECT_EQ(d.delete_parts, (std::vector<int>{1, 3, 5}));
  ASSERT_EQ(d.applied.size(), 5u);
  EXPECT_EQ(d.applied[0].label, "infected");
  EXPECT_EQ(d.applied[1].label, "banned-file-name");
  EXPECT_EQ(d.applied[2].label, "banned-file-format");
  EXPECT_EQ(d.applied[3].label, "spam");
  EXPECT_EQ(d.applied[4].label, "dkim-fail");
  EXPECT_EQ(d.subject_tag, "[spam]");
  EXPECT_EQ(d.reject_reply, "5.7.1 Message rejected by policy (infected)");
  EXPECT_EQ(d.header_value,
            "anti-virus=infected (Eicar-Test-Signature); "
            "content-filtering=banned-file-name (invoice.exe); "
            "content-filtering=banned-file-format; anti-spam=spam (score 1000.0); "
            "sender-auth=dkim-fail");
  EXPECT_EQ(d.reason,
            "anti-virus: infected (Eicar-Test-Signature); "
            "content-filtering: banned-file-name (invoice.exe); "
            "content-filtering: banned-file-format; anti-spam: spam (score 1000.0); "
            "sender-auth: dkim-fail");

  // Deciding again replaces the earlier result.
  d = DecideWith(r, {V("anti-spam", "probable-spam")});
  EXPECT_EQ(d.strongest, A::kAddHeader);
  EXPECT_FALSE(d.tag_subject);
  EXPECT_EQ(d.subject_tag, "");
  EXPECT_EQ(d.reject_reply, "");
  EXPECT_TRUE(d.delete_parts.empty());
}

TEST(DecideTest, DeleteAttachmentWithoutPartsDeletesTheMessage) {
  Rule r = DefaultRule();
  Decision d = DecideWith(r, {V("content-filtering", "banned-file-name", "x.exe")});
  EXPECT_EQ(d.strongest, A::kDeleteMessage);
  EXPECT_FALSE(d.delete_attachment);
  EXPECT_TRUE(d.delete_parts.empty());
}

TEST(DecideTest, TemplatesAndUntrustedText) {
  Rule r = MakeRule("r", {}, {});
  r.engines.push_back("external");
  r.subject_tag = "*** {engine}: {label} ***";
  r.reject_reply = "Rejected: {label} from {engine}";
  r.actions = {{"external:*", {A::kTagSubject, true}}, {"spam", {A::kReject, true}}};
  auto set = RuleSet::Make({r});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  const Rule& made = set->rules()[0];
  EXPECT_EQ(made.reject_reply, "5.7.1 Rejected: {label} from {engine}");
  std::string long_detail(5000, 'x');
  Decision d = DecideWith(
      made, {V("external", "evil\r\n%s\xff", long_detail), V("anti-spam", "spam", "score\t9")});
  EXPECT_EQ(d.subject_tag, "*** external: evil???s? ***");
  EXPECT_EQ(d.reject_reply, "5.7.1 Rejected: spam from anti-spam");
  EXPECT_LE(d.header_value.size(), kMaxHeaderValue);
  EXPECT_LE(d.reason.size(), kMaxReason);
  for (char c : d.header_value) EXPECT_TRUE(c >= 0x20 && c < 0x7f && c != '%');
  EXPECT_EQ(d.header_value.substr(0, 32), "anti-spam=spam (score?9); extern");
}

TEST(MakeTest, AcceptsDefaultRuleAndNormalizesReplies) {
  ASSERT_TRUE(RuleSet::Make({DefaultRule()}).ok());
  ASSERT_TRUE(RuleSet::Make({}).ok());
  Rule r = MakeRule("r", {"<>"}, {"*"});
  r.reject_reply = "5.7.0 go away";
  auto set = RuleSet::Make({r});
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->rules()[0].reject_reply, "5.7.0 go away");
  r.reject_reply = "5.7.0";
  EXPECT_EQ(RuleSet::Make({r})->rules()[0].reject_reply, "5.7.0");
  r.reject_reply = "Go away";
  EXPECT_EQ(RuleSet::Make({r})->rules()[0].reject_reply, "5.7.1 Go away");
  r.reject_reply = "550 5.7.1 no";  // a reply code is not ours to give
  EXPECT_EQ(RuleSet::Make({r})->rules()[0].reject_reply, "5.7.1 550 5.7.1 no");
}

TEST(MakeTest, Errors) {
  struct Case {
    const char* what;
    void (*mutate)(std::vector<Rule>*);
    const char* needle;
  };
  const Case cases[] = {
      {"empty id", [](std::vector<Rule>* v) { (*v)[0].id = ""; }, "rule #1: id"},
      {"bad id", [](std::vector<Rule>* v) { (*v)[1].id = "a b"; }, "rule #2: id \"a b\""},
      {"long id", [](std::vector<Rule>* v) { (*v)[0].id = std::string(65, 'a'); }, "1 to 64"},
      {"duplicate id", [](std::vector<Rule>* v) { (*v)[1].id = "first"; },
       "rule \"first\": id used"},
      {"shadowed", [](std::vector<Rule>* v) { (*v)[0].recipients = {"*"}; },
       "rule \"second\" is never used"},
      {"empty pattern", [](std::vector<Rule>* v) { (*v)[0].senders = {""}; },
       "rule \"first\": senders"},
      {"space in pattern", [](std::vector<Rule>* v) { (*v)[0].senders = {"a b@c"}; }, "space"},
      {"null recipient", [](std::vector<Rule>* v) { (*v)[0].recipients = {"<>"}; }, "senders only"},
      {"bare at", [](std::vector<Rule>* v) { (*v)[0].recipients = {"@"}; }, "no domain"},
      {"unknown engine", [](std::vector<Rule>* v) { (*v)[0].engines = {"anti-virsu"}; },
       "rule \"first\": engines: unknown engine \"anti-virsu\""},
      {"repeated engine",
       [](std::vector<Rule>* v) {
         (*v)[0].engines = {"anti-virus", "anti-virus"};
       },
       "listed twice"},
      {"unknown label", [](std::vector<Rule>* v) { (*v)[0].actions["anti-virus:infectd"] = {}; },
       "action \"anti-virus:infectd\": unknown label"},
      {"label of another engine",
       [](std::vector<Rule>* v) { (*v)[0].actions["anti-virus:spam"] = {}; }, "unknown label"},
      {"unknown bare label", [](std::vector<Rule>* v) { (*v)[0].actions["spma"] = {}; },
       "no label of a built-in engine"},
      {"ambiguous label", [](std::vector<Rule>* v) { (*v)[0].actions["blacklisted"] = {}; },
       "several engines; write ENGINE:blacklisted"},
      {"ambiguous failure", [](std::vector<Rule>* v) { (*v)[0].actions["not-scanned"] = {}; },
       "several engines"},
      {"engine not run", [](std::vector<Rule>* v) { (*v)[0].actions["phishing"] = {}; },
       "anti-phishing, which the rule does not run"},
      {"engine:* not run", [](std::vector<Rule>* v) { (*v)[0].actions["sender-auth:*"] = {}; },
       "does not run sender-auth"},
      {"unknown engine key", [](std::vector<Rule>* v) { (*v)[0].actions["av:infected"] = {}; },
       "unknown engine \"av\""},
      {"clean label key",
       [](std::vector<Rule>* v) { (*v)[0].actions["anti-virus:not-detected"] = {}; },
       "clean answer"},
      {"header name colon", [](std::vector<Rule>* v) { (*v)[0].header_name = "X-A:"; },
       "header_name"},
      {"header name empty", [](std::vector<Rule>* v) { (*v)[0].header_name = ""; }, "header_name"},
      {"tag newline", [](std::vector<Rule>* v) { (*v)[0].subject_tag = "[x]\r\n"; }, "subject_tag"},
      {"tag placeholder", [](std::vector<Rule>* v) { (*v)[0].subject_tag = "[{lable}]"; },
       "unknown placeholder {lable}"},
      {"tag brace", [](std::vector<Rule>* v) { (*v)[0].subject_tag = "[{label]"; },
       "unmatched '{'"},
      {"reply percent", [](std::vector<Rule>* v) { (*v)[0].reject_reply = "100% spam"; },
       "without '%'"},
      {"reply tempfail", [](std::vector<Rule>* v) { (*v)[0].reject_reply = "4.7.1 later"; },
       "not a permanent"},
      {"reply empty", [](std::vector<Rule>* v) { (*v)[0].reject_reply = ""; }, "reject_reply"},
      {"reply placeholder", [](std::vector<Rule>* v) { (*v)[0].reject_reply = "{rcpt}"; },
       "unknown placeholder"},
  };
  for (const Case& c : cases) {
    std::vector<Rule> rules = {MakeRule("first", {"*"}, {"example.com"}),
                               MakeRule("second", {"*"}, {"*"})};
    ASSERT_TRUE(RuleSet::Make(rules).ok());
    c.mutate(&rules);
    auto set = RuleSet::Make(rules);
    ASSERT_FALSE(set.ok()) << c.what;
    EXPECT_EQ(set.status().code(), Code::kInvalidArgument) << c.what;
    EXPECT_NE(set.status().message().find(c.needle), std::string::npos)
        << c.what << ": " << set.status().message();
  }
}

}  // namespace
}  // namespace mailvault::rules
