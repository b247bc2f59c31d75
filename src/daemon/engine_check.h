// Engines at start: mailvaultd asks each network scanning engine (clamd,
// rspamd) whether it answers, once, before the milter listens, and says
// plainly which do not: mail then passes unscanned by them (the rules' not-
// scanned actions), which a new user running `make run` on a machine without
// clamd or rspamd must not learn only from a warning per message. The
// answers feed GET /api/v1/health and /metrics (mailvault_engine_up).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "console/server.h"
#include "scan/engine.h"

namespace mailvault::daemon {

// Pings every engine that has an address, side by side (each within its
// own bounded timeout), in the engines' order. Built-in engines are left out.
std::vector<console::EngineReach> CheckEngines(
    const std::vector<std::unique_ptr<scan::Engine>>& engines);

// The start-up warning for each unreachable engine: what passes unscanned
// and how to point mailvault at it (the [engines.NAME] keys). One line each;
// empty when every engine answers.
std::vector<std::string> EngineWarnings(const std::vector<console::EngineReach>& reach,
                                        const std::vector<std::unique_ptr<scan::Engine>>& engines);

}  // namespace mailvault::daemon
