// The daemon's HTTP API (docs/api.md), served by cpp-httplib on its own
// threads:
//   GET  /api/v1/health    no token; store figures
//   POST /api/v1/messages  Bearer token; multipart/form-data with a `message`
//                          part (raw RFC 5322 bytes) and an optional `meta`
//                          part (JSON envelope and verdicts); 201 {"id": N}
//   POST /api/v1/deliveries  Bearer token; JSON delivery request
//                          (delivery_json.h); 202 with the queued entries
//   GET  /api/v1/deliveries  Bearer token; the queue, newest first
//                          (?state=a,b&copy=N&request=N&limit=N&before=N)
// Errors are JSON {"error": "..."}: 400 bad input, 401 no or wrong token,
// 403 refused by policy, 404 unknown copy, 409 already delivered, 413 too
// large, 503 store unavailable or full, 500 anything else.
// Handlers never let an exception out.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "delivery/service.h"
#include "mailvault/status.h"
#include "mailvault/store.h"

namespace mailvault::daemon {

struct ApiOptions {
  std::string host = "127.0.0.1";
  int port = 0;       // 0: any free port, see ApiServer::port()
  std::string token;  // required for everything but health; non-empty
  uint64_t max_message_size = 64'000'000;
  int64_t timeout_micros = 60'000'000;
};

class ApiServer {
 public:
  // Binds host:port and serves on background threads. `store` and
  // `deliveries` (may be null: the delivery routes then answer 503) are
  // borrowed and must outlive the server. Unavailable if the address cannot
  // be bound.
  static Result<std::unique_ptr<ApiServer>> Start(Store& store, const ApiOptions& options,
                                                  delivery::DeliveryService* deliveries = nullptr);
  ~ApiServer();  // Stop()s
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // The bound port (the real one when options.port was 0).
  int port() const;
  // Stops accepting, finishes in-flight requests, joins the threads.
  // Idempotent.
  void Stop();

  struct Impl;

 private:
  explicit ApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Fills the envelope fields of *req from the `meta` JSON: mail_from,
// rcpt[], rule_id, statuses{engine: label}, reason, queue_id, received_at
// (RFC 3339). InvalidArgument naming the field on bad JSON, wrong types,
// unknown fields or an invalid status.
Status ParseMeta(std::string_view json_text, PutRequest* req);

// True if `authorization` is "Bearer <token>"; compares in constant time.
bool BearerMatches(std::string_view authorization, std::string_view token);

}  // namespace mailvault::daemon
