// The space reserve of a data dir and the small files written with it.
//
// Room is kept for the administrator on a full disk: DATA/reserve, a file
// of kReserveBytes written at init and at each store writer open. When a
// settings file (the policy's settings.json, the store's store.json) cannot
// be written for want of space, the reserve is given up so that the change
// (and the audit record of it, written next) fits; it is made again as
// soon as there is room. Stateless functions over an Env; callers
// serialize writes to one file.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "env/env.h"
#include "mailvault/status.h"

namespace mailvault {

inline constexpr uint64_t kReserveBytes = 1 << 20;

// Creates DATA/reserve if it is missing or short; on failure (a full disk)
// removes what it wrote and returns the error.
Status EnsureReserve(Env& env, const std::string& dir);

// Writes `path` (a file of the data dir `dir`) atomically: no temp file is
// left behind on failure. On NoSpace it releases the reserve and tries once
// more, telling `on_event` ("reserve_released"), which may be empty.
Status WriteFileUsingReserve(
    Env& env, const std::string& dir, const std::string& path, std::string_view contents,
    const std::function<void(std::string_view kind, std::string_view message)>& on_event);

}  // namespace mailvault
