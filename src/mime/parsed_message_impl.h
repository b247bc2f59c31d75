// The parsed tree behind a ParsedMessage, for this component's own files
// (metadata.cc reads the header fields, body.cc the lost-prologue case).
// Internal to src/mime.
#pragma once

#include <gmime/gmime.h>

#include <vector>

#include "mime/gmime_util.h"
#include "mime/parsed_message.h"

namespace mailvault::mime {

// One MIME entity as numbered. `container` holds `obj`: a GMimeMultipart
// (at child `slot`), a GMimeMessage (the inner message of an attached
// message part) or null for the top-level entity.
struct Entity {
  GMimeObject* obj = nullptr;
  int index = 0;
  int depth = 0;
  int parent = -1;  // index of the enclosing entity
  GMimeObject* container = nullptr;
  int slot = 0;
  int attachment = -1;   // Part::attachment_index
  int alternative = -1;  // Part::alternative
};

struct ParsedMessage::Impl {
  const ByteSource* raw = nullptr;
  // Shows GMime the address headers balanced while it builds the tree
  // (gmime_util.h); part contents are then read from `raw` itself.
  std::unique_ptr<AddressHeaderGuard> guard;
  GRef<GMimeStream> stream;  // the top-level source stream; before msg (substreams)
  GRef<GMimeMessage> msg;    // may be null
  bool headerless = false;   // unparsable: top() is the whole input as one part
  Status read_error;         // of the pre-scan
  WalkSummary summary;
  std::vector<Entity> entities;  // by index

  GMimeObject* top() const { return msg ? g_mime_message_get_mime_part(msg.get()) : nullptr; }
  // The first read error of the source so far.
  Status error() const;
};

}  // namespace mailvault::mime
