// JSON of delivery requests and entries (see delivery_json.h).
#include "delivery/delivery_json.h"

#include <algorithm>

#include "base/units.h"

namespace mailvault::delivery {
namespace {

using nlohmann::json;

json Time(int64_t micros) { return micros == 0 ? json(nullptr) : json(FormatRfc3339(micros)); }

Status Bool(const json& j, const char* key, bool* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_boolean())
    return Status::InvalidArgument(std::string(key) + " must be true or false");
  *out = it->get<bool>();
  return Status::Ok();
}

}  // namespace

json EntryToJson(const DeliveryEntry& e) {
  bool waiting = e.state == DeliveryState::kQueued || e.state == DeliveryState::kDeferred;
  return {{"id", e.id},
          {"request", e.request},
          {"copy_id", e.copy_id},
          {"rcpt", e.rcpt},
          {"original", e.original},
          {"mail_from", e.mail_from},
          {"format", DeliveryFormatName(e.format)},
          {"remove_message_id", e.remove_message_id},
          {"state", DeliveryStateName(e.state)},
          {"attempts", e.attempts},
          {"last_reply", e.last_reply},
          {"created_at", Time(e.created_at)},
          {"updated_at", Time(e.updated_at)},
          {"next_attempt_at", waiting ? Time(e.next_attempt_at) : json(nullptr)},
          {"expires_at", Time(e.expires_at)},
          {"requested_by", e.requested_by}};
}

json PageToJson(const DeliveryPage& page) {
  json items = json::array();
  for (const DeliveryEntry& e : page.items) items.push_back(EntryToJson(e));
  return {{"items", items}, {"next", page.next ? json(*page.next) : json(nullptr)}};
}

json CountsToJson(const DeliveryCounts& c) {
  return {{"queued", c.queued},
          {"sending", c.sending},
          {"delivered", c.delivered},
          {"deferred", c.deferred},
          {"failed", c.failed}};
}

json EnqueuedToJson(const EnqueueResult& result, size_t copies) {
  json entries = json::array();
  for (const DeliveryEntry& e : result.entries) entries.push_back(EntryToJson(e));
  return {{"message", copies == 1 ? "The message has been placed in the queue for delivery"
                                  : "The messages have been placed in the queue for delivery"},
          {"request", result.request},
          {"entries", entries}};
}

Status ParseRequestJson(std::string_view text, DeliveryRequest* out) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("the request is not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument("the request must be a JSON object");
  static const char* kKnown[] = {"ids", "original", "to", "format", "remove_message_id", "again"};
  for (const auto& [key, value] : j.items()) {
    if (std::none_of(std::begin(kKnown), std::end(kKnown),
                     [&](const char* k) { return key == k; })) {
      return Status::InvalidArgument("unknown field \"" + key + "\"");
    }
  }
  DeliveryRequest r;
  auto ids = j.find("ids");
  if (ids == j.end() || !ids->is_array()) {
    return Status::InvalidArgument("ids must be an array of copy ids");
  }
  for (const json& id : *ids) {
    if (!id.is_number_unsigned() || id.get<uint64_t>() == 0) {
      return Status::InvalidArgument("ids must be an array of copy ids (positive integers)");
    }
    r.ids.push_back(id.get<uint64_t>());
  }
  if (auto to = j.find("to"); to != j.end() && !to->is_null()) {
    if (!to->is_array()) return Status::InvalidArgument("to must be an array of addresses");
    for (const json& a : *to) {
      if (!a.is_string()) return Status::InvalidArgument("to must be an array of addresses");
      r.to.push_back(a.get<std::string>());
    }
  }
  if (auto f = j.find("format"); f != j.end() && !f->is_null()) {
    auto format = f->is_string() ? ParseDeliveryFormat(f->get<std::string>()) : std::nullopt;
    if (!format) return Status::InvalidArgument("format must be \"as-is\" or \"as-attachment\"");
    r.format = *format;
  }
  MV_RETURN_IF_ERROR(Bool(j, "original", &r.original));
  MV_RETURN_IF_ERROR(Bool(j, "remove_message_id", &r.remove_message_id));
  MV_RETURN_IF_ERROR(Bool(j, "again", &r.again));
  *out = std::move(r);
  return Status::Ok();
}

json RequestToJson(const DeliveryRequest& r) {
  return {{"ids", r.ids},
          {"original", r.original},
          {"to", r.to},
          {"format", DeliveryFormatName(r.format)},
          {"remove_message_id", r.remove_message_id},
          {"again", r.again}};
}

}  // namespace mailvault::delivery
