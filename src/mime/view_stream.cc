// GMimeStream subclass over a borrowed std::string_view (see view_stream.h).
//
// Positions are absolute offsets into the view; bound_start/bound_end
// (bound_end -1 = to the end) restrict a substream, as in GMimeStreamMem,
// whose behaviour this copies minus writing and growing. eos() and read()
// agree (read returns 0 only at eos) because g_mime_stream_write_to_stream
// loops until eos. The type is registered once, the first time it is needed.
#include "mime/view_stream.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

namespace mailvault::mime {
namespace {

struct ViewStream {
  GMimeStream parent;
  const char* data;
  gint64 size;
};

struct ViewStreamClass {
  GMimeStreamClass parent_class;
};

GType ViewStreamType();

ViewStream* AsView(GMimeStream* s) { return reinterpret_cast<ViewStream*>(s); }

// End of the readable window: the bound, never beyond the bytes.
gint64 WindowEnd(GMimeStream* s) {
  gint64 size = AsView(s)->size;
  return s->bound_end == -1 ? size : std::min(s->bound_end, size);
}

ssize_t ViewRead(GMimeStream* s, char* buf, size_t len) {
  gint64 avail = WindowEnd(s) - s->position;
  if (avail <= 0 || s->position < 0) return 0;
  size_t n = std::min(static_cast<size_t>(avail), len);
  std::memcpy(buf, AsView(s)->data + s->position, n);
  s->position += static_cast<gint64>(n);
  return static_cast<ssize_t>(n);
}

ssize_t ViewWrite(GMimeStream*, const char*, size_t) {
  errno = EBADF;
  return -1;
}

int ViewFlush(GMimeStream*) { return 0; }
int ViewClose(GMimeStream*) { return 0; }

gboolean ViewEos(GMimeStream* s) { return s->position >= WindowEnd(s) ? TRUE : FALSE; }

int ViewReset(GMimeStream* s) {
  s->position = s->bound_start;
  return 0;
}

gint64 ViewSeek(GMimeStream* s, gint64 offset, GMimeSeekWhence whence) {
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

gint64 ViewTell(GMimeStream* s) { return s->position; }

gint64 ViewLength(GMimeStream* s) { return std::max<gint64>(0, WindowEnd(s) - s->bound_start); }

GMimeStream* ViewSubstream(GMimeStream* s, gint64 start, gint64 end) {
  auto* sub = static_cast<GMimeStream*>(g_object_new(ViewStreamType(), nullptr));
  AsView(sub)->data = AsView(s)->data;
  AsView(sub)->size = AsView(s)->size;
  g_mime_stream_construct(sub, start, end);
  return sub;  // g_mime_stream_substream sets super_stream and refs `s`
}

void ViewClassInit(gpointer klass, gpointer) {
  auto* c = static_cast<GMimeStreamClass*>(klass);
  c->read = ViewRead;
  c->write = ViewWrite;
  c->flush = ViewFlush;
  c->close = ViewClose;
  c->eos = ViewEos;
  c->reset = ViewReset;
  c->seek = ViewSeek;
  c->tell = ViewTell;
  c->length = ViewLength;
  c->substream = ViewSubstream;
}

void ViewInstanceInit(GTypeInstance* instance, gpointer) {
  auto* v = reinterpret_cast<ViewStream*>(instance);
  v->data = nullptr;
  v->size = 0;
}

GType ViewStreamType() {
  static std::once_flag once;
  static GType type = 0;
  std::call_once(once, [] {
    type = g_type_register_static_simple(GMIME_TYPE_STREAM, "MailvaultViewStream",
                                         sizeof(ViewStreamClass), ViewClassInit, sizeof(ViewStream),
                                         ViewInstanceInit, static_cast<GTypeFlags>(0));
  });
  return type;
}

}  // namespace

GMimeStream* NewViewStream(std::string_view bytes) {
  auto* s = static_cast<GMimeStream*>(g_object_new(ViewStreamType(), nullptr));
  AsView(s)->data = bytes.data();
  AsView(s)->size = static_cast<gint64>(bytes.size());
  g_mime_stream_construct(s, 0, -1);
  return s;
}

}  // namespace mailvault::mime
