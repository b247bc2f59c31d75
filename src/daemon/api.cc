// HTTP API handlers over cpp-httplib (see api.h).
#include "daemon/api.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/units.h"
#include "delivery/delivery_json.h"

namespace mailvault::daemon {
namespace {

using nlohmann::json;

void SendJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump() + "\n", "application/json");
}

void SendError(httplib::Response& res, int status, const std::string& message) {
  SendJson(res, status, {{"error", message}});
}

int HttpStatusFor(const Status& s) {
  switch (s.code()) {
    case Code::kInvalidArgument:
      return 400;
    case Code::kNotFound:
      return 404;
    case Code::kPermissionDenied:
      return 403;
    case Code::kAlreadyExists:
      return 409;
    case Code::kUnavailable:
    case Code::kNoSpace:
      return 503;
    default:
      return 500;
  }
}

Status MetaString(const json& j, const char* key, std::string* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_string())
    return Status::InvalidArgument(std::string("meta.") + key + " must be a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

}  // namespace

bool BearerMatches(std::string_view authorization, std::string_view token) {
  constexpr std::string_view kPrefix = "Bearer ";
  if (token.empty() || authorization.size() < kPrefix.size()) return false;
  for (size_t i = 0; i < kPrefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(kPrefix[i]))) {
      return false;
    }
  }
  std::string_view given = authorization.substr(kPrefix.size());
  // The token's length is not secret (it is fixed); its bytes are.
  volatile unsigned char diff = given.size() == token.size() ? 0 : 1;
  for (size_t i = 0; i < token.size(); ++i) {
    diff = diff | static_cast<unsigned char>(token[i] ^ (i < given.size() ? given[i] : 0));
  }
  return diff == 0;
}

