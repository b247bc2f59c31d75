// libFuzzer target for the SMTP transcript codec (src/delivery/
// smtp_transcript.h). The input is a conversation: byte 0x01 switches to
// bytes the client sent, 0x02 to bytes the relay answered (the start), 0x03
// cuts the current piece; every other byte is data. Any input must keep
// every reply within the documented limits (code 0-999, at most 64 KiB of
// printable text, no more RCPT replies than commands), and the replies must
// not depend on where pieces were cut: the same bytes fed one at a time give
// the same transcript. Seeds: tests/fuzz/corpus/smtp_transcript/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "delivery/smtp_transcript.h"

namespace {

using mailvault::delivery::SmtpReply;
using mailvault::delivery::SmtpTranscript;

void CheckReply(const SmtpReply& r) {
  if (r.code < 0 || r.code > 999) std::abort();
  if (r.text.size() > SmtpTranscript::kMaxReplyText) std::abort();
  for (char c : r.text) {
    if (c < 0x20 || c > 0x7e) std::abort();
  }
}

bool Same(const SmtpReply& a, const SmtpReply& b) { return a.code == b.code && a.text == b.text; }

bool Same(const SmtpTranscript& a, const SmtpTranscript& b) {
  if (!Same(a.mail_from(), b.mail_from()) || !Same(a.data(), b.data()) ||
      !Same(a.last(), b.last()) || a.rcpt().size() != b.rcpt().size()) {
    return false;
  }
  for (size_t i = 0; i < a.rcpt().size(); ++i) {
    if (!Same(a.rcpt()[i], b.rcpt()[i])) return false;
  }
  return true;
}

void Feed(SmtpTranscript& t, bool sent, std::string_view piece) {
  sent ? t.Sent(piece) : t.Received(piece);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  SmtpTranscript pieces, bytes;
  bool sent = false;
  size_t start = 0;
  for (size_t i = 0; i <= in.size(); ++i) {
    char c = i < in.size() ? in[i] : '\x03';
    if (c != '\x01' && c != '\x02' && c != '\x03') continue;
    std::string_view piece = in.substr(start, i - start);
    Feed(pieces, sent, piece);
    for (size_t j = 0; j < piece.size(); ++j) Feed(bytes, sent, piece.substr(j, 1));
    if (c == '\x01') sent = true;
    if (c == '\x02') sent = false;
    start = i + 1;
  }

  CheckReply(pieces.mail_from());
  CheckReply(pieces.data());
  CheckReply(pieces.last());
  if (pieces.rcpt().size() > SmtpTranscript::kMaxCommands) std::abort();
  for (const auto& r : pieces.rcpt()) CheckReply(r);
  if (!Same(pieces, bytes)) std::abort();
  return 0;
}
