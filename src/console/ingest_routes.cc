// POST /api/v1/messages: a copy handed in by an external scanner or script.
//
// The route reads its own body (RouteDef::reads_body), after the token is
// checked, part by part through httplib's multipart reader, so each part is
// bounded as it arrives: the message at max_message_size, the meta part at
// kMaxMetaBytes, one of each, no other parts. A body that stalls is dropped
// after ConsoleOptions::read_timeout_micros.
#include <spdlog/spdlog.h>

#include "base/units.h"
#include "console/meta.h"
#include "console/server_impl.h"

namespace mailvault::console {
namespace {

// The parts of one ingest request as they arrive.
struct IngestParts {
  std::string message, meta;
  int messages = 0, metas = 0;
  std::string* current = nullptr;  // the part being received
  size_t current_max = 0;
  // Why the reader was stopped, with the answer's status.
  int status = 0;
  std::string problem;

  bool Stop(int code, std::string why) {
    status = code;
    problem = std::move(why);
    return false;
  }
};

constexpr char kForm[] = "send multipart/form-data with a \"message\" part and a \"meta\" part";

}  // namespace

void ConsoleServer::Impl::PostMessage(Call& c) {
  const httplib::Request& req = c.req;
  if (!req.is_multipart_form_data() || c.reader == nullptr) {
    c.res.set_header("Connection", "close");  // the body was not read
    return SendError(c.res, 400, kForm);
  }
  IngestParts parts;
  const uint64_t max_message = options.max_message_size;
  const bool read = (*c.reader)(
      [&parts, max_message](const httplib::MultipartFormData& part) {
        if (part.name == "message") {
          if (++parts.messages > 1) {
            return parts.Stop(400, "a second \"message\" part: send one message per request");
          }
          parts.current = &parts.message;
          parts.current_max = max_message;
        } else if (part.name == "meta") {
          if (++parts.metas > 1) return parts.Stop(400, "a second \"meta\" part");
          parts.current = &parts.meta;
          parts.current_max = kMaxMetaBytes;
        } else if (part.name.empty()) {
          return parts.Stop(400,
                            "a part without a name (Content-Disposition: form-data; "
                            "name=\"message\" or \"meta\")");
        } else {
          return parts.Stop(400, "unknown part \"" + part.name.substr(0, 64) +
                                     "\": send only \"message\" and \"meta\"");
        }
        return true;
      },
      [&parts](const char* data, size_t size) {
        if (parts.current == nullptr) return parts.Stop(400, "data outside a part");
        if (parts.current->size() + size > parts.current_max) {
          if (parts.current == &parts.message) {
            return parts.Stop(413, "message larger than max_message_size (" +
                                       FormatSize(parts.current_max) + ")");
          }
          return parts.Stop(400, "meta: at most " + std::to_string(kMaxMetaBytes) + " bytes");
        }
        parts.current->append(data, size);
        return true;
      });
  if (!read || parts.status != 0) {
    // The rest of the body is not read: the connection cannot carry another
    // request.
    c.res.set_header("Connection", "close");
    if (parts.status != 0) return SendError(c.res, parts.status, parts.problem);
    if (c.res.status == 413) {  // httplib: Content-Length over the payload limit
      return SendError(c.res, 413,
                       "request larger than max_message_size (" + FormatSize(max_message) +
                           ") and room for the meta part");
    }
    return SendError(
        c.res, 400,
        "the multipart/form-data body could not be read: it is malformed (each part must start "
        "with the boundary from Content-Type and a Content-Disposition header, and the body end "
        "with the closing boundary), or it ended or stalled (more than " +
            std::to_string(std::max<int64_t>(
                1, std::min(options.read_timeout_micros, options.timeout_micros) / 1'000'000)) +
            " s without data) before its Content-Length");
  }
  if (parts.messages == 0) return SendError(c.res, 400, "no \"message\" part");
  if (parts.message.empty()) return SendError(c.res, 400, "the message is empty");
  PutRequest put;
  if (parts.metas > 0) {
    Status s = ParseMeta(parts.meta, env.NowMicros(), &put);
    if (!s.ok()) return SendError(c.res, 400, s.message());
  }
  put.raw = parts.message;
  auto id = store.Put(put);
  if (!id.ok()) {
    spdlog::warn("POST /api/v1/messages from {}: {}", req.remote_addr, id.status().ToString());
    return SendError(c.res, HttpStatusFor(id.status()), id.status().message());
  }
  spdlog::info("stored copy {} ({} bytes) posted by {}", *id, parts.message.size(),
               req.remote_addr);
  SendJson(c.res, 201, {{"id", *id}});
}

}  // namespace mailvault::console
