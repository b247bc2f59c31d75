// Store opening, error reporting and input reading for the CLI commands.
#include "cli/cli_common.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "env/data_dir.h"
#include "env/env.h"
#include "env/privilege.h"

namespace mailvault::cli {

std::string InUseMessage(const std::string& dir, const std::string& detail) {
  std::string msg = "the store in " + dir + " is in use by another process (mailvaultd?)";
  if (!detail.empty()) msg += " [" + detail + "]";
  msg += "; stop it or send the message to its API (POST /api/v1/messages)";
  return msg;
}

std::vector<DataOption>& DataOptions() {
  static auto* options = new std::vector<DataOption>;
  return *options;
}

std::string SelectedDataDir() {
  for (const DataOption& o : DataOptions()) {
    if (o.sub->parsed()) return *o.dir;
  }
  return "";
}

Status BecomeDataDirOwner(const std::string& dir) {
  if (dir.empty()) return Status::Ok();
  auto who = DropToOwnerOf(dir);
  if (!who.ok()) return who.status().Annotate("become the owner of " + dir);
  return Status::Ok();
}

Result<crypto::KeyRing*> CommandKeys(const std::string& dir) {
  // One ring per data dir (a command names one); never freed, as a store
  // opened with it may live until exit.
  static auto* rings = new std::map<std::string, std::unique_ptr<crypto::KeyRing>>;
  auto it = rings->find(dir);
  if (it == rings->end()) {
    MV_ASSIGN_OR_RETURN(auto ring, crypto::KeyRing::Open(*PosixEnv(), DataDir(dir).keys(), false));
    it = rings->emplace(dir, std::move(ring)).first;
  }
  return it->second.get();
}

namespace {

// The command's key ring for a store; none (the store reports what is
// wrong) when `dir` is no store.
Status UseCommandKeys(const std::string& dir, StoreOptions* options) {
  if (!DataDir(dir).IsStore(*PosixEnv())) return Status::Ok();
  MV_ASSIGN_OR_RETURN(options->keys, CommandKeys(dir));
  return Status::Ok();
}

}  // namespace

namespace {

// An event of the store or the policy, one line on stderr.
void PrintEvent(std::string_view kind, std::string_view message) {
  std::string line = "mailvault: event " + std::string(kind) + ": " + std::string(message);
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

Result<std::unique_ptr<Store>> OpenForReading(const std::string& dir) {
  StoreOptions options;
  options.dir = dir;
  options.read_only = true;
  MV_RETURN_IF_ERROR(UseCommandKeys(dir, &options));
  return Store::Open(options);
}

Result<std::unique_ptr<Store>> OpenForWriting(const std::string& dir, bool rebuild_index) {
  StoreOptions options;
  options.dir = dir;
  MV_RETURN_IF_ERROR(UseCommandKeys(dir, &options));
  options.rebuild_index = rebuild_index;
  options.on_event = PrintEvent;
  auto store = Store::Open(options);
  if (!store.ok() && store.status().code() == Code::kUnavailable) {
    return Status::Unavailable(InUseMessage(dir, store.status().message()));
  }
  return store;
}

Result<std::unique_ptr<policy::Settings>> OpenSettings(const std::string& dir, bool read_only) {
  policy::SettingsOptions options;
  options.dir = dir;
  options.read_only = read_only;
  options.on_event = PrintEvent;
  return policy::Settings::Open(options);
}

int ReportError(const std::string& message) {
  std::string line = "mailvault: " + message;
  // One line, whatever the message holds.
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
  return kExitFailure;
}

int ReportError(const Status& status) {
  return ReportError(status.message().empty() ? status.ToString() : status.message());
}

Result<std::string> ReadInput(const std::string& path) {
  if (path != "-") {
    auto data = PosixEnv()->ReadFile(path);
    if (!data.ok()) return data.status().Annotate("read " + path);
    return data;
  }
  std::string out;
  char buf[1 << 16];
  for (;;) {
    size_t n = std::fread(buf, 1, sizeof buf, stdin);
    out.append(buf, n);
    if (n < sizeof buf) break;
  }
  if (std::ferror(stdin))
    return Status::IOError("read stdin: " + std::string(std::strerror(errno)));
  return out;
}

Status WriteStdout(std::string_view data) {
  if (std::fwrite(data.data(), 1, data.size(), stdout) != data.size() || std::fflush(stdout) != 0) {
    return Status::IOError("write stdout: " + std::string(std::strerror(errno)));
  }
  return Status::Ok();
}

}  // namespace mailvault::cli
