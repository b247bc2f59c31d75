// The settings file of a store (DATA/settings.json); the names and parsing
// of settings are declared in mailvault/store.h.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "env/env.h"
#include "mailvault/status.h"
#include "mailvault/store.h"

namespace mailvault {

std::string EncodeSettings(const StoreSettings& s);
Result<StoreSettings> DecodeSettings(std::string_view text);

// Room kept for the administrator on a full disk: DATA/reserve, a file of
// kReserveBytes written at init and at each writer open. When settings
// cannot be written for want of space, the reserve is given up so that the
// settings (and the audit record of the change, written next) fit; it is
// made again as soon as there is room.
inline constexpr uint64_t kReserveBytes = 1 << 20;

// Creates DATA/reserve if it is missing or short; on failure (a full disk)
// removes what it wrote and returns the error.
Status EnsureReserve(Env& env, const std::string& dir);

// Writes DATA/settings.json atomically (no temp file is left behind on
// failure). On NoSpace it releases the reserve and tries once more, telling
// `on_event` ("reserve_released"); may be empty.
Status WriteSettingsFile(Env& env, const std::string& dir, const StoreSettings& s,
                         const std::function<void(std::string_view, std::string_view)>& on_event);

}  // namespace mailvault
