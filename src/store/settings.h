// The settings file of a store (DATA/settings.json); the names and parsing
// of settings are declared in mailvault/store.h.
#pragma once

#include <string>
#include <string_view>

#include "mailvault/status.h"
#include "mailvault/store.h"

namespace mailvault {

std::string EncodeSettings(const StoreSettings& s);
Result<StoreSettings> DecodeSettings(std::string_view text);

}  // namespace mailvault
