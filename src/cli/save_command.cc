// save: one copy as its exact bytes, several as one mboxrd file. A file is
// written under PATH.tmp (0600) and renamed into place only when complete, so
// a failure (bad id, corrupt record) leaves nothing at PATH. Each save is
// recorded in the audit log (cli_audit.h) once: ok right before the content
// leaves (written to stdout, or the complete file renamed into place; if the
// record fails, it does not leave), failed when the save failed.
#include <functional>
#include <memory>

#include "base/mbox.h"
#include "cli/cli_audit.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "env/env.h"
#include "journal/audit_log.h"

namespace mailvault::cli {
namespace {

struct SaveArgs {
  std::string data = kDefaultDataDir;
  std::vector<uint64_t> ids;
  std::string out;
};

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Appends the mboxrd form of copy `id` to *out.
Status AppendCopy(Store& store, CopyId id, std::string* out) {
  MV_ASSIGN_OR_RETURN(CopyMeta meta, store.Get(id));
  MV_ASSIGN_OR_RETURN(std::string raw, store.Read(id));
  AppendMboxrd(out, meta.mail_from, meta.received_at ? meta.received_at : meta.placed_at, raw);
  return Status::Ok();
}

// Writes `path` through PATH.tmp: fill(file) writes the content; the file is
// synced and renamed into place only when all of it is there.
Status WriteFileVia(const std::string& path, const std::function<Status(WritableFile&)>& fill) {
  Env* env = PosixEnv();
  std::string tmp = path + ".tmp";
  if (env->Exists(tmp)) MV_RETURN_IF_ERROR(env->Remove(tmp));
  auto write = [&]() -> Status {
    MV_ASSIGN_OR_RETURN(auto file, env->OpenAppendable(tmp));
    MV_RETURN_IF_ERROR(fill(*file));
    MV_RETURN_IF_ERROR(file->Sync());
    MV_RETURN_IF_ERROR(file->Close());
    MV_RETURN_IF_ERROR(env->Rename(tmp, path));
    return env->SyncDir(Parent(path));
  };
  Status s = write();
  if (!s.ok() && env->Exists(tmp)) env->Remove(tmp).IgnoreError();
  return s;
}

int RunSave(const SaveArgs& a) {
  auto opened = OpenForReading(a.data);
  if (!opened.ok()) return ReportError(opened.status());
  Store& store = **opened;
  bool audited = false;
  auto audit = [&](const Status& outcome) {
    if (audited) return Status::Ok();
    audited = true;
    return AuditCliOrDefer(a.data, journal::kActionSave, a.ids, outcome,
                           a.out == "-" ? "to stdout" : "to " + a.out);
  };
  auto fail = [&](const Status& s) {
    audit(s).IgnoreError();  // the save's own error is the one to report
    return ReportError(s);
  };
  // Check every id first so a typo fails before anything is written.
  for (uint64_t id : a.ids) {
    auto meta = store.Get(id);
    if (!meta.ok()) return fail(meta.status());
  }
  const bool to_stdout = a.out == "-";
  if (a.ids.size() == 1) {
    if (to_stdout) {
      auto raw = store.Read(a.ids[0]);  // whole, so a corrupt copy prints nothing
      if (!raw.ok()) return fail(raw.status());
      Status s = audit(Status::Ok());
      if (!s.ok()) return ReportError(s);
      s = WriteStdout(*raw);
      return s.ok() ? kExitOk : ReportError(s);
    }
    // Streamed chunk by chunk: a copy of any size needs little memory.
    uint64_t bytes = 0;
    Status s = WriteFileVia(a.out, [&](WritableFile& file) {
      MV_RETURN_IF_ERROR(store.ReadTo(a.ids[0], [&](std::string_view piece) {
        bytes += piece.size();
        return file.Append(piece);
      }));
      return audit(Status::Ok());
    });
    if (!s.ok()) return fail(s);
    std::printf("saved copy %llu to %s (%llu bytes, as received)\n",
                static_cast<unsigned long long>(a.ids[0]), a.out.c_str(),
                static_cast<unsigned long long>(bytes));
    return kExitOk;
  }
  if (to_stdout) {
    std::string mbox;  // built whole so a failure prints nothing
    for (uint64_t id : a.ids) {
      Status s = AppendCopy(store, id, &mbox);
      if (!s.ok()) return fail(s);
    }
    Status s = audit(Status::Ok());
    if (!s.ok()) return ReportError(s);
    s = WriteStdout(mbox);
    return s.ok() ? kExitOk : ReportError(s);
  }
  // The mbox is written copy by copy, so memory holds one message at a time.
  Status s = WriteFileVia(a.out, [&](WritableFile& file) -> Status {
    for (uint64_t id : a.ids) {
      std::string chunk;
      MV_RETURN_IF_ERROR(AppendCopy(store, id, &chunk));
      MV_RETURN_IF_ERROR(file.Append(chunk));
    }
    return audit(Status::Ok());
  });
  if (!s.ok()) return fail(s);
  std::printf("saved %zu copies to %s (mbox, mboxrd format)\n", a.ids.size(), a.out.c_str());
  return kExitOk;
}

}  // namespace

void AddSaveCommand(CLI::App& app, Action* action) {
  auto a = std::make_shared<SaveArgs>();
  CLI::App* sub = app.add_subcommand(
      "save",
      "Save copies to a file: one id gives the exact bytes received (.eml); several give one "
      "mbox file in mboxrd format (\"From \" separator lines, '>From ' quoting)");
  AddDataOption(sub, &a->data);
  sub->add_option("ids", a->ids, "Copy ids")->required();
  sub->add_option("-o,--output", a->out, "Output file (written 0600); - for stdout")->required();
  sub->callback([a, action] { *action = [a] { return RunSave(*a); }; });
}

}  // namespace mailvault::cli
