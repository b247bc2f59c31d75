#include "directory/ldap_options.h"

#include <cctype>
#include <charconv>

#include "base/units.h"
#include "directory/ldap_filter.h"

namespace mailvault::directory {
namespace {

constexpr int64_t kMinSyncInterval = 60'000'000;
constexpr int64_t kMaxTimeout = 600'000'000;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool HostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

bool IsLoopback(const std::string& host) {
  std::string h = Lower(host);
  return h == "localhost" || h == "::1" || h.rfind("127.", 0) == 0;
}

bool Printable(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

Status Bad(std::string_view key, std::string_view what) {
  return Status::InvalidArgument("ldap." + std::string(key) + ": " + std::string(what));
}

Status CheckPath(std::string_view key, const std::string& path) {
  if (path.empty()) return Status::Ok();
  if (!Printable(path)) return Bad(key, "control characters");
  if (path[0] != '/') return Bad(key, "must be an absolute path");
  return Status::Ok();
}

Status CheckDn(std::string_view key, const std::string& dn) {
  if (dn.empty()) return Status::Ok();
  Status s = NormalizeDn(dn).status();
  return s.ok() ? s : Bad(key, s.message());
}

Status CheckAttribute(std::string_view key, const std::string& name) {
  if (!IsAttributeName(name) || name.find(';') != std::string::npos) {
    return Bad(key, "\"" + EscapeFilterValue(name) + "\" is not an attribute name");
  }
  return Status::Ok();
}

}  // namespace

Result<LdapServer> ParseLdapServer(std::string_view url) {
  auto refuse = [&] {
    return Status::InvalidArgument("not an ldap:// or ldaps:// URL: \"" + EscapeFilterValue(url) +
                                   "\"");
  };
  LdapServer s;
  std::string lower = Lower(url);
  std::string_view rest;
  if (lower.rfind("ldaps://", 0) == 0) {
    s.ldaps = true;
    s.port = 636;
    rest = url.substr(8);
  } else if (lower.rfind("ldap://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return refuse();
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return refuse();
    s.host = std::string(rest.substr(1, close - 1));
    for (char c : s.host) {
      if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.')) return refuse();
    }
    if (s.host.find(':') == std::string::npos) return refuse();
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return refuse();
      port = rest.substr(1);
      if (port.empty()) return refuse();
    }
  } else {
    size_t colon = rest.find(':');
    s.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = rest.substr(colon + 1);
      if (port.empty()) return refuse();
    }
    for (char c : s.host) {
      if (!HostChar(c)) return refuse();
    }
  }
  if (s.host.empty() || s.host.size() > 253) return refuse();
  if (!port.empty()) {
    int p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || end != port.data() + port.size() || p < 1 || p > 65535) {
      return refuse();
    }
    s.port = p;
  }
  bool v6 = s.host.find(':') != std::string::npos;
  s.url = std::string(s.ldaps ? "ldaps://" : "ldap://") + (v6 ? "[" + s.host + "]" : s.host) + ":" +
          std::to_string(s.port);
  return s;
}

Status CheckLdapOptions(const LdapOptions& o) {
  for (const std::string& url : o.servers) {
    auto s = ParseLdapServer(url);
    if (!s.ok()) return Bad("servers", s.status().message());
    if (!o.starttls && !s->ldaps && !IsLoopback(s->host)) {
      return Bad("starttls", "false is only allowed for a loopback server (" + s->url +
                                 " would carry passwords in clear): use StartTLS or ldaps://");
    }
  }
  MV_RETURN_IF_ERROR(CheckPath("ca_file", o.ca_file));
  MV_RETURN_IF_ERROR(CheckPath("bind_password_file", o.bind_password_file));
  MV_RETURN_IF_ERROR(CheckDn("bind_dn", o.bind_dn));
  MV_RETURN_IF_ERROR(CheckDn("base_dn", o.base_dn));
  if (!o.bind_password_file.empty() && o.bind_dn.empty()) {
    return Bad("bind_password_file", "given without ldap.bind_dn");
  }
  for (const auto& [key, filter] :
       {std::pair<const char*, const std::string&>{"user_filter", o.user_filter},
        {"group_filter", o.group_filter}}) {
    Status s = CheckFilter(filter);
    if (!s.ok()) return Bad(key, s.message());
  }
  for (const auto& [key, list] : {std::pair<const char*, const std::vector<std::string>&>{
                                      "address_attributes", o.address_attributes},
                                  {"login_attributes", o.login_attributes}}) {
    if (list.empty()) return Bad(key, "needs at least one attribute");
    for (const std::string& a : list) MV_RETURN_IF_ERROR(CheckAttribute(key, a));
  }
  MV_RETURN_IF_ERROR(CheckAttribute("group_attribute", o.group_attribute));
  MV_RETURN_IF_ERROR(CheckAttribute("delegation_attribute", o.delegation_attribute));
  Status s = CheckPositiveDuration(o.sync_interval_micros);
  if (!s.ok()) return Bad("sync_interval", s.message());
  if (o.sync_interval_micros < kMinSyncInterval) return Bad("sync_interval", "at least 1m");
  s = CheckPositiveDuration(o.timeout_micros);
  if (!s.ok()) return Bad("timeout", s.message());
  if (o.timeout_micros > kMaxTimeout) return Bad("timeout", "at most 10m");
  if (o.page_size < 1 || o.page_size > 10'000) return Bad("page_size", "1 to 10000");
  if (o.enabled) {
    if (o.servers.empty()) return Bad("servers", "at least one server when ldap.enabled is true");
    if (o.base_dn.empty()) return Bad("base_dn", "required when ldap.enabled is true");
  }
  return Status::Ok();
}

}  // namespace mailvault::directory
