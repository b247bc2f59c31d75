// DropToOwnerOf (see privilege.h).
#include "env/privilege.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace mailvault {
namespace {

Status Failed(const std::string& what, int err) {
  return Status::PermissionDenied(what + ": " + std::strerror(err));
}

}  // namespace

Result<std::optional<Identity>> DropToOwnerOf(const std::string& path) {
  if (::getuid() != 0 && ::geteuid() != 0) return std::optional<Identity>();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || st.st_uid == 0) return std::optional<Identity>();

  Identity who;
  who.uid = st.st_uid;
  who.gid = st.st_gid;
  who.name = std::to_string(st.st_uid);
  std::vector<char> buf(16384);
  struct passwd pw {};
  struct passwd* found = nullptr;
  if (::getpwuid_r(st.st_uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
    who.gid = pw.pw_gid;
    who.name = pw.pw_name;
    if (::initgroups(pw.pw_name, pw.pw_gid) != 0) return Failed("initgroups " + who.name, errno);
  } else if (::setgroups(0, nullptr) != 0) {
    return Failed("setgroups", errno);
  }
  // Groups first, the uid last: once the uid is not root, the gid cannot
  // be changed any more.
  if (::setresgid(who.gid, who.gid, who.gid) != 0)
    return Failed("setresgid " + std::to_string(who.gid), errno);
  if (::setresuid(who.uid, who.uid, who.uid) != 0)
    return Failed("setresuid " + std::to_string(who.uid), errno);
  if (::setuid(0) == 0 || ::seteuid(0) == 0)
    return Status::PermissionDenied("still able to become root after switching to " + who.name);
  return std::optional<Identity>(who);
}

}  // namespace mailvault
