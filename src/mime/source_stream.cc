// GMimeStream subclass over a ByteSource (see source_stream.h).
//
// Positions are absolute offsets into the source,
// bound_start/bound_end restrict a substream, eos() and read() agree. The
// stream and all its substreams share one SourceReader (a read-ahead buffer
// and the first error) through a heap-allocated shared_ptr that each
// instance owns a copy of and drops in finalize.
#include "mime/source_stream.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

namespace mailvault::mime {
namespace {

constexpr size_t kReadAhead = 16 * 1024;

class SourceReader {
 public:
  SourceReader(const ByteSource& source, uint64_t limit)
      : source_(&source), end_(std::min(limit, source.size())) {}

  int64_t end() const { return static_cast<int64_t>(end_); }
  const Status& error() const { return error_; }
  void Switch(const ByteSource& source) {
    source_ = &source;
    buf_.clear();
    buf_off_ = 0;
  }

  // Copies up to `len` bytes at `pos` (< end) into `out`: > 0 bytes, or -1 on
  // a source error.
  ssize_t Read(uint64_t pos, char* out, size_t len) {
    if (pos < buf_off_ || pos >= buf_off_ + buf_.size()) {
      buf_.clear();
      buf_off_ = pos;
      size_t want = static_cast<size_t>(std::min<uint64_t>(kReadAhead, end_ - pos));
      Status s = source_->ReadAt(pos, want, &buf_);
      if (s.ok() && buf_.empty()) s = Status::IOError("message source ended early");
      if (!s.ok()) {
        buf_.clear();
        if (error_.ok()) error_ = s;
        errno = EIO;
        return -1;
      }
    }
    size_t at = static_cast<size_t>(pos - buf_off_);
    size_t n = std::min(len, buf_.size() - at);
    std::memcpy(out, buf_.data() + at, n);
    return static_cast<ssize_t>(n);
  }

 private:
  // Reads go here; a new one must show the same bytes at the same offsets
  // bar patches (Switch).
  const ByteSource* source_;
  const uint64_t end_;
  std::string buf_;
  uint64_t buf_off_ = 0;
  Status error_;
};

struct SourceStream {
  GMimeStream parent;
  std::shared_ptr<SourceReader>* reader;  // owned by this instance
};

struct SourceStreamClass {
  GMimeStreamClass parent_class;
};

GObjectClass* g_parent_class = nullptr;  // set once in class_init

GType SourceStreamType();

SourceReader& ReaderOf(GMimeStream* s) { return **reinterpret_cast<SourceStream*>(s)->reader; }

gint64 WindowEnd(GMimeStream* s) {
  gint64 size = ReaderOf(s).end();
  return s->bound_end == -1 ? size : std::min(s->bound_end, size);
}

ssize_t SourceRead(GMimeStream* s, char* buf, size_t len) {
  gint64 avail = WindowEnd(s) - s->position;
  if (avail <= 0 || s->position < 0 || len == 0) return 0;
  size_t want = std::min(static_cast<size_t>(avail), len);
  ssize_t n = ReaderOf(s).Read(static_cast<uint64_t>(s->position), buf, want);
  if (n > 0) s->position += n;
  return n;
}

ssize_t SourceWrite(GMimeStream*, const char*, size_t) {
  errno = EBADF;
  return -1;
}

int SourceFlush(GMimeStream*) { return 0; }
int SourceClose(GMimeStream*) { return 0; }

gboolean SourceEos(GMimeStream* s) {
  // A failed source reads as its end, so loops over read() terminate.
  if (!ReaderOf(s).error().ok()) return TRUE;
  return s->position >= WindowEnd(s) ? TRUE : FALSE;
}

int SourceReset(GMimeStream* s) {
  s->position = s->bound_start;
  return 0;
}

gint64 SourceSeek(GMimeStream* s, gint64 offset, GMimeSeekWhence whence) {
  gint64 end = WindowEnd(s);
  gint64 real;
  switch (whence) {
    case GMIME_STREAM_SEEK_SET:
      real = offset;
      break;
    case GMIME_STREAM_SEEK_CUR:
      real = s->position + offset;
      break;
    case GMIME_STREAM_SEEK_END:
      real = end + offset;
      break;
    default:
      errno = EINVAL;
      return -1;
  }
  if (real < s->bound_start || real > end) {
    errno = EINVAL;
    return -1;
  }
  s->position = real;
  return real;
}

gint64 SourceTell(GMimeStream* s) { return s->position; }

gint64 SourceLength(GMimeStream* s) { return std::max<gint64>(0, WindowEnd(s) - s->bound_start); }

GMimeStream* NewSharing(const std::shared_ptr<SourceReader>& reader, gint64 start, gint64 end) {
  auto* s = static_cast<GMimeStream*>(g_object_new(SourceStreamType(), nullptr));
  reinterpret_cast<SourceStream*>(s)->reader = new std::shared_ptr<SourceReader>(reader);
  g_mime_stream_construct(s, start, end);
  return s;
}

GMimeStream* SourceSubstream(GMimeStream* s, gint64 start, gint64 end) {
  // g_mime_stream_substream sets super_stream and refs `s`.
  return NewSharing(*reinterpret_cast<SourceStream*>(s)->reader, start, end);
}

void SourceFinalize(GObject* object) {
  auto* s = reinterpret_cast<SourceStream*>(object);
  delete s->reader;
  s->reader = nullptr;
  g_parent_class->finalize(object);
}

void SourceClassInit(gpointer klass, gpointer) {
  g_parent_class = static_cast<GObjectClass*>(g_type_class_peek_parent(klass));
  G_OBJECT_CLASS(klass)->finalize = SourceFinalize;
  auto* c = static_cast<GMimeStreamClass*>(klass);
  c->read = SourceRead;
  c->write = SourceWrite;
  c->flush = SourceFlush;
  c->close = SourceClose;
  c->eos = SourceEos;
  c->reset = SourceReset;
  c->seek = SourceSeek;
  c->tell = SourceTell;
  c->length = SourceLength;
  c->substream = SourceSubstream;
}

void SourceInstanceInit(GTypeInstance* instance, gpointer) {
  reinterpret_cast<SourceStream*>(instance)->reader = nullptr;
}

GType SourceStreamType() {
  static std::once_flag once;
  static GType type = 0;
  std::call_once(once, [] {
    type = g_type_register_static_simple(
        GMIME_TYPE_STREAM, "MailvaultSourceStream", sizeof(SourceStreamClass), SourceClassInit,
        sizeof(SourceStream), SourceInstanceInit, static_cast<GTypeFlags>(0));
  });
  return type;
}

}  // namespace

GMimeStream* NewSourceStream(const ByteSource& source, uint64_t limit) {
  return NewSharing(std::make_shared<SourceReader>(source, limit), 0, -1);
}

Status SourceStreamError(GMimeStream* stream) { return ReaderOf(stream).error(); }

void SwitchSourceStream(GMimeStream* stream, const ByteSource& source) {
  ReaderOf(stream).Switch(source);
}

}  // namespace mailvault::mime
