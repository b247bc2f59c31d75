// BuildOutgoing (see outgoing.h).
#include "delivery/outgoing.h"

#include "base/units.h"
#include "mime/compose.h"

namespace mailvault::delivery {
namespace {

std::string WrapperText(const CopyMeta& m, int64_t now_micros) {
  std::string text =
      "The attached message was held in the Backup of the mail gateway and has been released "
      "to you by an administrator.\r\n\r\n";
  text += "Subject:       " + m.subject + "\r\n";
  text += "From:          " + m.from + "\r\n";
  text += "Placed in the Backup: " + FormatRfc3339(m.placed_at) + "\r\n";
  if (!m.reason.empty()) text += "Reason:        " + m.reason + "\r\n";
  text += "Released:      " + FormatRfc3339(now_micros) + "\r\n";
  text += "\r\nOpen the attachment with care: it is the original message as it arrived.\r\n";
  return text;
}

}  // namespace

std::string ToCrlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 64);
  // Copy runs between LFs whole (most mail is CRLF already: one run).
  size_t start = 0;
  while (start < text.size()) {
    size_t lf = text.find('\n', start);
    if (lf == std::string_view::npos) {
      out.append(text.substr(start));
      break;
    }
    out.append(text.substr(start, lf - start));
    if (lf == 0 || text[lf - 1] != '\r') out += '\r';
    out += '\n';
    start = lf + 1;
  }
  return out;
}

Result<std::string> BuildOutgoing(const OutgoingMessage& m, const crypto::ReleaseSigner& signer) {
  if (m.raw.empty())
    return Status::InvalidArgument("copy " + std::to_string(m.meta.id) + " is empty");
  std::string message;
  if (m.format == DeliveryFormat::kAsIs) {
    message = mime::RemoveHeaderFields(m.raw, crypto::kReleaseHeader);
    if (m.remove_message_id) message = mime::RemoveHeaderFields(message, "Message-ID");
  } else {
    mime::Wrapper w;
    w.from = m.wrapper_from;
    w.to = m.rcpt;
    w.subject = "Released from the Backup: " + m.meta.subject;
    w.text = WrapperText(m.meta, m.now_micros);
    w.id_domain = m.host;
    w.date = m.now_micros / 1'000'000;
    MV_ASSIGN_OR_RETURN(message, mime::BuildAsAttachment(w, m.raw));
  }
  message = ToCrlf(message);
  // SMTP data ends with a line end; the release digest ignores trailing
  // line ends, so adding one keeps the signature valid.
  if (!message.ends_with("\r\n")) message += "\r\n";
  const std::string digest =
      crypto::DigestBody(std::string_view(message).substr(mime::BodyOffset(message)));
  std::string out =
      std::string(crypto::kReleaseHeader) + ": " +
      signer.Sign(m.meta.id, m.now_micros / 1'000'000, digest, {m.mail_from, m.rcpt}) + "\r\n";
  out.reserve(out.size() + message.size());
  out += message;
  return out;
}

}  // namespace mailvault::delivery
