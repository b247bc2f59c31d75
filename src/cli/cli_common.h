// Shared plumbing of the `mailvault` commands: opening the store the way a
// command needs it (read-only for readers, the writer lock for writers, with
// a plain message when mailvaultd holds it), reporting a Status as the one
// error line the CLI prints, and reading a message from a file or stdin.
// Used from the main thread only.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "crypto/keyring.h"
#include "mailvault/status.h"
#include "mailvault/store.h"
#include "policy/settings.h"

namespace mailvault::cli {

// Exit codes: 0 success, 1 an operation failed, 2 bad usage.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Default data dir when neither --data nor MAILVAULT_DATA is given.
inline constexpr const char* kDefaultDataDir = "./var";

// The message printed when a writer finds the store locked. `detail` is the
// store's own message (it may name the holder's pid).
std::string InUseMessage(const std::string& dir, const std::string& detail);

// The key ring of the store in `dir` (DataDir(dir).keys()), opened at the
// first call and kept for the rest of the command (the CLI runs one command
// per process), so that the store, the audit log, the accounts and the
// queue a command opens share one ring instead of each reading the keys.
// The secret keys are loaded when readable; a store that reads checks that
// they were. The ring lives until the process exits.
Result<crypto::KeyRing*> CommandKeys(const std::string& dir);

// Every subcommand's --data (AddDataOption records them), so that main can
// find the data dir of the command the line selected before running it.
struct DataOption {
  const CLI::App* sub;
  const std::string* dir;
};
std::vector<DataOption>& DataOptions();
// The data dir of the parsed subcommand; "" when it has no --data.
std::string SelectedDataDir();

// Run as root against a data dir that belongs to another user (the
// service account of the package, _mailvault), the CLI becomes that user
// before it opens anything, so the files it creates there (databases, WAL
// files, audit records, segments) are the service's, never root's. Files
// named on the command line (-o, keys export/import) are then opened as
// that user too; shell redirections (`> FILE`) are still root's. OK when
// nothing needed to change; the error when the switch failed.
Status BecomeDataDirOwner(const std::string& dir);

// Opens the store in `dir` read-only (works while the daemon writes).
Result<std::unique_ptr<Store>> OpenForReading(const std::string& dir);
// Opens it for writing; a held lock becomes InUseMessage(). The store's
// events (recovery, a rebuilt index, lost copies) are printed on stderr.
// `rebuild_index`: build a new index at open (StoreOptions::rebuild_index).
Result<std::unique_ptr<Store>> OpenForWriting(const std::string& dir, bool rebuild_index = false);
// The policy of the data dir `dir` (DATA/settings.json). A command that
// changes it holds the store's writer lock meanwhile (OpenForWriting), so
// that it never writes behind a running daemon's back; its events are
// printed on stderr.
Result<std::unique_ptr<policy::Settings>> OpenSettings(const std::string& dir, bool read_only);

// Prints "mailvault: <message>" on stderr and returns kExitFailure.
int ReportError(const Status& status);
// The same for a plain message.
int ReportError(const std::string& message);

// Reads all of `path` ("-" = stdin) into memory.
Result<std::string> ReadInput(const std::string& path);

// Writes `data` to stdout; IOError if stdout fails (closed pipe, full disk).
Status WriteStdout(std::string_view data);

}  // namespace mailvault::cli
