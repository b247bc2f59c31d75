// CheckConsoleOptions and IsServerName (see server.h): no httplib here, so
// `mailvault config check` applies the console's rules without a server.
#include <algorithm>
#include <cctype>

#include "base/units.h"
#include "console/server.h"

namespace mailvault::console {

bool IsServerName(std::string_view name) {
  auto is_ip6_char = [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
  };
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
    return !name.empty() && std::all_of(name.begin(), name.end(), is_ip6_char);
  }
  if (name.find(':') != std::string_view::npos) {
    return std::all_of(name.begin(), name.end(), is_ip6_char);
  }
  if (name.empty() || name.size() > 253 || name.front() == '.' || name.front() == '-') {
    return false;
  }
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
    if (++label > 63) return false;
  }
  return true;
}

Status CheckConsoleOptions(const ConsoleOptions& o) {
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    return Status::InvalidArgument(
        std::string(o.tls_cert.empty() ? "api.tls_cert" : "api.tls_key") +
        ": api.tls_cert and api.tls_key go together: give both");
  }
  if (o.port < 0 || o.port > 65535) {
    return Status::InvalidArgument("api.listen: port " + std::to_string(o.port) +
                                   " out of range (0-65535)");
  }
  if (o.tls_cert.empty() && !IsLoopbackHost(o.host)) {
    return Status::InvalidArgument(
        "api.listen: " + o.host +
        " is not a loopback address: set api.tls_cert and api.tls_key (passwords and session "
        "cookies must not cross the network in clear)");
  }
  MV_RETURN_IF_ERROR(CheckPositiveSize(o.max_message_size).Annotate("api.max_message_size"));
  MV_RETURN_IF_ERROR(CheckPositiveDuration(o.timeout_micros).Annotate("api.timeout"));
  for (const std::string& name : o.server_names) {
    if (!IsServerName(name)) {
      return Status::InvalidArgument("api.server_names: \"" + name +
                                     "\" is not a host name or an IP address without a port");
    }
  }
  MV_RETURN_IF_ERROR(
      CheckPositiveDuration(o.sessions.idle_micros).Annotate("console.session_idle"));
  MV_RETURN_IF_ERROR(
      CheckPositiveDuration(o.sessions.absolute_micros).Annotate("console.session_lifetime"));
  if (o.sessions.idle_micros > o.sessions.absolute_micros) {
    return Status::InvalidArgument("console.session_idle: longer than console.session_lifetime");
  }
  return Status::Ok();
}

}  // namespace mailvault::console
