#include "intake/milter_socket.h"

#include <sys/un.h>

#include <algorithm>

namespace mailvault::intake {
namespace {

bool PortOk(std::string_view p) {
  if (p.empty() || p.size() > 5) return false;
  int n = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  return n > 0 && n <= 65535;
}

}  // namespace

Result<std::string> MilterSocketSpec(std::string_view spec) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("milter socket \"" + std::string(spec) +
                                   "\": " + std::string(why) +
                                   " (use inet:HOST:PORT, inet6:[ADDR]:PORT or unix:/path)");
  };
  if (std::any_of(spec.begin(), spec.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
    return bad("white space or control characters");
  }
  size_t colon = spec.find(':');
  if (colon == std::string_view::npos) return bad("no socket type");
  std::string_view type = spec.substr(0, colon), rest = spec.substr(colon + 1);
  if (type == "unix" || type == "local") {
    if (rest.empty() || rest.front() != '/') return bad("the socket path must be absolute");
    if (rest.size() >= sizeof(sockaddr_un::sun_path)) {
      return bad("the socket path is longer than " +
                 std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes");
    }
    return std::string(spec);
  }
  if (type != "inet" && type != "inet6") return bad("unknown socket type");
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    // The normalised form itself: PORT@HOST.
    if (!PortOk(rest.substr(0, at))) return bad("bad port (1-65535)");
    if (at + 1 == rest.size()) return bad("no host");
    return std::string(spec);
  }
  size_t last = rest.rfind(':');
  if (last == std::string_view::npos) {
    return bad(PortOk(rest) ? "no host (0.0.0.0 or [::] listens on every address)" : "no port");
  }
  std::string_view host = rest.substr(0, last), port = rest.substr(last + 1);
  if (!PortOk(port)) return bad("bad port (1-65535)");
  if (type == "inet") {
    if (host.empty() || host.find_first_of(":[]") != std::string_view::npos) {
      return bad("bad IPv4 host (IPv6 needs inet6:[ADDR]:PORT)");
    }
  } else {
    if (host.size() < 3 || host.front() != '[' || host.back() != ']') {
      return bad("the IPv6 address must be in brackets");
    }
    host = host.substr(1, host.size() - 2);
  }
  return std::string(type) + ":" + std::string(port) + "@" + std::string(host);
}

}  // namespace mailvault::intake
