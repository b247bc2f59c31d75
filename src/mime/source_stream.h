// A read-only, seekable GMimeStream over a ByteSource.
//
// Lets GMime parse a message that is not in memory (an encrypted spool file
// behind a ByteSource): reads go to ByteSource::ReadAt through one small
// read-ahead buffer shared by the stream and its substreams. With
// g_mime_parser_set_persist_stream(TRUE) part contents stay substreams, so
// decoding a part reads it back from the source. The source must outlive the
// stream and every GMime object built from it. A read error of the source
// makes the read fail (-1, which GMime takes as end of data) and is kept for
// SourceStreamError. Writing fails. Like every GMime stream, one stream
// family must not be used from two threads at once.
#pragma once

#include <gmime/gmime.h>

#include <cstdint>

#include "mailvault/byte_source.h"
#include "mailvault/status.h"

namespace mailvault::mime {

// New stream (one reference, released with g_object_unref) over the first
// min(limit, source.size()) bytes of `source`. g_mime_init must have run.
GMimeStream* NewSourceStream(const ByteSource& source, uint64_t limit);

// The first read error of `stream` or of any stream sharing its source
// (substreams and their parent); OK if none. `stream` must come from
// NewSourceStream or be a substream of one.
Status SourceStreamError(GMimeStream* stream);

// Makes `stream` and every stream sharing its source read from `source`
// from now on; the read-ahead buffer is dropped. `source` must have the same
// size and outlive the streams. Metadata parsing reads through
// AddressHeaderGuard while GMime builds the tree and part contents unpatched
// after that.
void SwitchSourceStream(GMimeStream* stream, const ByteSource& source);

}  // namespace mailvault::mime
