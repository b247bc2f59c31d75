#include "mailvault/copy.h"

#include <algorithm>
#include <array>

namespace mailvault {
namespace {

struct EngineLabels {
  std::string_view engine;
  std::array<std::string_view, 7> labels;
};

// Labels each engine may give; "not-scanned" and "bases-error" mark an engine
// that could not give a verdict.
constexpr EngineLabels kLabels[] = {
    {"anti-virus",
     {"infected", "probably-infected", "corrupted", "encrypted", "not-detected", "not-scanned",
      "bases-error"}},
    {"anti-spam", {"spam", "probable-spam", "blacklisted", "massmail", "not-scanned", "", ""}},
    {"anti-phishing", {"phishing", "malicious-link", "not-scanned", "", "", "", ""}},
    {"content-filtering",
     {"banned-file-name", "banned-file-format", "size-exceeded", "not-scanned", "", "", ""}},
    {"sender-auth", {"spf-fail", "dkim-fail", "dmarc-fail", "not-scanned", "", "", ""}},
    {"blacklist", {"blacklisted", "", "", "", "", "", ""}},
};

std::string EngineList() {
  std::string out;
  for (std::string_view e : kEngines) {
    if (!out.empty()) out += ", ";
    out += e;
  }
  return out;
}

}  // namespace

Result<uint32_t> EngineBit(std::string_view engine) {
  for (size_t i = 0; i < std::size(kEngines); ++i) {
    if (kEngines[i] == engine) return uint32_t{1} << i;
  }
  return Status::InvalidArgument("unknown engine \"" + std::string(engine) +
                                 "\" (one of: " + EngineList() + ")");
}

Status ValidateStatus(std::string_view engine, std::string_view label) {
  if (auto bit = EngineBit(engine); !bit.ok()) return bit.status();
  if (label.empty())
    return Status::InvalidArgument("empty label for engine " + std::string(engine));
  if (engine == "external") {
    bool printable = std::all_of(label.begin(), label.end(), [](char c) {
      return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
    });
    if (!printable || label.size() > 200) {
      return Status::InvalidArgument("external label must be printable and at most 200 bytes");
    }
    return Status::Ok();
  }
  for (const auto& e : kLabels) {
    if (e.engine != engine) continue;
    std::string valid;
    for (std::string_view l : e.labels) {
      if (l.empty()) continue;
      if (l == label) return Status::Ok();
      if (!valid.empty()) valid += ", ";
      valid += l;
    }
    return Status::InvalidArgument("unknown label \"" + std::string(label) + "\" for " +
                                   std::string(engine) + " (one of: " + valid + ")");
  }
  return Status::InvalidArgument("unknown engine " + std::string(engine));
}

}  // namespace mailvault
