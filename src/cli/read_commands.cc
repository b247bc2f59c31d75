// search, show, stats and verify: reading commands, which open the store
// read-only and so work while mailvaultd holds it. show is recorded in the
// audit log (cli_audit.h) before it prints.
#include <memory>

#include "base/json_text.h"
#include "base/search_args.h"
#include "cli/cli_audit.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "env/env.h"
#include "journal/audit_log.h"
#include "store/copy_json.h"

namespace mailvault::cli {
namespace {

struct SearchOpts {
  std::string data = kDefaultDataDir;
  SearchArgs args;
  bool json = false;
};

int PrintOut(const std::string& text) {
  Status s = WriteStdout(text);
  return s.ok() ? kExitOk : ReportError(s);
}

int RunSearch(const SearchOpts& o) {
  auto query = BuildSearchQuery(o.args, PosixEnv()->NowMicros());
  if (!query.ok()) return ReportError(query.status());
  auto store = OpenForReading(o.data);
  if (!store.ok()) return ReportError(store.status());
  auto page = (*store)->Search(*query);
  if (!page.ok()) return ReportError(page.status());
  return PrintOut(o.json ? JsonText(SearchPageToJson(*page)) + "\n" : FormatSearchTable(*page));
}

int RunShow(const std::string& dir, uint64_t id, bool json) {
  auto store = OpenForReading(dir);
  if (!store.ok()) return ReportError(store.status());
  auto meta = (*store)->Get(id);
  Status audited = AuditCliOrDefer(dir, journal::kActionView, {id}, meta.status());
  if (!meta.ok()) return ReportError(meta.status());
  if (!audited.ok()) return ReportError(audited);
  return PrintOut(json ? JsonText(CopyToJson(*meta), 2) + "\n" : FormatCopy(*meta));
}

int RunStats(const std::string& dir, bool json) {
  auto store = OpenForReading(dir);
  if (!store.ok()) return ReportError(store.status());
  auto stats = (*store)->Stats();
  if (!stats.ok()) return ReportError(stats.status());
  return PrintOut(json ? JsonText(StatsToJson(*stats), 2) + "\n" : FormatStats(*stats));
}

int RunVerify(const std::string& dir) {
  auto store = OpenForReading(dir);
  if (!store.ok()) return ReportError(store.status());
  auto report = (*store)->Verify();
  if (!report.ok()) return ReportError(report.status());
  if (!report->problems.empty()) {
    std::string out;
    for (const std::string& p : report->problems) out += p + "\n";
    PrintOut(out);
    return ReportError(std::to_string(report->problems.size()) + " problem(s) found in " +
                       std::to_string(report->checked) + " copies");
  }
  return PrintOut(std::to_string(report->checked) + " copies verified\n");
}

}  // namespace

void AddDataOption(CLI::App* sub, std::string* dir) {
  DataOptions().push_back({sub, dir});
  sub->add_option("--data", *dir, "Store directory (env MAILVAULT_DATA)")
      ->envname("MAILVAULT_DATA")
      ->capture_default_str();
}

void AddReadCommands(CLI::App& app, Action* action) {
  {
    auto o = std::make_shared<SearchOpts>();
    SearchArgs& a = o->args;
    CLI::App* sub = app.add_subcommand(
        "search", "Find copies, newest first. Text filters match case-insensitive substrings.");
    AddDataOption(sub, &o->data);
    sub->add_option("--from", a.from, "Header From or envelope sender contains S");
    sub->add_option("--to", a.to, "Envelope recipient, header To or Cc contains S");
    sub->add_option("--subject", a.subject, "Subject contains S");
    sub->add_option("--message-id", a.message_id, "Message-ID contains S");
    sub->add_option("--rule", a.rule_id, "Rule ID (exact)");
    sub->add_option("--period", a.period,
                    "Placed within the last hour|day|week|2weeks|month|3months|year "
                    "(month = 30 days, 3months = 90, year = 365)");
    sub->add_option("--since", a.since, "Placed at or after T (RFC 3339)");
    sub->add_option("--until", a.until, "Placed before T (RFC 3339)");
    sub->add_option("--engine", a.engines,
                    "Labelled by engine E (repeatable: any of them): anti-virus, anti-spam, "
                    "anti-phishing, content-filtering, sender-auth, blacklist, external")
        ->allow_extra_args(false);
    sub->add_option("--size-le", a.size_le_kb, "Size <= KB (1 KB = 1024 bytes)");
    sub->add_option("--size-ge", a.size_ge_kb, "Size >= KB (1 KB = 1024 bytes)");
    sub->add_option("--limit", a.limit, "Copies per page")->capture_default_str();
    sub->add_option("--after", a.after,
                    "Cursor: the N printed as 'next: --after N' by the previous page");
    sub->add_flag("--json", o->json, "Print {\"items\": [...], \"next\": N|null}");
    sub->callback([o, action] { *action = [o] { return RunSearch(*o); }; });
  }
  {
    auto dir = std::make_shared<std::string>(kDefaultDataDir);
    auto id = std::make_shared<uint64_t>(0);
    auto json = std::make_shared<bool>(false);
    CLI::App* sub = app.add_subcommand("show", "Print every field of a copy");
    AddDataOption(sub, dir.get());
    sub->add_option("id", *id, "Copy id")->required();
    sub->add_flag("--json", *json, "Print JSON");
    sub->callback([=] { *action = [=] { return RunShow(*dir, *id, *json); }; });
  }
  {
    auto dir = std::make_shared<std::string>(kDefaultDataDir);
    auto json = std::make_shared<bool>(false);
    CLI::App* sub = app.add_subcommand("stats", "Count, bytes, size cap, oldest and newest copy");
    AddDataOption(sub, dir.get());
    sub->add_flag("--json", *json, "Print JSON");
    sub->callback([=] { *action = [=] { return RunStats(*dir, *json); }; });
  }
  {
    auto dir = std::make_shared<std::string>(kDefaultDataDir);
    CLI::App* sub = app.add_subcommand(
        "verify", "Check that every copy decrypts and matches the index; exit 1 on any problem");
    AddDataOption(sub, dir.get());
    sub->callback([=] { *action = [=] { return RunVerify(*dir); }; });
  }
}

}  // namespace mailvault::cli
