// Parsing and printing of the units that config files and the CLI use:
// sizes ("7.32GB", "100MB", "512KB", "1048576"), durations ("30s", "5m",
// "2h", "1d") and RFC 3339 timestamps. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mailvault/status.h"

namespace mailvault {

// Decimal units as shipped defaults state them: KB = 1000, MB = 1000^2,
// GB = 1000^3, TB = 1000^4; KiB/MiB/GiB/TiB are binary; a bare number is
// bytes. Fractions are allowed ("7.32GB"). Case-insensitive.
Result<uint64_t> ParseSize(std::string_view text);
// "7.32 GB" style, three significant digits, for humans.
std::string FormatSize(uint64_t bytes);

// "250ms", "30s", "5m", "2h", "1d", "1w"; bare number = seconds.
Result<int64_t> ParseDurationMicros(std::string_view text);

// The one rule for a size or a duration that must be positive (a limit, a
// timeout, an interval): every component checks its options with these and
// the config file's values go through the Parse* forms, so `mailvault config
// check` and the daemon refuse the same values with the same words. Callers
// prefix the key ("engines.clamd.timeout: must be more than 0").
Status CheckPositiveSize(uint64_t bytes);
// Above 0 and at most 100 years (so deadlines computed from it cannot
// overflow).
Status CheckPositiveDuration(int64_t micros);
Result<uint64_t> ParsePositiveSize(std::string_view text);
Result<int64_t> ParsePositiveDuration(std::string_view text);

// Microseconds since the Unix epoch <-> RFC 3339 ("2026-11-22T08:17:00Z",
// offsets and fractions accepted on input; output always UTC, second
// precision unless the value has a sub-second part).
Result<int64_t> ParseRfc3339(std::string_view text);
std::string FormatRfc3339(int64_t micros_since_epoch);

}  // namespace mailvault
