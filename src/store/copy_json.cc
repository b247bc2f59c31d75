#include "store/copy_json.h"

#include "base/units.h"

namespace mailvault {
namespace {

nlohmann::json Time(int64_t micros) {
  if (micros == 0) return nullptr;
  return FormatRfc3339(micros);
}

Status ReadTime(const nlohmann::json& j, const char* key, int64_t* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    *out = 0;
    return Status::Ok();
  }
  if (!it->is_string()) return Status::Corruption(std::string(key) + " is not a time");
  auto t = ParseRfc3339(it->get<std::string>());
  if (!t.ok()) return Status::Corruption(std::string(key) + ": " + t.status().message());
  *out = *t;
  return Status::Ok();
}

template <typename T>
Status ReadField(const nlohmann::json& j, const char* key, T* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  try {
    *out = it->get<T>();
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("field ") + key + ": " + e.what());
  }
  return Status::Ok();
}

}  // namespace

nlohmann::json CopyToJson(const CopyMeta& m) {
  nlohmann::json atts = nlohmann::json::array();
  for (const Attachment& a : m.attachments) {
    atts.push_back({{"name", a.name}, {"type", a.type}, {"size", a.size}});
  }
  return {
      {"id", m.id},
      {"placed_at", Time(m.placed_at)},
      {"received_at", Time(m.received_at)},
      {"sent_at", Time(m.sent_at)},
      {"mail_from", m.mail_from},
      {"rcpt", m.rcpt},
      {"from", m.from},
      {"to", m.to},
      {"cc", m.cc},
      {"bcc", m.bcc},
      {"subject", m.subject},
      {"message_id", m.message_id},
      {"queue_id", m.queue_id},
      {"size", m.size},
      {"rule_id", m.rule_id},
      {"statuses", m.statuses},
      {"reason", m.reason},
      {"attachments", std::move(atts)},
  };
}

Result<CopyMeta> CopyFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::Corruption("copy metadata is not a JSON object");
  CopyMeta m;
  MV_RETURN_IF_ERROR(ReadField(j, "id", &m.id));
  MV_RETURN_IF_ERROR(ReadTime(j, "placed_at", &m.placed_at));
  MV_RETURN_IF_ERROR(ReadTime(j, "received_at", &m.received_at));
  MV_RETURN_IF_ERROR(ReadTime(j, "sent_at", &m.sent_at));
  MV_RETURN_IF_ERROR(ReadField(j, "mail_from", &m.mail_from));
  MV_RETURN_IF_ERROR(ReadField(j, "rcpt", &m.rcpt));
  MV_RETURN_IF_ERROR(ReadField(j, "from", &m.from));
  MV_RETURN_IF_ERROR(ReadField(j, "to", &m.to));
  MV_RETURN_IF_ERROR(ReadField(j, "cc", &m.cc));
  MV_RETURN_IF_ERROR(ReadField(j, "bcc", &m.bcc));
  MV_RETURN_IF_ERROR(ReadField(j, "subject", &m.subject));
  MV_RETURN_IF_ERROR(ReadField(j, "message_id", &m.message_id));
  MV_RETURN_IF_ERROR(ReadField(j, "queue_id", &m.queue_id));
  MV_RETURN_IF_ERROR(ReadField(j, "size", &m.size));
  MV_RETURN_IF_ERROR(ReadField(j, "rule_id", &m.rule_id));
  MV_RETURN_IF_ERROR(ReadField(j, "statuses", &m.statuses));
  MV_RETURN_IF_ERROR(ReadField(j, "reason", &m.reason));
  if (auto it = j.find("attachments"); it != j.end() && it->is_array()) {
    for (const auto& a : *it) {
      Attachment att;
      if (!a.is_object()) return Status::Corruption("attachment is not an object");
      MV_RETURN_IF_ERROR(ReadField(a, "name", &att.name));
      MV_RETURN_IF_ERROR(ReadField(a, "type", &att.type));
      MV_RETURN_IF_ERROR(ReadField(a, "size", &att.size));
      m.attachments.push_back(std::move(att));
    }
  }
  return m;
}

}  // namespace mailvault