Status ParseMeta(std::string_view json_text, PutRequest* req) {
  json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("meta is not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument("meta must be a JSON object");
  static const char* kKnown[] = {"mail_from", "rcpt",     "rule_id",    "statuses",
                                 "reason",    "queue_id", "received_at"};
  for (const auto& [key, value] : j.items()) {
    if (std::find_if(std::begin(kKnown), std::end(kKnown),
                     [&](const char* k) { return key == k; }) == std::end(kKnown)) {
      return Status::InvalidArgument("meta: unknown field \"" + key + "\"");
    }
  }
  MV_RETURN_IF_ERROR(MetaString(j, "mail_from", &req->mail_from));
  MV_RETURN_IF_ERROR(MetaString(j, "rule_id", &req->rule_id));
  MV_RETURN_IF_ERROR(MetaString(j, "reason", &req->reason));
  MV_RETURN_IF_ERROR(MetaString(j, "queue_id", &req->queue_id));
  if (auto it = j.find("rcpt"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return Status::InvalidArgument("meta.rcpt must be an array of strings");
    for (const json& r : *it) {
      if (!r.is_string()) return Status::InvalidArgument("meta.rcpt must be an array of strings");
      req->rcpt.push_back(r.get<std::string>());
    }
  }
  if (auto it = j.find("statuses"); it != j.end() && !it->is_null()) {
    if (!it->is_object())
      return Status::InvalidArgument("meta.statuses must be an object engine -> label");
    for (const auto& [engine, label] : it->items()) {
      if (!label.is_string())
        return Status::InvalidArgument("meta.statuses." + engine + " must be a string");
      std::string l = label.get<std::string>();
      MV_RETURN_IF_ERROR(ValidateStatus(engine, l).Annotate("meta.statuses"));
      req->statuses[engine] = l;
    }
  }
  std::string received;
  MV_RETURN_IF_ERROR(MetaString(j, "received_at", &received));
  if (!received.empty()) {
    auto t = ParseRfc3339(received);
    if (!t.ok()) return t.status().Annotate("meta.received_at");
    req->received_at = *t;
  }
  return Status::Ok();
}

namespace {

// "a,b" -> [a, b]; empty pieces dropped.
std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// A positive integer query parameter; InvalidArgument naming it otherwise.
Status UintParam(const httplib::Request& req, const char* name, std::optional<uint64_t>* out) {
  if (!req.has_param(name)) return Status::Ok();
  const std::string v = req.get_param_value(name);
  uint64_t n = 0;
  bool ok = !v.empty() && v.size() <= 19;
  for (char c : v) {
    if (c < '0' || c > '9') ok = false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!ok || n == 0)
    return Status::InvalidArgument(std::string(name) + " must be a positive integer");
  *out = n;
  return Status::Ok();
}

Status ParseDeliveryQuery(const httplib::Request& req, DeliveryQuery* q) {
  for (const std::string& s : SplitList(req.get_param_value("state"))) {
    auto state = ParseDeliveryState(s);
    if (!state) {
      return Status::InvalidArgument("state \"" + s +
                                     "\": use queued, sending, delivered, deferred or failed");
    }
    q->states.push_back(*state);
  }
  std::optional<uint64_t> copy, request, limit, before;
  MV_RETURN_IF_ERROR(UintParam(req, "copy", &copy));
  MV_RETURN_IF_ERROR(UintParam(req, "request", &request));
  MV_RETURN_IF_ERROR(UintParam(req, "limit", &limit));
  MV_RETURN_IF_ERROR(UintParam(req, "before", &before));
  q->copy_id = copy;
  q->request = request;
  q->before = before;
  if (limit) q->limit = std::min<uint64_t>(*limit, 1000);
  return Status::Ok();
}

}  // namespace

struct ApiServer::Impl {
  Impl(Store& s, ApiOptions o, delivery::DeliveryService* d)
      : store(s), options(std::move(o)), deliveries(d) {}
  Store& store;
  const ApiOptions options;
  delivery::DeliveryService* const deliveries;
  httplib::Server server;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
  int port = 0;

  void Health(httplib::Response& res) {
    auto stats = store.Stats();
    if (!stats.ok()) {
      SendJson(res, 503, {{"status", "error"}, {"error", stats.status().message()}});
      return;
    }
    // A store that stopped taking writes is not healthy even though it can
    // still be read: monitoring must see it (the gateway's unavailable_action
    // is then in force).
    Status writable = store.Writable();
    json body = {{"status", writable.ok() ? "ok" : "error"},
                 {"copies", stats->count},
                 {"bytes", stats->bytes},
                 {"max_bytes", stats->max_bytes}};
    if (!writable.ok()) body["error"] = writable.message();
    SendJson(res, writable.ok() ? 200 : 503, body);
  }

  void PostMessage(const httplib::Request& req, httplib::Response& res) {
    if (!Authorized(req, res)) return;
    if (!req.is_multipart_form_data()) {
      return SendError(res, 400,
                       "send multipart/form-data with a \"message\" part and a \"meta\" part");
    }
    if (!req.has_file("message")) return SendError(res, 400, "no \"message\" part");
    const std::string& raw = req.get_file_value("message").content;
    if (raw.empty()) return SendError(res, 400, "the message is empty");
    if (raw.size() > options.max_message_size) {
      return SendError(
          res, 413,
          "message larger than max_message_size (" + FormatSize(options.max_message_size) + ")");
    }
    PutRequest put;
    if (req.has_file("meta")) {
      Status s = ParseMeta(req.get_file_value("meta").content, &put);
      if (!s.ok()) return SendError(res, 400, s.message());
    }
    put.raw = raw;
    auto id = store.Put(put);
    if (!id.ok()) {
      spdlog::warn("POST /api/v1/messages from {}: {}", req.remote_addr, id.status().ToString());
      return SendError(res, HttpStatusFor(id.status()), id.status().message());
    }
    spdlog::info("stored copy {} ({} bytes) posted by {}", *id, raw.size(), req.remote_addr);
    SendJson(res, 201, {{"id", *id}});
  }

  bool Authorized(const httplib::Request& req, httplib::Response& res) {
    if (BearerMatches(req.get_header_value("Authorization"), options.token)) return true;
    res.set_header("WWW-Authenticate", "Bearer");
    SendError(res, 401, "missing or wrong token (Authorization: Bearer TOKEN)");
    return false;
  }

  void PostDeliveries(const httplib::Request& req, httplib::Response& res) {
    if (!Authorized(req, res)) return;
    if (deliveries == nullptr) return SendError(res, 503, "delivery is not available");
    delivery::DeliveryRequest request;
    Status s = delivery::ParseRequestJson(req.body, &request);
    if (!s.ok()) return SendError(res, 400, s.message());
    request.requested_by = "api:" + req.remote_addr;
    auto queued = deliveries->Enqueue(request);
    if (!queued.ok()) {
      spdlog::warn("POST /api/v1/deliveries from {}: {}", req.remote_addr,
                   queued.status().ToString());
      return SendError(res, HttpStatusFor(queued.status()), queued.status().message());
    }
    spdlog::info("delivery request {} from {}: {} entries queued", queued->request, req.remote_addr,
                 queued->entries.size());
    SendJson(res, 202, delivery::EnqueuedToJson(*queued, request.ids.size()));
  }

  void GetDeliveries(const httplib::Request& req, httplib::Response& res) {
    if (!Authorized(req, res)) return;
    if (deliveries == nullptr) return SendError(res, 503, "delivery is not available");
    DeliveryQuery query;
    Status s = ParseDeliveryQuery(req, &query);
    if (!s.ok()) return SendError(res, 400, s.message());
    auto page = deliveries->List(query);
    if (!page.ok()) return SendError(res, HttpStatusFor(page.status()), page.status().message());
    auto counts = deliveries->Counts();
    if (!counts.ok()) {
      return SendError(res, HttpStatusFor(counts.status()), counts.status().message());
    }
    nlohmann::json body = delivery::PageToJson(*page);
    body["counts"] = delivery::CountsToJson(*counts);
    SendJson(res, 200, body);
  }

  void Routes() {
    server.Get("/api/v1/health",
               [this](const httplib::Request&, httplib::Response& res) { Health(res); });
    server.Post("/api/v1/messages", [this](const httplib::Request& req, httplib::Response& res) {
      PostMessage(req, res);
    });
    server.Post("/api/v1/deliveries", [this](const httplib::Request& req, httplib::Response& res) {
      PostDeliveries(req, res);
    });
    server.Get("/api/v1/deliveries", [this](const httplib::Request& req, httplib::Response& res) {
      GetDeliveries(req, res);
    });
    server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      if (res.status == 413) return SendError(res, 413, "request too large");
      if (res.status == 404) return SendError(res, 404, "no such endpoint: " + req.path);
      SendError(res, res.status, "request failed");
    });
    server.set_exception_handler(
        [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
          std::string what = "unknown";
          try {
            if (ep) std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          spdlog::error("{} {}: internal error: {}", req.method, req.path, what);
          SendError(res, 500, "internal error");
        });
    server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      spdlog::debug("{} {} {} -> {}", req.remote_addr, req.method, req.path, res.status);
    });
  }
};

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ApiServer::~ApiServer() { Stop(); }

