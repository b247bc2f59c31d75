// mboxrd writing (see mbox.h).
#include "base/mbox.h"

#include <ctime>

namespace mailvault {
namespace {

// True if `line` matches ^>*From (the lines mboxrd quotes).
bool NeedsQuote(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && line[i] == '>') ++i;
  return line.substr(i).starts_with("From ");
}

}  // namespace

std::string MboxFromLine(std::string_view mail_from, int64_t micros_since_epoch) {
  std::string sender;
  for (char c : mail_from) {
    // The separator line is space-delimited: keep the sender one token.
    sender += (c == ' ' || c == '\t' || c == '\r' || c == '\n') ? '_' : c;
  }
  if (sender.empty()) sender = "MAILER-DAEMON";
  std::time_t t = static_cast<std::time_t>(micros_since_epoch / 1'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm);
  return "From " + sender + " " + date + "\n";
}

void AppendMboxrd(std::string* out, std::string_view mail_from, int64_t micros_since_epoch,
                  std::string_view raw) {
  out->append(MboxFromLine(mail_from, micros_since_epoch));
  size_t pos = 0;
  while (pos < raw.size()) {
    size_t nl = raw.find('\n', pos);
    size_t end = nl == std::string_view::npos ? raw.size() : nl + 1;
    std::string_view line = raw.substr(pos, end - pos);
    if (NeedsQuote(line)) out->push_back('>');
    out->append(line);
    pos = end;
  }
  if (!raw.empty() && raw.back() != '\n') out->push_back('\n');
  out->push_back('\n');
}

}  // namespace mailvault
