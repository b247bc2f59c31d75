// The personal Backup's settings: what the administrator lets personal
// users (local accounts, and later directory users) do with the copies
// addressed to them. Kept in the accounts database (settings table), set
// through `mailvault settings set personal.*`, the console's settings API,
// and read by the console on every personal request. Pure values and
// parsing; thread-safe. docs/personal.md says what each one means.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/copy.h"
#include "mailvault/delivery.h"
#include "mailvault/status.h"

namespace mailvault::directory {

struct PersonalSettings {
  bool enabled = false;         // personal.backup: off, every personal route answers 403
  bool preview = true;          // personal.preview: text always; HTML by HtmlPreviewAllowed
  bool delete_allowed = false;  // personal.delete
  bool allow_sending = false;   // personal.send: to the user's own mailbox only
  DeliveryFormat delivery_format = DeliveryFormat::kAsAttachment;  // personal.delivery_format
  bool remove_message_id = false;  // personal.remove_message_id (as-is only)
  bool group_mailboxes = false;    // personal.group_mailboxes: delegated mailboxes too
  bool operator==(const PersonalSettings&) const = default;
};

// "personal.backup", "personal.preview", ... in a fixed order.
std::vector<std::string> PersonalSettingNames();
// The value as `settings get` prints it ("yes"/"no", "as-attachment").
std::string GetPersonalSetting(const PersonalSettings& s, std::string_view key);
// InvalidArgument for an unknown key or value (naming the accepted ones);
// `warning` receives a note for a legal but risky value (remove_message_id
// breaks DKIM signatures; it does nothing with as-attachment).
Status SetPersonalSetting(PersonalSettings* s, std::string_view key, std::string_view value,
                          std::string* warning);
// From the settings table (unknown keys and unreadable values are ignored,
// the default stands) and back.
PersonalSettings PersonalSettingsFromMap(const std::map<std::string, std::string>& values);
std::map<std::string, std::string> PersonalSettingsToMap(const PersonalSettings& s);

// Whether a copy's labels show no threat for a personal user's own actions
// (sending, saving): Anti-Virus said nothing or "not-detected", and neither
// Anti-Phishing (phishing, malicious link) nor any other verdict of that
// engine is present. Anything else, including "not-scanned", is not known
// to be safe.
bool NoThreatFound(const CopyMeta& meta);
// Whether a personal user may see the HTML view of a copy: its Anti-Virus
// status is absent, not-detected, encrypted, not-scanned or bases-error
// (never infected, probably-infected, corrupted). The caller checks that
// the message has HTML.
bool HtmlPreviewAllowed(const CopyMeta& meta);

}  // namespace mailvault::directory
