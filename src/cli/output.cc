// Text and JSON rendering for the CLI.
#include "cli/output.h"

#include "base/display_text.h"
#include "base/units.h"
#include "store/copy_json.h"

namespace mailvault::cli {
namespace {

// Bytes in the UTF-8 sequence that starts with `c` (1 for stray bytes).
size_t SeqLen(unsigned char c) {
  if (c >= 0xF0 && c < 0xF8) return 4;
  if (c >= 0xE0) return c < 0xF0 ? 3 : 1;
  if (c >= 0xC0) return 2;
  return 1;
}

size_t Width(std::string_view s) {
  size_t w = 0;
  for (size_t i = 0; i < s.size(); i += SeqLen(static_cast<unsigned char>(s[i]))) ++w;
  return w;
}

std::string Pad(std::string_view s, size_t width) {
  std::string out(s);
  for (size_t w = Width(s); w < width; ++w) out += ' ';
  return out;
}

constexpr std::string_view kOpen = "\u27E8", kClose = "\u27E9";

std::string TimeOrDash(int64_t micros) { return micros == 0 ? "-" : FormatRfc3339(micros); }

// "2026-11-22 08:17" (UTC), short enough for the table.
std::string ShortTime(int64_t micros) {
  if (micros == 0) return "-";
  std::string t = FormatRfc3339(micros);
  if (t.size() >= 16) {
    t.resize(16);
    t[10] = ' ';
  }
  return t;
}

std::string Join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

nlohmann::json TimeJson(int64_t micros) {
  if (micros == 0) return nullptr;
  return FormatRfc3339(micros);
}

}  // namespace

std::string Truncate(std::string_view s, size_t width) {
  const std::string shown = DisplayText(s);
  // Units of the shown text: one character, or one whole ⟨...⟩ token, so a
  // cut never leaves half a token that could pass for text.
  struct Unit {
    size_t offset, points;
  };
  std::vector<Unit> units;
  size_t total = 0;
  for (size_t i = 0; i < shown.size();) {
    const size_t start = i;
    size_t points = 1;
    i += std::min(SeqLen(static_cast<unsigned char>(shown[i])), shown.size() - i);
    if (shown.compare(start, kOpen.size(), kOpen) == 0) {
      // DisplayText's tokens are short: "⟨U+E0041⟩", "⟨0xFF⟩".
      const size_t close = shown.find(kClose, i);
      std::string_view body = std::string_view(shown).substr(i, close - i);
      if (close != std::string::npos && body.size() <= 8 &&
          (body.starts_with("U+") || body.starts_with("0x"))) {
        points += body.size() + 1;
        i = close + kClose.size();
      }
    }
    units.push_back({start, points});
    total += points;
  }
  if (total <= width) return shown;
  if (width == 0) return "";
  std::string out;
  size_t w = 0;
  for (size_t k = 0; k < units.size() && w + units[k].points < width; ++k) {
    w += units[k].points;
    const size_t end = k + 1 < units.size() ? units[k + 1].offset : shown.size();
    out.append(shown, units[k].offset, end - units[k].offset);
  }
  return out + "\u2026";
}

std::string SizeKb(uint64_t bytes) { return std::to_string((bytes + 1023) / 1024) + " KB"; }

std::string StatusesText(const std::map<std::string, std::string>& statuses) {
  std::string out;
  for (const auto& [engine, label] : statuses) {
    out += (out.empty() ? "" : ", ") + engine + "=" + label;
  }
  return out;
}

std::string FormatSearchTable(const SearchPage& page) {
  if (page.items.empty()) return "no copies found\n";
  struct Col {
    const char* name;
    size_t width;
  };
  const Col cols[] = {{"ID", 8},       {"PLACED (UTC)", 16}, {"FROM", 28}, {"TO", 28},
                      {"SUBJECT", 36}, {"SIZE", 8},          {"STATUS", 0}};
  auto row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      if (cols[i].width == 0) {
        line += DisplayText(cells[i]);
      } else {
        line += Pad(Truncate(cells[i], cols[i].width), cols[i].width) + "  ";
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    return line + "\n";
  };
  std::vector<std::string> header;
  for (const Col& c : cols) header.push_back(c.name);
  std::string out = row(header);
  for (const CopyMeta& m : page.items) {
    std::string from = m.from.empty() ? m.mail_from : m.from;
    std::string to = m.to.empty() ? Join(m.rcpt, ", ") : m.to;
    out += row({std::to_string(m.id), ShortTime(m.placed_at), from, to, m.subject, SizeKb(m.size),
                StatusesText(m.statuses)});
  }
  if (page.next) out += "next: --after " + std::to_string(*page.next) + "\n";
  return out;
}

nlohmann::json SearchPageToJson(const SearchPage& page) {
  nlohmann::json items = nlohmann::json::array();
  for (const CopyMeta& m : page.items) items.push_back(CopyToJson(m));
  nlohmann::json next = nullptr;
  if (page.next) next = *page.next;
  return {{"items", items}, {"next", next}};
}

std::string FormatCopy(const CopyMeta& m) {
  std::string out;
  auto line = [&](const char* name, const std::string& value) {
    out += Pad(std::string(name) + ":", 13) + Truncate(value, 10000) + "\n";
  };
  line("id", std::to_string(m.id));
  line("subject", m.subject);
  line("from", m.from);
  line("to", m.to);
  line("cc", m.cc);
  line("bcc", m.bcc);
  line("mail from", m.mail_from.empty() ? "<>" : m.mail_from);
  line("rcpt", Join(m.rcpt, ", "));
  line("rule", m.rule_id);
  line("statuses", StatusesText(m.statuses));
  line("reason", m.reason);
  line("placed", TimeOrDash(m.placed_at));
  line("received", TimeOrDash(m.received_at));
  line("sent", TimeOrDash(m.sent_at));
  line("message-id", m.message_id);
  line("queue id", m.queue_id);
  line("size", std::to_string(m.size) + " bytes (" + SizeKb(m.size) + ")");
  line("attachments", std::to_string(m.attachments.size()));
  // The real last extension first, so a name whose look lies about its type
  // ("report\u202Efdp.exe") is plainly an .exe.
  for (const Attachment& a : m.attachments) {
    std::string ext = FinalExtension(a.name);
    out += "  - [" + (ext.empty() ? std::string("no extension") : Truncate(ext, 40)) + "]  " +
           (a.name.empty() ? std::string("(no name)") : Truncate(a.name, 200)) + "  " +
           Truncate(a.type, 100) + "  " + std::to_string(a.size) + " bytes\n";
  }
  return out;
}

std::string FormatStats(const StoreStats& s) {
  std::string out;
  out += "copies:      " + std::to_string(s.count) + "\n";
  out += "bytes:       " + std::to_string(s.bytes) + " (" + FormatSize(s.bytes) + ")\n";
  out += "messages:    " + std::to_string(s.message_bytes) + " (" + FormatSize(s.message_bytes) +
         ")\n";
  out += "max bytes:   " + std::to_string(s.max_bytes) + " (" + FormatSize(s.max_bytes) + ")\n";
  out += "segments:    " + std::to_string(s.segments) + "\n";
  out += "oldest:      " + TimeOrDash(s.oldest) + "\n";
  out += "newest:      " + TimeOrDash(s.newest) + "\n";
  out += "free space:  " + std::to_string(s.free_bytes) + " (" + FormatSize(s.free_bytes) + ")\n";
  return out;
}

nlohmann::json StatsToJson(const StoreStats& s) {
  return {{"count", s.count},
          {"bytes", s.bytes},
          {"message_bytes", s.message_bytes},
          {"max_bytes", s.max_bytes},
          {"segments", s.segments},
          {"oldest", TimeJson(s.oldest)},
          {"newest", TimeJson(s.newest)},
          {"free_bytes", s.free_bytes}};
}

std::string FormatKeys(const std::vector<Store::KeyInfo>& keys) {
  std::string out = "ID  CURRENT  SECRET  FINGERPRINT\n";
  for (const Store::KeyInfo& k : keys) {
    out += Pad(std::to_string(k.id), 4) + Pad(k.current ? "yes" : "", 9) +
           Pad(k.has_secret ? "yes" : "no", 8) + k.fingerprint + "\n";
  }
  return out;
}

nlohmann::json KeysToJson(const std::vector<Store::KeyInfo>& keys) {
  nlohmann::json out = nlohmann::json::array();
  for (const Store::KeyInfo& k : keys) {
    out.push_back({{"id", k.id},
                   {"current", k.current},
                   {"has_secret", k.has_secret},
                   {"fingerprint", k.fingerprint}});
  }
  return out;
}

std::string FormatQueueTable(const DeliveryPage& page, const DeliveryCounts& c) {
  std::string out = "queued " + std::to_string(c.queued) + ", sending " +
                    std::to_string(c.sending) + ", deferred " + std::to_string(c.deferred) +
                    ", delivered " + std::to_string(c.delivered) + ", failed " +
                    std::to_string(c.failed) + "\n";
  if (page.items.empty()) return out + "no deliveries\n";
  auto row = [](const std::vector<std::string>& cells) {
    static const size_t kWidths[] = {8, 8, 30, 9, 5, 16, 0};
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      line += kWidths[i] == 0 ? Truncate(cells[i], 200)
                              : Pad(Truncate(cells[i], kWidths[i]), kWidths[i]) + "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    return line + "\n";
  };
  out += row({"ID", "COPY", "RECIPIENT", "STATE", "TRIES", "UPDATED (UTC)", "LAST REPLY"});
  for (const DeliveryEntry& e : page.items) {
    std::string reply = e.last_reply;
    if (e.state == DeliveryState::kDeferred)
      reply = "next " + ShortTime(e.next_attempt_at) + ": " + reply;
    out += row({std::to_string(e.id), std::to_string(e.copy_id), e.rcpt,
                std::string(DeliveryStateName(e.state)), std::to_string(e.attempts),
                ShortTime(e.updated_at), reply});
  }
  if (page.next) out += "next: --after " + std::to_string(*page.next) + "\n";
  return out;
}

}  // namespace mailvault::cli