int ApiServer::port() const { return impl_->port; }

void ApiServer::Stop() {
  if (impl_->thread.joinable()) {
    impl_->server.stop();
    impl_->thread.join();
  }
}

Result<std::unique_ptr<ApiServer>> ApiServer::Start(Store& store, const ApiOptions& options,
                                                    delivery::DeliveryService* deliveries) {
  if (options.token.empty()) return Status::InvalidArgument("the API needs a token");
  auto impl = std::make_unique<Impl>(store, options, deliveries);
  httplib::Server& server = impl->server;
  // Room for the multipart framing and the meta part around the message.
  server.set_payload_max_length(options.max_message_size + 1'000'000);
  time_t sec = options.timeout_micros / 1'000'000;
  time_t usec = options.timeout_micros % 1'000'000;
  server.set_read_timeout(sec, usec);
  server.set_write_timeout(sec, usec);
  impl->Routes();
  if (options.port == 0) {
    impl->port = server.bind_to_any_port(options.host);
    if (impl->port < 0) impl->port = 0;
  } else if (server.bind_to_port(options.host, options.port)) {
    impl->port = options.port;
  }
  if (impl->port == 0) {
    return Status::Unavailable("cannot listen on " + options.host + ":" +
                               std::to_string(options.port));
  }
  Impl* raw = impl.get();
  raw->thread = std::thread([raw] {
    if (!raw->server.listen_after_bind()) spdlog::error("the API server stopped with an error");
    raw->listen_returned = true;
  });
  // Stop() before the accept loop runs would be lost; wait until it runs.
  while (!raw->server.is_running() && !raw->listen_returned) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

}  // namespace mailvault::daemon
