// Parsing of the `meta` part of a posted message (see meta.h).
#include "console/meta.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/units.h"

namespace mailvault::console {
namespace {

using nlohmann::json;

Status MetaString(const json& j, const char* key, std::string* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_string())
    return Status::InvalidArgument(std::string("meta.") + key + " must be a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

}  // namespace

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

}  // namespace mailvault::console
