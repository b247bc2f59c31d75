// audit: the audit log (journal/audit_log.h), newest first, as a table, as
// JSON or exported whole as JSON lines. Reads DATA/audit.db read-only, so it
// works while mailvaultd records into it.
#include <cstdio>
#include <memory>
#include <tuple>

#include "base/json_text.h"
#include "base/units.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "env/data_dir.h"
#include "env/env.h"
#include "journal/audit_log.h"

namespace mailvault::cli {
namespace {

struct AuditArgs {
  std::string data = kDefaultDataDir;
  journal::AuditQuery query;
  uint64_t copy = 0;
  std::string since, until;
  bool json = false;
  bool export_lines = false;
};

std::string Pad(std::string s, size_t width) {
  // Truncate() has already cut s to `width` code points; count them.
  size_t points = 0;
  for (char c : s) points += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  if (points < width) s.append(width - points, ' ');
  return s;
}

// "2026-11-22 08:17:00" (UTC).
std::string ShortTime(int64_t micros) {
  std::string t = FormatRfc3339(micros).substr(0, 19);
  if (t.size() > 10) t[10] = ' ';
  return t;
}

std::string IdsText(const std::vector<uint64_t>& ids) {
  std::string out;
  for (uint64_t id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
  return out;
}

std::string FormatAuditTable(const journal::AuditPage& page) {
  if (page.items.empty()) return "no audit records\n";
  auto row = [](const std::vector<std::string>& cells) {
    static const size_t kWidths[] = {8, 19, 24, 13, 15, 9, 7, 16, 0};
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      line += kWidths[i] == 0 ? Truncate(cells[i], 200)
                              : Pad(Truncate(cells[i], kWidths[i]), kWidths[i]) + "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    return line + "\n";
  };
  std::string out = row(
      {"ID", "TIME (UTC)", "ACCOUNT", "ROLE", "CLIENT", "ACTION", "RESULT", "COPIES", "DETAIL"});
  for (const journal::AuditEvent& e : page.items) {
    out += row({std::to_string(e.id), ShortTime(e.at), e.account, e.role, e.client, e.action,
                e.result, IdsText(e.copy_ids), e.detail});
  }
  if (page.next) out += "next: --before " + std::to_string(*page.next) + "\n";
  return out;
}

// Export's lines go out in blocks, not one write per line.
class LineWriter {
 public:
  Status Add(std::string_view line) {
    buf_.append(line);
    buf_ += '\n';
    return buf_.size() >= (1 << 16) ? Flush() : Status::Ok();
  }
  Status Flush() {
    Status s = WriteStdout(buf_);
    buf_.clear();
    return s;
  }

 private:
  std::string buf_;
};

int RunAudit(AuditArgs a) {
  journal::AuditQuery& q = a.query;
  if (a.copy != 0) q.copy_id = a.copy;
  for (auto [text, out, flag] :
       {std::tuple{&a.since, &q.since, "--since"}, std::tuple{&a.until, &q.until, "--until"}}) {
    if (text->empty()) continue;
    auto t = ParseRfc3339(*text);
    if (!t.ok()) return ReportError(std::string(flag) + ": " + t.status().message());
    *out = *t;
  }
  journal::AuditOptions options;
  options.data_dir = a.data;
  options.read_only = true;
  auto keys = CommandKeys(a.data);
  if (!keys.ok()) return ReportError(keys.status().Annotate("read the audit log of " + a.data));
  auto log = journal::AuditLog::Open(*PosixEnv(), **keys, options);
  journal::AuditPage page;
  if (!log.ok()) {
    // NotFound with the keys there: no audit.db yet, an empty log.
    if (!log.status().IsNotFound() || PosixEnv()->Exists(DataDir(a.data).audit())) {
      return ReportError(log.status().Annotate("read the audit log of " + a.data));
    }
    if (a.export_lines) return kExitOk;
  } else if (a.export_lines) {
    LineWriter out;
    Status s = (*log)->Export(q, [&](std::string_view line) { return out.Add(line); });
    if (s.ok()) s = out.Flush();
    return s.ok() ? kExitOk : ReportError(s);
  } else {
    auto listed = (*log)->List(q);
    if (!listed.ok()) return ReportError(listed.status());
    page = std::move(*listed);
  }
  const std::string text =
      a.json ? JsonText(journal::AuditPageToJson(page), 2) + "\n" : FormatAuditTable(page);
  Status s = WriteStdout(text);
  return s.ok() ? kExitOk : ReportError(s);
}

}  // namespace

void AddAuditCommand(CLI::App& app, Action* action) {
  auto a = std::make_shared<AuditArgs>();
  a->query.limit = 50;
  CLI::App* sub =
      app.add_subcommand("audit", "Show the audit log (who did what to which copy), newest first");
  AddDataOption(sub, &a->data);
  sub->add_option("--account", a->query.account, "Only records of this account (exact)");
  sub->add_option("--action", a->query.action,
                  "Only this action: login, logout, search, view, preview, save, deliver, "
                  "delete, settings, account, audit, ...");
  sub->add_option("--result", a->query.result, "Only this result: ok, denied, failed, error")
      ->check(CLI::IsMember({"ok", "denied", "failed", "error"}));
  sub->add_option("--copy", a->copy, "Only records naming this copy id");
  sub->add_option("--since", a->since, "At or after T (RFC 3339)");
  sub->add_option("--until", a->until, "Before T (RFC 3339)");
  sub->add_option("--limit", a->query.limit, "Records per page (1-10000)")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  sub->add_option("--before", a->query.before,
                  "The next page: records older than this id (printed as 'next: --before N')")
      ->check(CLI::PositiveNumber);
  auto* json = sub->add_flag("--json", a->json, "Print {\"items\": [...], \"next\": N|null}");
  sub->add_flag("--export", a->export_lines,
                "Print every matching record, newest first, one JSON object per line "
                "(ignores --limit)")
      ->excludes(json);
  sub->callback([a, action] { *action = [a] { return RunAudit(*a); }; });
}

}  // namespace mailvault::cli
