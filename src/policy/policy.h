// Policy: the run-time choices an administrator makes that intake, delivery
// and the console follow: what the gateway does with mail when the Backup
// cannot take a copy, whether infected copies may be delivered, whether the
// console shows HTML, below how much free space the administrator is told.
// None of it is the store's business (a store keeps copies, locally or on
// PostgreSQL, and knows only its own size cap), so it lives here, kept in
// DATA/settings.json by policy::Settings (settings.h).
//
// `mailvault settings` and the console's settings API show and change the
// policy together with the store's size cap, by the names below (the same
// names as before the policy left the store).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/status.h"

namespace mailvault::policy {

// What to do with mail when the Backup cannot take a copy.
enum class UnavailableAction { kProcess, kTempfail, kReject };

struct Policy {
  uint64_t notify_free_below = 1'000'000'000;  // free disk bytes that raise an event
  bool allow_infected_delivery = false;
  UnavailableAction unavailable_action = UnavailableAction::kTempfail;
  // The console shows a message's HTML body (sanitized, in a sandbox); off:
  // plain text only.
  bool html_preview = true;
};

// Every run-time setting: the store's size cap and the policy.
struct SettingValues {
  uint64_t max_size = 0;  // bytes of copies the store keeps; oldest evicted above it
  Policy policy;
};

// Names and parsing for `settings get|set` and the console. Set returns
// InvalidArgument with the accepted values on a bad key or value; `warning`
// (may be null) receives a note for an accepted but unwise value (max_size
// below 100 MB). Get returns "" for an unknown key.
std::vector<std::string> SettingNames();
std::string GetSetting(const SettingValues& s, std::string_view key);
Status SetSetting(SettingValues* s, std::string_view key, std::string_view value,
                  std::string* warning);

// settings.json. Encode writes the policy's keys over `existing` (the file
// as it was, "" for none) and keeps every other key, so that a key this
// version does not own (max_size, which older versions kept here and the
// store still reads from here until it has its own) survives a change.
// Decode reads a file of any version: a missing key keeps its default.
std::string EncodePolicy(const Policy& p, std::string_view existing);
Result<Policy> DecodePolicy(std::string_view text);

}  // namespace mailvault::policy
