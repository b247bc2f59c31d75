// What the console does differently for a personal user: delivery to the
// user's own mailboxes only, and the session's description of the personal
// Backup (docs/personal.md).
#include <spdlog/spdlog.h>

#include <map>
#include <set>

#include "console/server_impl.h"
#include "delivery/delivery_json.h"

namespace mailvault::console {
namespace {

using nlohmann::json;

constexpr size_t kMaxPersonalDeliveries = 100;

}  // namespace

json ConsoleServer::Impl::PersonalSessionJson(const Call& c) const {
  json boxes = json::array();
  for (const directory::Mailbox& m : c.who.mailboxes) {
    boxes.push_back({{"address", m.address}, {"delegated", m.delegated}, {"via", m.via}});
  }
  json settings = json::object();
  for (const std::string& key : directory::PersonalSettingNames()) {
    const std::string v = directory::GetPersonalSetting(c.personal, key);
    settings[key.substr(std::string_view("personal.").size())] = v == "yes"  ? json(true)
                                                                 : v == "no" ? json(false)
                                                                             : json(v);
  }
  return {{"mailboxes", std::move(boxes)}, {"settings", std::move(settings)}};
}

// {"ids": [...], "mailbox": "optional one of the user's"}: each copy goes to
// the user's mailboxes among its envelope recipients (or to `mailbox`
// only), never to anyone else, in the administrator's format, and only
// when no engine found a threat in it. All copies are checked before any
// is queued.
void ConsoleServer::Impl::PersonalDeliveries(Call& c) {
  json body = json::parse(c.req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("ids") || !body["ids"].is_array()) {
    return SendError(c.res, 400, "send {\"ids\": [N, ...]} (and optionally \"mailbox\")");
  }
  for (const auto& [key, value] : body.items()) {
    if (key == "to" && value.is_array() && value.empty()) continue;
    if (key == "to" || key == "format" || key == "remove_message_id") {
      // Sending elsewhere, or choosing the format, is the administrator's.
      c.detail = "personal delivery with \"" + key + "\"";
      return SendError(c.res, 403,
                       "a personal user delivers only to their own mailbox, in the format the "
                       "administrator set (\"" +
                           key + "\" is not allowed)");
    }
    if (key != "ids" && key != "mailbox" && key != "original" && key != "again") {
      return SendError(c.res, 400, "unknown field \"" + key + "\"");
    }
  }
  std::vector<CopyId> ids;
  for (const json& v : body["ids"]) {
    if (!v.is_number_unsigned() || v.get<uint64_t>() == 0) {
      return SendError(c.res, 400, "ids must be positive integers");
    }
    if (std::find(ids.begin(), ids.end(), v.get<uint64_t>()) == ids.end()) {
      ids.push_back(v.get<uint64_t>());
    }
  }
  if (ids.empty()) return SendError(c.res, 400, "ids: give at least one copy id");
  if (ids.size() > kMaxPersonalDeliveries) {
    return SendError(c.res, 400,
                     "at most " + std::to_string(kMaxPersonalDeliveries) + " copies at once");
  }
  std::string mailbox;
  if (body.contains("mailbox")) {
    if (!body["mailbox"].is_string()) return SendError(c.res, 400, "mailbox: give an address");
    mailbox = index::LowerAscii(body["mailbox"].get<std::string>());
  }
  const bool again = body.contains("again") && body["again"].is_boolean() && body["again"];
  c.copy_ids = ids;
  // Copies with the same targets go in one request.
  std::map<std::vector<std::string>, std::vector<CopyId>> groups;
  for (CopyId id : ids) {
    auto meta = store.Get(id);
    if (!meta.ok()) {
      if (meta.status().code() == Code::kNotFound) {
        return SendError(c.res, 404, "no copy " + std::to_string(id));
      }
      return SendStatus(c.res, meta.status());
    }
    if (!CheckVisible(c, *meta)) return;
    std::vector<std::string> targets = VisibleThrough(c.who, meta->rcpt);
    if (!mailbox.empty()) {
      if (std::find(targets.begin(), targets.end(), mailbox) == targets.end()) {
        return SendError(c.res, 403,
                         "copy " + std::to_string(id) + " was not addressed to " + mailbox);
      }
      targets = {mailbox};
    }
    if (!directory::NoThreatFound(*meta)) {
      return SendError(c.res, 403,
                       "copy " + std::to_string(id) +
                           " carries an Anti-Virus or Anti-Phishing finding: ask the "
                           "administrator to release it");
    }
    groups[targets].push_back(id);
  }
  json queued_all = json::array();
  std::string to_all;
  size_t entries = 0;
  for (const auto& [targets, group] : groups) {
    delivery::DeliveryRequest request;
    request.ids = group;
    request.to = targets;
    request.format = c.personal.delivery_format;
    request.remove_message_id =
        c.personal.remove_message_id && request.format == DeliveryFormat::kAsIs;
    request.again = again;
    request.requested_by = "console:" + c.who.account;
    for (const std::string& t : targets) {
      if (to_all.find(t) == std::string::npos) to_all += (to_all.empty() ? "" : ", ") + t;
    }
    c.detail = "personal: " + to_all + "; " + std::string(DeliveryFormatName(request.format));
    auto queued = services.deliveries->Enqueue(request);
    if (!queued.ok()) {
      spdlog::warn("delivery request by {}: {}", request.requested_by, queued.status().ToString());
      return SendError(c.res, HttpStatusFor(queued.status()), queued.status().message());
    }
    entries += queued->entries.size();
    queued_all.push_back(delivery::EnqueuedToJson(*queued, group.size()));
  }
  spdlog::info("personal delivery by {}: {} entries queued", c.who.account, entries);
  json out = queued_all.size() == 1 ? queued_all[0] : json{{"requests", queued_all}};
  SendJson(c.res, 202, out);
}

}  // namespace mailvault::console
