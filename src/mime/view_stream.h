// A read-only, seekable GMimeStream over bytes the caller owns.
//
// Lets GMime parse a message held in memory without copying it: with
// g_mime_parser_set_persist_stream(TRUE) the parser keeps part contents as
// substreams (bounded views of this stream) instead of copies, so a 50 MB
// attachment costs no extra 50 MB. The bytes must outlive the stream and
// every GMime object built from it (parsed messages hold references to
// substreams); ExtractMetadata drops all of them before it returns. Writing
// fails. Like every GMime stream, one object must not be used from two
// threads at once.
#pragma once

#include <gmime/gmime.h>

#include <string_view>

namespace mailvault::mime {

// New stream (one reference, released with g_object_unref) over `bytes`.
// g_mime_init must have run.
GMimeStream* NewViewStream(std::string_view bytes);

}  // namespace mailvault::mime
