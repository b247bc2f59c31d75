// The mboxrd format `mailvault save` and the console's archive download write
// when they put several copies in one file: each message starts with a
// "From SENDER DATE" line (envelope sender, asctime date in UTC), lines of the
// message matching ^>*From  get one more '>' (so readers can undo it exactly),
// and each message ends with an empty line. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mailvault {

// "From alice@example.com Sat Nov 22 08:17:00 2026\n"; an empty sender
// becomes MAILER-DAEMON.
std::string MboxFromLine(std::string_view mail_from, int64_t micros_since_epoch);

// Appends one message (From line, quoted body, closing empty line) to *out.
void AppendMboxrd(std::string* out, std::string_view mail_from, int64_t micros_since_epoch,
                  std::string_view raw);

}  // namespace mailvault
