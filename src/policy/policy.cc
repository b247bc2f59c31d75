// The policy's names, printing, parsing and its JSON file.
#include "policy/policy.h"

#include <nlohmann/json.hpp>

#include "base/units.h"

namespace mailvault::policy {
namespace {

constexpr uint64_t kWarnBelow = 100'000'000;  // 100 MB

std::string ActionName(UnavailableAction a) {
  switch (a) {
    case UnavailableAction::kProcess:
      return "process";
    case UnavailableAction::kTempfail:
      return "tempfail";
    case UnavailableAction::kReject:
      return "reject";
  }
  return "tempfail";
}

Result<UnavailableAction> ParseAction(std::string_view v) {
  if (v == "process") return UnavailableAction::kProcess;
  if (v == "tempfail") return UnavailableAction::kTempfail;
  if (v == "reject") return UnavailableAction::kReject;
  return Status::InvalidArgument("unavailable_action must be process, tempfail or reject");
}

Result<bool> ParseBool(std::string_view key, std::string_view v) {
  if (v == "yes" || v == "true" || v == "on" || v == "1") return true;
  if (v == "no" || v == "false" || v == "off" || v == "0") return false;
  return Status::InvalidArgument(std::string(key) + " must be yes or no");
}

}  // namespace

std::vector<std::string> SettingNames() {
  return {"max_size", "notify_free_below", "allow_infected_delivery", "unavailable_action",
          "html_preview"};
}

std::string GetSetting(const SettingValues& s, std::string_view key) {
  const Policy& p = s.policy;
  if (key == "max_size") return FormatSize(s.max_size);
  if (key == "notify_free_below") return FormatSize(p.notify_free_below);
  if (key == "allow_infected_delivery") return p.allow_infected_delivery ? "yes" : "no";
  if (key == "unavailable_action") return ActionName(p.unavailable_action);
  if (key == "html_preview") return p.html_preview ? "yes" : "no";
  return "";
}

Status SetSetting(SettingValues* s, std::string_view key, std::string_view value,
                  std::string* warning) {
  Policy& p = s->policy;
  if (key == "max_size") {
    MV_ASSIGN_OR_RETURN(uint64_t v, ParseSize(value));
    if (v == 0) return Status::InvalidArgument("max_size must be above zero");
    if (v < kWarnBelow && warning != nullptr) {
      *warning =
          "max_size " + FormatSize(v) + " is below 100 MB: the Backup will keep very few copies";
    }
    s->max_size = v;
    return Status::Ok();
  }
  if (key == "notify_free_below") {
    MV_ASSIGN_OR_RETURN(p.notify_free_below, ParseSize(value));
    return Status::Ok();
  }
  if (key == "allow_infected_delivery") {
    MV_ASSIGN_OR_RETURN(p.allow_infected_delivery, ParseBool(key, value));
    return Status::Ok();
  }
  if (key == "unavailable_action") {
    MV_ASSIGN_OR_RETURN(p.unavailable_action, ParseAction(value));
    return Status::Ok();
  }
  if (key == "html_preview") {
    MV_ASSIGN_OR_RETURN(p.html_preview, ParseBool(key, value));
    return Status::Ok();
  }
  std::string names;
  for (const std::string& n : SettingNames()) names += (names.empty() ? "" : ", ") + n;
  return Status::InvalidArgument("unknown setting \"" + std::string(key) + "\" (one of: " + names +
                                 ")");
}

std::string EncodePolicy(const Policy& p, std::string_view existing) {
  auto j = nlohmann::json::parse(existing, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) j = nlohmann::json::object();
  j["notify_free_below"] = p.notify_free_below;
  j["allow_infected_delivery"] = p.allow_infected_delivery;
  j["unavailable_action"] = ActionName(p.unavailable_action);
  j["html_preview"] = p.html_preview;
  return j.dump(2) + "\n";
}

Result<Policy> DecodePolicy(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("settings.json is not JSON");
  Policy p;
  if (auto it = j.find("notify_free_below"); it != j.end() && it->is_number_unsigned()) {
    p.notify_free_below = it->get<uint64_t>();
  }
  if (auto it = j.find("allow_infected_delivery"); it != j.end() && it->is_boolean()) {
    p.allow_infected_delivery = it->get<bool>();
  }
  if (auto it = j.find("unavailable_action"); it != j.end() && it->is_string()) {
    MV_ASSIGN_OR_RETURN(p.unavailable_action, ParseAction(it->get<std::string>()));
  }
  if (auto it = j.find("html_preview"); it != j.end() && it->is_boolean()) {
    p.html_preview = it->get<bool>();
  }
  return p;
}

}  // namespace mailvault::policy
