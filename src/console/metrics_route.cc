// GET /metrics: the Prometheus text exposition format (docs/metrics.md).
//
// Who may scrape: a request with the API token (Authorization: Bearer), or
// one from a loopback address that is not a browser's. A browser session
// never suffices: a request that carries the session cookie, an Origin or
// the Sec-Fetch-* headers every current browser sends is refused without the
// token, so a page in a browser on the gateway cannot read the figures.
// Refusals are audited like the API's. Allowed scrapes are not (Prometheus
// polls every few seconds).
//
// The counters and histograms come from metrics::Global(), where the
// components count; the gauges below are read at scrape time.
#include <spdlog/spdlog.h>

#include "base/metrics.h"
#include "console/server_impl.h"

namespace mailvault::console {
namespace {

using metrics::TextWriter;
using metrics::Type;

bool LooksLikeBrowser(const httplib::Request& req, const std::string& cookie) {
  return !cookie.empty() || req.has_header("Origin") || req.has_header("Sec-Fetch-Mode") ||
         req.has_header("Sec-Fetch-Site") || req.has_header("Sec-Fetch-Dest");
}

void Gauge(TextWriter& w, const char* name, const char* help, double value) {
  w.Begin(name, Type::kGauge, help);
  w.Sample({}, value);
}

}  // namespace

void ConsoleServer::Impl::ServeMetrics(const httplib::Request& req, httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Content-Type-Options", "nosniff");
  Call c{req, res, {}, std::nullopt, nullptr, {}, {}, false, "metrics", {}};
  const std::string authorization = req.get_header_value("Authorization");
  if (!authorization.empty()) {
    if (!BearerMatches(authorization, options.token)) {
      res.set_header("WWW-Authenticate", "Bearer");
      SendError(res, 401, "missing or wrong token (Authorization: Bearer TOKEN)");
      return AuditRefusal(c, "metrics", "wrong API token");
    }
  } else if (LooksLikeBrowser(req, SessionCookie(req))) {
    res.set_header("WWW-Authenticate", "Bearer");
    SendError(res, 401, "/metrics is for a scraper: send the API token (Authorization: Bearer)");
    return AuditRefusal(c, "metrics", "a browser's request without the API token");
  } else if (!IsLoopbackHost(req.remote_addr)) {
    res.set_header("WWW-Authenticate", "Bearer");
    SendError(res, 401, "/metrics from another host needs the API token (Authorization: Bearer)");
    return AuditRefusal(c, "metrics", "no API token from a remote address");
  }

  TextWriter w;
  metrics::Global().Write(w);
  // Read at scrape time; a figure that cannot be read is left out (and the
  // health route says why).
  if (auto stats = store.Stats(); stats.ok()) {
    Gauge(w, "mailvault_store_copies", "Copies in the Backup.", static_cast<double>(stats->count));
    Gauge(w, "mailvault_store_bytes", "Bytes of the Backup's segment files on disk.",
          static_cast<double>(stats->bytes));
    Gauge(w, "mailvault_store_max_bytes",
          "The size cap: above it the oldest copies are evicted (max_size).",
          static_cast<double>(stats->max_bytes));
    Gauge(w, "mailvault_store_free_bytes", "Free space on the data directory's file system.",
          static_cast<double>(stats->free_bytes));
  } else {
    spdlog::warn("metrics: store figures unavailable: {}", stats.status().ToString());
  }
  const Availability avail = store.availability();
  Gauge(w, "mailvault_store_unavailable",
        "1 while the Backup refuses copies (unavailable_action is in force), else 0.",
        avail.unavailable_since != 0 ? 1 : 0);
  if (services.deliveries != nullptr) {
    if (auto n = services.deliveries->Counts(); n.ok()) {
      w.Begin("mailvault_delivery_queue", Type::kGauge, "Delivery requests by state.");
      const std::pair<const char*, uint64_t> states[] = {{"queued", n->queued},
                                                         {"sending", n->sending},
                                                         {"deferred", n->deferred},
                                                         {"delivered", n->delivered},
                                                         {"failed", n->failed}};
      for (const auto& [state, count] : states) {
        w.Sample({{"state", state}}, static_cast<double>(count));
      }
    }
  }
  if (auto n = services.audit->Count(); n.ok()) {
    Gauge(w, "mailvault_audit_records",
          "Records held in the audit log (the oldest go beyond audit_max_records).",
          static_cast<double>(*n));
  }
  if (services.engines) {
    w.Begin("mailvault_engine_up", Type::kGauge,
            "1 if the engine answered when last asked (at start), else 0: mail passes unscanned "
            "by it.");
    for (const EngineReach& e : services.engines()) {
      w.Sample({{"engine", e.engine}}, e.reachable ? 1 : 0);
    }
  }
  res.status = 200;
  res.set_content(w.text(), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace mailvault::console
