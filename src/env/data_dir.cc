// The table of the data dir's files (see data_dir.h). A name here is part
// of the on-disk format: renaming one orphans the file of existing stores.
#include "env/data_dir.h"

#include <cstdlib>

namespace mailvault {
namespace {

constexpr DataFileInfo kFiles[] = {
    {DataFile::kStoreMarker, "store.json", false,
     "marks the dir as a store: format version and creation time, written last by init; the "
     "store's size cap once it is changed"},
    {DataFile::kSettings, "settings.json", false,
     "the run-time policy (`mailvault settings`): free-space alarm, unavailable action, "
     "infected delivery, HTML preview"},
    {DataFile::kLock, "LOCK", false,
     "the writer's lock (flock), held by mailvaultd or a CLI writer"},
    {DataFile::kKeys, "keys", true,
     "the key ring: key pairs, the current key id, the root symmetric key (index.key)"},
    {DataFile::kSegments, "segments", true,
     "the copies: append-only encrypted segment files, the source of truth"},
    {DataFile::kIndex, "index.db", false,
     "the search index (SQLite, pages encrypted), rebuilt from the segments when lost"},
    {DataFile::kIndexNew, "index.db.new", false, "an index being rebuilt, renamed over index.db"},
    {DataFile::kIndexRebuild, "index.rebuild", false,
     "marker: the index was found damaged, rebuild it at the next writer open"},
    {DataFile::kReserve, "reserve", false,
     "1 MiB of zeros, released when the disk is full so settings can still be written"},
    {DataFile::kLost, "lost", false,
     "ids of copies lost at recovery, listed by verify until `mailvault repair --accept-loss`"},
    {DataFile::kAccounts, "accounts.db", false,
     "console accounts and password hashes (SQLite, pages encrypted)"},
    {DataFile::kAudit, "audit.db", false, "the audit log (SQLite, pages encrypted)"},
    {DataFile::kAuditPending, "audit-pending.jsonl", false,
     "CLI audit records kept while audit.db could not be written, replayed later"},
    {DataFile::kDeliveries, "deliveries.db", false,
     "the delivery queue and used release nonces (SQLite, pages encrypted)"},
    {DataFile::kApiToken, "api.token", false,
     "the API token the CLI uses to reach mailvaultd (unless [api] sets another)"},
    {DataFile::kDaemonPort, "mailvaultd.port", false,
     "the port the running daemon's console listens on, for the CLI"},
    {DataFile::kSpool, "spool", true,
     "the milter's encrypted temp files (anonymous, never named; unless [milter] sets another)"},
    {DataFile::kLog, "log", true,
     "the daemon's trace log, trace.log and its rotated files (unless [log] trace_file sets "
     "another place)"},
    {DataFile::kLdapCache, "ldap.db", false,
     "the LDAP/AD cache: users, addresses, groups, delegations (SQLite, pages encrypted)"},
};

}  // namespace

std::span<const DataFileInfo> DataFiles() { return kFiles; }

const DataFileInfo& InfoOf(DataFile file) {
  for (const DataFileInfo& info : kFiles) {
    if (info.file == file) return info;
  }
  std::abort();  // not reached: every enumerator has a row (data_dir_test)
}

DataDir::DataDir(std::string root, std::string keys_dir)
    : root_(std::move(root)), keys_dir_(std::move(keys_dir)) {}

std::string DataDir::Path(DataFile file) const {
  if (file == DataFile::kKeys && !keys_dir_.empty()) return keys_dir_;
  return JoinPath(root_, InfoOf(file).name);
}

std::string DataDir::index_damaged(std::string_view stamp) const {
  return index() + ".damaged-" + std::string(stamp);
}

bool DataDir::IsStore(Env& env) const { return env.Exists(store_marker()); }

Status DataDir::CreateDirs(Env& env) const {
  MV_RETURN_IF_ERROR(env.CreateDir(root_));
  MV_RETURN_IF_ERROR(env.CreateDir(keys()));
  MV_RETURN_IF_ERROR(env.CreateDir(segments()));
  return env.SyncDir(root_);
}

}  // namespace mailvault
