// The one way the code base turns JSON into text. Strings in a JSON value
// may come from a message (envelope addresses, headers, file names, an
// external scanner's reason) and hold any bytes; nlohmann::json's dump()
// throws on invalid UTF-8 by default, which would take the daemon down on
// one hostile MAIL FROM. JsonText never throws: each invalid sequence is
// written as U+FFFD. The store does not go through here (its records keep
// every byte: store/meta_codec.h); this is for what is shown (API replies,
// CLI --json, logs). Thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace mailvault {

// `indent` as in nlohmann::json::dump: -1 for one line.
std::string JsonText(const nlohmann::json& j, int indent = -1);

}  // namespace mailvault
