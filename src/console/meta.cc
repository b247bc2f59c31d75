// Parsing and checking of the `meta` part of a posted message (see meta.h).
#include "console/meta.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/units.h"
#include "mime/compose.h"

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

// 1..max of [A-Za-z0-9._-]: a rule id (rules.h) or an MTA queue id.
Status CheckToken(std::string_view field, std::string_view v, size_t max) {
  const bool ok = !v.empty() && v.size() <= max && std::all_of(v.begin(), v.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
  if (ok) return Status::Ok();
  return Status::InvalidArgument(std::string(field) + ": use 1 to " + std::to_string(max) +
                                 " characters of A-Z a-z 0-9 . _ -");
}

// An envelope address as the milter gets it (without <>): one addr-spec
// that SMTP can carry. ParseMailbox refuses CR/LF, controls, spaces,
// several addresses and anything its parser had to repair; a display name
// or angle brackets are refused here (an envelope has none).
Status CheckEnvelopeAddress(const std::string& field, const std::string& v) {
  auto parsed = mime::ParseMailbox(v);
  if (!parsed.ok()) return Status::InvalidArgument(field + ": " + parsed.status().message());
  if (*parsed != v) {
    return Status::InvalidArgument(field +
                                   ": give the bare address (local@domain), as in the "
                                   "envelope");
  }
  return Status::Ok();
}

// Valid UTF-8 without C0, DEL or C1 controls.
Status CheckText(std::string_view field, std::string_view v) {
  for (size_t i = 0; i < v.size();) {
    const unsigned char c = static_cast<unsigned char>(v[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 0;
    if (len == 0 || i + len > v.size()) {
      return Status::InvalidArgument(std::string(field) + ": not valid UTF-8");
    }
    uint32_t cp = len == 1 ? c : c & (0x7f >> len);
    for (size_t k = 1; k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(v[i + k]);
      if ((cc & 0xc0) != 0x80) {
        return Status::InvalidArgument(std::string(field) + ": not valid UTF-8");
      }
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return Status::InvalidArgument(std::string(field) + ": not valid UTF-8");
    }
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
      return Status::InvalidArgument(std::string(field) + ": control characters are not allowed");
    }
    i += len;
  }
  return Status::Ok();
}

}  // namespace

Status ParseMeta(std::string_view json_text, int64_t now_micros, PutRequest* req) {
  if (json_text.size() > kMaxMetaBytes) {
    return Status::InvalidArgument("meta: at most " + std::to_string(kMaxMetaBytes) + " bytes");
  }
  json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("meta is not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument("meta must be a JSON object");
  static const char* kKnown[] = {"mail_from", "rcpt",     "rule_id",    "statuses",
                                 "reason",    "queue_id", "received_at"};
  for (const auto& item : j.items()) {
    const std::string& key = item.key();
    if (std::find_if(std::begin(kKnown), std::end(kKnown),
                     [&](const char* k) { return key == k; }) == std::end(kKnown)) {
      return Status::InvalidArgument("meta: unknown field \"" + key + "\"");
    }
  }
  MV_RETURN_IF_ERROR(MetaString(j, "mail_from", &req->mail_from));
  if (!req->mail_from.empty()) {
    MV_RETURN_IF_ERROR(CheckEnvelopeAddress("meta.mail_from", req->mail_from));
  }
  MV_RETURN_IF_ERROR(MetaString(j, "rule_id", &req->rule_id));
  if (j.contains("rule_id") && !j["rule_id"].is_null()) {
    MV_RETURN_IF_ERROR(CheckToken("meta.rule_id", req->rule_id, kMaxRuleId));
  }
  MV_RETURN_IF_ERROR(MetaString(j, "reason", &req->reason));
  if (req->reason.size() > kMaxMetaReason) {
    return Status::InvalidArgument("meta.reason: at most " + std::to_string(kMaxMetaReason) +
                                   " bytes");
  }
  MV_RETURN_IF_ERROR(CheckText("meta.reason", req->reason));
  MV_RETURN_IF_ERROR(MetaString(j, "queue_id", &req->queue_id));
  if (j.contains("queue_id") && !j["queue_id"].is_null()) {
    MV_RETURN_IF_ERROR(CheckToken("meta.queue_id", req->queue_id, kMaxQueueId));
  }
  if (auto it = j.find("rcpt"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return Status::InvalidArgument("meta.rcpt must be an array of strings");
    if (it->size() > kMaxMetaRcpt) {
      return Status::InvalidArgument("meta.rcpt: at most " + std::to_string(kMaxMetaRcpt) +
                                     " recipients");
    }
    for (size_t i = 0; i < it->size(); ++i) {
      const json& r = (*it)[i];
      const std::string field = "meta.rcpt[" + std::to_string(i) + "]";
      if (!r.is_string()) return Status::InvalidArgument(field + " must be a string");
      std::string address = r.get<std::string>();
      MV_RETURN_IF_ERROR(CheckEnvelopeAddress(field, address));
      req->rcpt.push_back(std::move(address));
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
      MV_RETURN_IF_ERROR(CheckText("meta.statuses." + engine, l));
      req->statuses[engine] = l;
    }
  }
  std::string received;
  MV_RETURN_IF_ERROR(MetaString(j, "received_at", &received));
  if (!received.empty()) {
    auto t = ParseRfc3339(received);
    if (!t.ok()) return t.status().Annotate("meta.received_at");
    if (*t < kMinReceivedAt || *t > now_micros + kMaxMetaFuture) {
      return Status::InvalidArgument("meta.received_at: " + received +
                                     " is not a plausible time (1990-01-01 to a day from now)");
    }
    req->received_at = *t;
  }
  return Status::Ok();
}

}  // namespace mailvault::console
