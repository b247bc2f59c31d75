// Personal Backup settings (see accounts_personal.h).
#include "directory/accounts_personal.h"

#include <map>

namespace mailvault::directory {
namespace {

struct Flag {
  const char* key;
  bool PersonalSettings::*field;
};
constexpr Flag kFlags[] = {
    {"personal.backup", &PersonalSettings::enabled},
    {"personal.preview", &PersonalSettings::preview},
    {"personal.delete", &PersonalSettings::delete_allowed},
    {"personal.send", &PersonalSettings::allow_sending},
    {"personal.remove_message_id", &PersonalSettings::remove_message_id},
    {"personal.group_mailboxes", &PersonalSettings::group_mailboxes},
};
constexpr char kFormatKey[] = "personal.delivery_format";

Result<bool> ParseYesNo(std::string_view key, std::string_view v) {
  if (v == "yes" || v == "true" || v == "on" || v == "1") return true;
  if (v == "no" || v == "false" || v == "off" || v == "0") return false;
  return Status::InvalidArgument(std::string(key) + ": give yes or no, not \"" + std::string(v) +
                                 "\"");
}

std::string Label(const CopyMeta& m, const char* engine) {
  auto it = m.statuses.find(engine);
  return it == m.statuses.end() ? "" : it->second;
}

}  // namespace

std::vector<std::string> PersonalSettingNames() {
  std::vector<std::string> out;
  for (const Flag& f : kFlags) out.emplace_back(f.key);
  out.emplace_back(kFormatKey);
  return out;
}

std::string GetPersonalSetting(const PersonalSettings& s, std::string_view key) {
  for (const Flag& f : kFlags) {
    if (key == f.key) return s.*(f.field) ? "yes" : "no";
  }
  if (key == kFormatKey) return std::string(DeliveryFormatName(s.delivery_format));
  return "";
}

Status SetPersonalSetting(PersonalSettings* s, std::string_view key, std::string_view value,
                          std::string* warning) {
  for (const Flag& f : kFlags) {
    if (key != f.key) continue;
    MV_ASSIGN_OR_RETURN(bool on, ParseYesNo(key, value));
    s->*(f.field) = on;
    if (on && key == "personal.remove_message_id" && warning != nullptr) {
      *warning =
          "personal.remove_message_id: a message delivered without its Message-ID may fail its "
          "DKIM check at the recipient";
    }
    return Status::Ok();
  }
  if (key == kFormatKey) {
    auto format = ParseDeliveryFormat(value);
    if (!format) {
      return Status::InvalidArgument(std::string(key) + ": give as-attachment or as-is, not \"" +
                                     std::string(value) + "\"");
    }
    s->delivery_format = *format;
    return Status::Ok();
  }
  std::string known;
  for (const std::string& n : PersonalSettingNames()) known += (known.empty() ? "" : ", ") + n;
  return Status::InvalidArgument("unknown personal setting \"" + std::string(key) +
                                 "\" (one of: " + known + ")");
}

PersonalSettings PersonalSettingsFromMap(const std::map<std::string, std::string>& values) {
  PersonalSettings s;
  for (const auto& [key, value] : values) {
    PersonalSettings next = s;
    if (SetPersonalSetting(&next, key, value, nullptr).ok()) s = next;
  }
  return s;
}

std::map<std::string, std::string> PersonalSettingsToMap(const PersonalSettings& s) {
  std::map<std::string, std::string> out;
  for (const std::string& key : PersonalSettingNames()) out[key] = GetPersonalSetting(s, key);
  return out;
}

bool NoThreatFound(const CopyMeta& meta) {
  const std::string av = Label(meta, "anti-virus");
  if (!av.empty() && av != "not-detected") return false;
  return meta.statuses.count("anti-phishing") == 0;
}

bool HtmlPreviewAllowed(const CopyMeta& meta) {
  const std::string av = Label(meta, "anti-virus");
  return av.empty() || av == "not-detected" || av == "encrypted" || av == "not-scanned" ||
         av == "bases-error";
}

}  // namespace mailvault::directory
