// ContentFilterEngine: the built-in "content-filtering" scan type.
//
// Looks at every leaf MIME part (mime::ParsedMessage::Walk, also inside
// attached messages; the message the caller parsed, Message::parsed, or
// parsed here) and answers with one verdict:
//   - "size-exceeded" when the raw message is larger than max_message_size
//     (then parts are not looked at: the cap also bounds the work);
//   - "banned-file-format" when libmagic, reading the first 64 KiB of a
//     part's decoded content, names a type matching banned_formats, whatever
//     the part's name or declared type say;
//   - "banned-file-name" when a part's file name (the Content-Disposition
//     filename and the Content-Type name, which mail clients prefer
//     differently) or the name of an entry inside an archive part matches a
//     banned_names glob;
//   - "" (clean) otherwise.
// The priority is size-exceeded > banned-file-format > banned-file-name: the
// format is found from the bytes and cannot be dodged by renaming, so it is
// the stronger finding. All findings go into details ("names", "formats")
// and the attachments holding them into Verdict::parts, whichever label
// wins: each index is an attachment as mime::ParsedMessage defines it (a
// finding inside an attached message names the attached message), so a
// delete-attachment action removes exactly attachments the console lists.
// The message's own text (mime::Part::text) is not identified by format.
//
// Matching: globs use fnmatch(3), case-insensitively (ASCII), on base names
// (what follows the last '/' or '\'); names are tried as given and with
// trailing dots and spaces removed (Windows drops them: "a.exe. " runs as
// "a.exe"). Format patterns are globs too ("video/*"), on libmagic's
// lower-case MIME type.
//
// Archives are recognised by content (libmagic), never by name: zip, 7z,
// rar, tar, gzip, bzip2, xz, zstd, cab, cpio, iso9660, lha. A part of at
// most max_archive_size decoded bytes is read into memory and its entry
// names listed (file_types.h), one level deep: archives inside archives are
// not opened. max_archive_size = 0 means archives are never opened. Entries
// that are encrypted are noted in details ("encrypted"); labelling them is
// anti-virus's business. Archives too large or unreadable are noted too.
//
// Mail that does not parse is scanned as far as it parses (a bare body with
// no headers is one part). `enabled` in the options is the caller's to
// honour. Thread-safe (Engine contract); Scan only fails to scan (label
// "not-scanned", `error` set) when the message source cannot be read and
// nothing was found before that.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/status.h"
#include "scan/engine.h"
#include "scan/file_types.h"
#include "scan/options.h"

namespace mailvault::scan {

// A banned_names glob, normalised (trimmed, lower case): InvalidArgument if
// empty, longer than 255 bytes, holding '/' (it could never match a base
// name) or control characters.
Result<std::string> ParseBannedName(std::string_view glob);
// A banned_formats entry, normalised (trimmed, lower case): InvalidArgument
// unless "type/subtype" (globs allowed), at most 255 bytes, without blanks
// or control characters.
Result<std::string> ParseBannedFormat(std::string_view format);
// What Make refuses for a bad value, without loading libmagic; `mailvault
// config check` calls it too. InvalidArgument naming the key.
Status CheckContentOptions(const ContentOptions& options);

class ContentFilterEngine final : public Engine {
 public:
  // InvalidArgument as CheckContentOptions says; Unavailable if libmagic's
  // database cannot be loaded.
  static Result<std::unique_ptr<ContentFilterEngine>> Make(const ContentOptions& options);

  std::string_view name() const override { return "content"; }
  std::vector<std::string> covers() const override { return {"content-filtering"}; }
  std::vector<Verdict> Scan(const Message& message) override;

 private:
  ContentFilterEngine(ContentOptions options, std::unique_ptr<MagicPool> magic)
      : options_(std::move(options)), magic_(std::move(magic)) {}

  bool BannedName(std::string_view name) const;
  bool BannedFormat(std::string_view type) const;

  const ContentOptions options_;  // globs lower-cased
  const std::unique_ptr<MagicPool> magic_;
};

}  // namespace mailvault::scan
