// init, put, delete and rebuild-index: the commands that take the writer
// lock (or, for init, create the store). delete is recorded in the audit
// log (cli_audit.h).
#include <memory>

#include "base/search_args.h"
#include "base/units.h"
#include "cli/cli_audit.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "journal/audit_log.h"

namespace mailvault::cli {
namespace {

struct PutArgs {
  std::string data = kDefaultDataDir;
  std::string file = "-";
  std::string mail_from, rule_id, reason, queue_id, received;
  std::vector<std::string> rcpt, statuses;
};

int RunInit(const std::string& dir) {
  StoreOptions options;
  options.dir = dir;
  Status s = Store::Init(options);
  if (!s.ok()) return ReportError(s);
  std::printf("initialised a new store in %s\n", dir.c_str());
  return kExitOk;
}

int RunPut(const PutArgs& a) {
  PutRequest req;
  req.mail_from = a.mail_from;
  req.rcpt = a.rcpt;
  req.rule_id = a.rule_id;
  req.reason = a.reason;
  req.queue_id = a.queue_id;
  for (const std::string& s : a.statuses) {
    auto st = ParseStatusArg(s);
    if (!st.ok()) return ReportError(st.status());
    req.statuses[st->first] = st->second;
  }
  if (!a.received.empty()) {
    auto t = ParseRfc3339(a.received);
    if (!t.ok()) return ReportError("--received: " + t.status().message());
    req.received_at = *t;
  }
  auto raw = ReadInput(a.file);
  if (!raw.ok()) return ReportError(raw.status());
  if (raw->empty()) {
    return ReportError((a.file == "-" ? std::string("stdin") : a.file) +
                       " is empty: there is no message to store");
  }
  req.raw = *raw;
  auto store = OpenForWriting(a.data);
  if (!store.ok()) return ReportError(store.status());
  auto id = (*store)->Put(req);
  if (!id.ok()) return ReportError(id.status());
  std::printf("%llu\n", static_cast<unsigned long long>(*id));
  return kExitOk;
}

int RunDelete(const std::string& dir, const std::vector<uint64_t>& ids) {
  auto store = OpenForWriting(dir);
  if (!store.ok()) return ReportError(store.status());
  std::vector<CopyId> found;
  std::string missing;
  for (uint64_t id : ids) {
    auto meta = (*store)->Get(id);
    if (meta.ok()) {
      found.push_back(id);
    } else if (meta.status().IsNotFound()) {
      missing += (missing.empty() ? "" : ", ") + std::to_string(id);
    } else {
      return ReportError(meta.status());
    }
  }
  Status s = found.empty() ? Status::Ok() : (*store)->Delete(found);
  Status done = s.ok() && !missing.empty() ? Status::NotFound("not found: " + missing) : s;
  Status audited = AuditCli(dir, journal::kActionDelete, ids, done,
                            s.ok() ? "deleted " + std::to_string(found.size()) : "");
  if (!s.ok()) return ReportError(s);
  if (!audited.ok()) return ReportError(audited);
  std::printf("deleted %zu %s\n", found.size(), found.size() == 1 ? "copy" : "copies");
  if (!missing.empty()) return ReportError("not found: " + missing);
  return kExitOk;
}

int RunRebuildIndex(const std::string& dir) {
  // The new index is built at open, before anything reads the old one, so
  // an index in any state (pages that fail authentication, a file that is
  // not an index at all) is replaced; a damaged one is set aside.
  auto store = OpenForWriting(dir, /*rebuild_index=*/true);
  if (!store.ok()) return ReportError(store.status().Annotate("rebuild-index"));
  auto stats = (*store)->Stats();
  if (!stats.ok()) return ReportError(stats.status());
  std::printf("index rebuilt: %llu copies\n", static_cast<unsigned long long>(stats->count));
  return kExitOk;
}

// The administrator accepts copies lost to damage, so `verify` is green
// again; who did it and which copies are recorded in the audit log (and as
// the store's event, printed on stderr).
int RunRepair(const std::string& dir, bool accept_loss) {
  if (!accept_loss) {
    return ReportError(
        "repair changes the store only with --accept-loss: run `mailvault verify` first to see "
        "what is damaged");
  }
  auto store = OpenForWriting(dir);
  if (!store.ok()) return ReportError(store.status().Annotate("repair"));
  auto report = (*store)->AcceptLoss();
  std::string list;
  if (report.ok()) {
    for (CopyId id : report->lost) list += (list.empty() ? "" : ", ") + std::to_string(id);
  }
  Status audited = AuditCli(
      dir, "repair", report.ok() ? report->lost : std::vector<uint64_t>{}, report.status(),
      report.ok() ? "accepted the loss of " +
                        (list.empty() ? std::string("no copy") : "copies " + list) + " to damage"
                  : "accept loss");
  if (!report.ok()) return ReportError(report.status());
  for (const std::string& a : report->actions) std::printf("%s\n", a.c_str());
  std::printf("accepted the loss of %zu %s%s%s\n", report->lost.size(),
              report->lost.size() == 1 ? "copy" : "copies", list.empty() ? "" : ": ", list.c_str());
  // The store is repaired either way; a missing audit record must be seen.
  if (!audited.ok()) return ReportError(audited.Annotate("the repair was done but"));
  return kExitOk;
}

}  // namespace

void AddWriteCommands(CLI::App& app, Action* action) {
  {
    auto dir = std::make_shared<std::string>(kDefaultDataDir);
    CLI::App* sub =
        app.add_subcommand("init", "Create a new store and its first key (dir 0700, files 0600)");
    AddDataOption(sub, dir.get());
    sub->callback([dir, action] { *action = [dir] { return RunInit(*dir); }; });
  }
  {
    auto a = std::make_shared<PutArgs>();
    CLI::App* sub = app.add_subcommand("put", "Store a message; prints the new copy's id");
    AddDataOption(sub, &a->data);
    sub->add_option("--mail-from", a->mail_from, "Envelope sender (empty: the null sender)");
    sub->add_option("--rcpt", a->rcpt, "Envelope recipient (repeat for several)")
        ->allow_extra_args(false);
    sub->add_option("--rule", a->rule_id, "ID of the rule that kept the copy");
    sub->add_option("--status", a->statuses,
                    "Scan verdict ENGINE=LABEL, e.g. anti-virus=infected (repeatable)")
        ->allow_extra_args(false);
    sub->add_option("--reason", a->reason, "Why the copy is kept");
    sub->add_option("--queue-id", a->queue_id, "The MTA's queue id");
    sub->add_option("--received", a->received,
                    "When the gateway received it (RFC 3339; default now)");
    sub->add_option("file", a->file, "The raw RFC 5322 message; - for stdin")
        ->capture_default_str();
    sub->callback([a, action] { *action = [a] { return RunPut(*a); }; });
  }
  {
    auto dir = std::make_shared<std::string>(kDefaultDataDir);
    auto ids = std::make_shared<std::vector<uint64_t>>();
    CLI::App* sub = app.add_subcommand("delete", "Delete copies for good");
    AddDataOption(sub, dir.get());
    sub->add_option("ids", *ids, "Copy ids")->required();
    sub->callback([dir, ids, action] { *action = [dir, ids] { return RunDelete(*dir, *ids); }; });
  }
  {
    auto dir = std::make_shared<std::string>(kDefaultDataDir);
    CLI::App* sub =
        app.add_subcommand("rebuild-index", "Recreate the index from the segment files");
    AddDataOption(sub, dir.get());
    sub->callback([dir, action] { *action = [dir] { return RunRebuildIndex(*dir); }; });
  }
  {
    auto dir = std::make_shared<std::string>(kDefaultDataDir);
    auto accept = std::make_shared<bool>(false);
    CLI::App* sub = app.add_subcommand(
        "repair", "Accept copies lost to damage (--accept-loss) so verify is clean again");
    AddDataOption(sub, dir.get());
    sub->add_flag("--accept-loss", *accept,
                  "Give up the damaged copies for good, recording their ids (audit + event)");
    sub->callback(
        [dir, accept, action] { *action = [dir, accept] { return RunRepair(*dir, *accept); }; });
  }
}

}  // namespace mailvault::cli
