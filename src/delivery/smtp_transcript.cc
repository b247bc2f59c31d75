#include "delivery/smtp_transcript.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace mailvault::delivery {
namespace {

// Longer than any verb; the rest of a command line does not matter here.
constexpr size_t kVerbBytes = 16;
constexpr std::string_view kLineSeparator = " / ";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool VerbIs(std::string_view line, std::string_view verb) {
  if (line.size() < verb.size()) return false;
  for (size_t i = 0; i < verb.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(line[i])) != verb[i]) return false;
  }
  // The verb must be the whole first word: "DATAX" is not DATA.
  return line.size() == verb.size() || line[verb.size()] == ' ' || line[verb.size()] == '\r';
}

// Appends `s` to `out` without letting `out` grow past `max`.
void AppendClipped(std::string& out, std::string_view s, size_t max) {
  if (out.size() < max) out.append(s.substr(0, max - out.size()));
}

}  // namespace

void SmtpTranscript::Sent(std::string_view bytes) {
  for (char c : bytes) {
    if (c != '\n') {
      if (out_line_.size() < kVerbBytes) out_line_ += c;
      continue;
    }
    OnCommand();
    out_line_.clear();
  }
}

void SmtpTranscript::OnCommand() {
  if (commands_ == kMaxCommands) return;
  ++commands_;
  std::string_view line = out_line_;
  Verb verb = Verb::kOther;
  if (last_code_ == 334 && waiting_.empty()) {
    verb = Verb::kAuth;  // a SASL continuation line, checked before any verb
  } else if (VerbIs(line, "EHLO")) {
    verb = Verb::kEhlo;
  } else if (VerbIs(line, "HELO")) {
    verb = Verb::kHelo;
  } else if (VerbIs(line, "STARTTLS")) {
    verb = Verb::kStartTls;
  } else if (VerbIs(line, "AUTH")) {
    verb = Verb::kAuth;
  } else if (VerbIs(line, "MAIL")) {
    verb = Verb::kMail;
  } else if (VerbIs(line, "RCPT")) {
    verb = Verb::kRcpt;
  } else if (VerbIs(line, "DATA")) {
    verb = Verb::kData;
  }
  // RSET, QUIT, NOOP and anything else only need their place in the order.

  if (verb == Verb::kMail) {
    ++transaction_;
    mail_from_ = {};
    rcpt_.clear();
    data_ = {};
  }
  Waiting w{verb, transaction_};
  if (verb == Verb::kRcpt) {
    w.rcpt_index = rcpt_.size();
    rcpt_.emplace_back();
  }
  waiting_.push_back(w);
}

void SmtpTranscript::Received(std::string_view bytes) {
  for (char c : bytes) {
    if (c != '\n') {
      if (in_line_.size() < kMaxReplyText) in_line_ += c;
      ++in_line_size_;
      continue;
    }
    OnReplyLine();
    in_line_.clear();
    in_line_size_ = 0;
  }
}

void SmtpTranscript::OnReplyLine() {
  std::string_view line = in_line_;
  // libcurl's test (smtp_endofresp) on the line with its LF: at least 4
  // bytes, 3 digits, then a space, or exactly 5 bytes ("250\r\n").
  size_t raw_size = in_line_size_ + 1;
  bool last_line = raw_size >= 4 && IsDigit(line[0]) && IsDigit(line[1]) && IsDigit(line[2]) &&
                   (line[3] == ' ' || raw_size == 5);
  if (line.size() == in_line_size_ && line.ends_with('\r')) line.remove_suffix(1);

  if (reply_started_) AppendClipped(reply_text_, kLineSeparator, kMaxReplyText);
  reply_started_ = true;
  size_t from = reply_text_.size();
  AppendClipped(reply_text_, line, kMaxReplyText);
  for (size_t i = from; i < reply_text_.size(); ++i) {
    char& c = reply_text_[i];
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  if (!last_line) return;

  SmtpReply reply;
  reply.code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  reply.text = std::move(reply_text_);
  reply_text_.clear();
  reply_started_ = false;
  OnReply(std::move(reply));
}

void SmtpTranscript::OnReply(SmtpReply reply) {
  last_code_ = reply.code;
  if (!waiting_.empty()) {
    Waiting w = waiting_.front();
    waiting_.pop_front();
    bool current = w.transaction == transaction_;
    switch (w.verb) {
      case Verb::kMail:
        if (current) mail_from_ = reply;
        break;
      case Verb::kRcpt:
        if (current && w.rcpt_index < rcpt_.size()) rcpt_[w.rcpt_index] = reply;
        break;
      case Verb::kData:
        if (!current) break;
        if (reply.code == 354) {
          waiting_.push_front({Verb::kMessage, w.transaction});
        } else {
          data_ = reply;  // DATA refused: that decides the message
        }
        break;
      case Verb::kMessage:
        if (current) data_ = reply;
        break;
      default:
        break;
    }
  }
  last_ = std::move(reply);
}

}  // namespace mailvault::delivery
