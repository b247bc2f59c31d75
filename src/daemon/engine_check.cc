// Engines at start (see engine_check.h).
#include "daemon/engine_check.h"

#include <future>

namespace mailvault::daemon {
namespace {

// How to reach or silence each engine, in the config's words.
std::string HowToFix(std::string_view name) {
  if (name == "clamd") {
    return "start clamd (Debian: apt install clamav-daemon), or set [engines.clamd] address = "
           "\"unix:/path/to/clamd.ctl\" or \"tcp:HOST:3310\" in the config file (--config), or "
           "[engines.clamd] enabled = false to run without it";
  }
  if (name == "rspamd") {
    return "start rspamd (Debian: apt install rspamd), or set [engines.rspamd] url = "
           "\"http://HOST:11333\" in the config file (--config), or [engines.rspamd] enabled = "
           "false to run without it";
  }
  return "check its [engines] section in the config file";
}

}  // namespace

std::vector<console::EngineReach> CheckEngines(
    const std::vector<std::unique_ptr<scan::Engine>>& engines) {
  std::vector<std::future<Status>> pings;
  std::vector<console::EngineReach> reach;
  for (const auto& e : engines) {
    if (e->address().empty()) continue;
    reach.push_back({std::string(e->name()), e->address(), false, ""});
    pings.push_back(std::async(std::launch::async, [engine = e.get()] { return engine->Ping(); }));
  }
  for (size_t i = 0; i < pings.size(); ++i) {
    Status s = pings[i].get();
    reach[i].reachable = s.ok();
    if (!s.ok()) reach[i].error = s.message();
  }
  return reach;
}

std::vector<std::string> EngineWarnings(const std::vector<console::EngineReach>& reach,
                                        const std::vector<std::unique_ptr<scan::Engine>>& engines) {
  std::vector<std::string> out;
  for (const console::EngineReach& r : reach) {
    if (r.reachable) continue;
    std::string types;
    for (const auto& e : engines) {
      if (e->name() != r.engine) continue;
      for (const std::string& t : e->covers()) types += (types.empty() ? "" : ", ") + t;
    }
    out.push_back(r.engine + " is not reachable at " + r.address + " (" + r.error +
                  "): mail will pass WITHOUT " + types + " scanning until it is (the rules' " +
                  "not-scanned actions apply). To scan: " + HowToFix(r.engine) + ".");
  }
  return out;
}

}  // namespace mailvault::daemon
