// Run-time settings of a store: names, printing, parsing and the JSON file
// (DATA/settings.json) they are kept in.
#include "store/settings.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/units.h"
#include "env/data_dir.h"

namespace mailvault {
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

std::string GetSetting(const StoreSettings& s, std::string_view key) {
  if (key == "max_size") return FormatSize(s.max_size);
  if (key == "notify_free_below") return FormatSize(s.notify_free_below);
  if (key == "allow_infected_delivery") return s.allow_infected_delivery ? "yes" : "no";
  if (key == "unavailable_action") return ActionName(s.unavailable_action);
  if (key == "html_preview") return s.html_preview ? "yes" : "no";
  return "";
}

Status SetSetting(StoreSettings* s, std::string_view key, std::string_view value,
                  std::string* warning) {
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
    MV_ASSIGN_OR_RETURN(s->notify_free_below, ParseSize(value));
    return Status::Ok();
  }
  if (key == "allow_infected_delivery") {
    MV_ASSIGN_OR_RETURN(s->allow_infected_delivery, ParseBool(key, value));
    return Status::Ok();
  }
  if (key == "unavailable_action") {
    MV_ASSIGN_OR_RETURN(s->unavailable_action, ParseAction(value));
    return Status::Ok();
  }
  if (key == "html_preview") {
    MV_ASSIGN_OR_RETURN(s->html_preview, ParseBool(key, value));
    return Status::Ok();
  }
  std::string names;
  for (const std::string& n : SettingNames()) names += (names.empty() ? "" : ", ") + n;
  return Status::InvalidArgument("unknown setting \"" + std::string(key) + "\" (one of: " + names +
                                 ")");
}

std::string EncodeSettings(const StoreSettings& s) {
  nlohmann::json j = {
      {"max_size", s.max_size},
      {"notify_free_below", s.notify_free_below},
      {"allow_infected_delivery", s.allow_infected_delivery},
      {"unavailable_action", ActionName(s.unavailable_action)},
      {"html_preview", s.html_preview},
  };
  return j.dump(2) + "\n";
}

Result<StoreSettings> DecodeSettings(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("settings.json is not JSON");
  StoreSettings s;
  if (auto it = j.find("max_size"); it != j.end() && it->is_number_unsigned()) {
    s.max_size = it->get<uint64_t>();
  }
  if (auto it = j.find("notify_free_below"); it != j.end() && it->is_number_unsigned()) {
    s.notify_free_below = it->get<uint64_t>();
  }
  if (auto it = j.find("allow_infected_delivery"); it != j.end() && it->is_boolean()) {
    s.allow_infected_delivery = it->get<bool>();
  }
  if (auto it = j.find("unavailable_action"); it != j.end() && it->is_string()) {
    MV_ASSIGN_OR_RETURN(s.unavailable_action, ParseAction(it->get<std::string>()));
  }
  if (auto it = j.find("html_preview"); it != j.end() && it->is_boolean()) {
    s.html_preview = it->get<bool>();
  }
  return s;
}

Status EnsureReserve(Env& env, const std::string& dir) {
  const std::string path = DataDir(dir).reserve();
  auto size = env.FileSize(path);
  if (size.ok() && *size >= kReserveBytes) return Status::Ok();
  Status s = [&]() -> Status {
    MV_ASSIGN_OR_RETURN(auto f, env.OpenAppendable(path));
    const std::string zeros(64 << 10, '\0');
    while (f->Size() < kReserveBytes) {
      MV_RETURN_IF_ERROR(f->Append(std::string_view(zeros).substr(
          0, std::min<uint64_t>(zeros.size(), kReserveBytes - f->Size()))));
    }
    MV_RETURN_IF_ERROR(f->Sync());
    MV_RETURN_IF_ERROR(f->Close());
    return env.SyncDir(dir);
  }();
  if (!s.ok()) env.Remove(path).IgnoreError();  // a part of a reserve only takes room
  return s.Annotate("keep a reserve of free space");
}

Status WriteSettingsFile(Env& env, const std::string& dir, const StoreSettings& settings,
                         const std::function<void(std::string_view, std::string_view)>& on_event) {
  const std::string path = DataDir(dir).settings();
  const std::string text = EncodeSettings(settings);
  Status s = env.WriteFileAtomic(path, text);
  const std::string reserve = DataDir(dir).reserve();
  if (s.code() != Code::kNoSpace || !env.Exists(reserve)) return s;
  MV_RETURN_IF_ERROR(env.Remove(reserve));
  if (on_event) {
    on_event(
        "reserve_released",
        "the disk is full: released the space reserve to write the settings (" + s.message() + ")");
  }
  MV_RETURN_IF_ERROR(env.WriteFileAtomic(path, text));
  // Most likely still full; the reserve is made again at the next open.
  EnsureReserve(env, dir).IgnoreError();
  return Status::Ok();
}

}  // namespace mailvault
