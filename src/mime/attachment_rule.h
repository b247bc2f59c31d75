// The one definition of an attachment (see parsed_message.h for the rule and
// why). Internal to src/mime: the walker in parsed_message.cc asks it for
// every MIME entity not already inside an attachment.
#pragma once

#include <gmime/gmime.h>

#include <optional>

#include "mailvault/copy.h"

namespace mailvault::mime {

// The attachment `obj` is, with its name (cleaned UTF-8, may be empty), type
// (lower case) and size (decoded bytes; an attached message's length as
// GMime writes it); nullopt if `obj` is a multipart or the message's own
// text. With `measure` false the size is left 0 (measuring reads the
// content): the walker decides first and measures only when asked.
std::optional<Attachment> AttachmentOf(GMimeObject* obj, bool measure = true);

}  // namespace mailvault::mime
