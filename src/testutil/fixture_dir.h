// Copies a fixture directory kept under src/ (a database or a store
// written by an earlier mailvault) to a test's temp dir, with the modes
// `mailvault init` gives (git keeps none): 0700 directories, 0600 files.
// The copy is what the test opens and may change; the fixture stays as it
// was written.
#pragma once

#include <filesystem>
#include <string>

namespace mailvault {

inline std::string CopyFixtureDir(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  fs::copy(from, to, fs::copy_options::recursive);
  fs::permissions(to, fs::perms::owner_all, fs::perm_options::replace);
  for (const auto& e : fs::recursive_directory_iterator(to)) {
    fs::permissions(
        e.path(),
        e.is_directory() ? fs::perms::owner_all : fs::perms::owner_read | fs::perms::owner_write,
        fs::perm_options::replace);
  }
  return to;
}

}  // namespace mailvault
