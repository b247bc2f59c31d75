// ConfineToPipes (see sandbox.h). libseccomp is used here and nowhere else.
#include "env/sandbox.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace mailvault {
namespace {

Status Errno(const std::string& what, int err) {
  return Status::IOError(what + ": " + std::strerror(err));
}

Status Limit(int resource, rlim_t value, const char* name) {
  struct rlimit r = {value, value};
  if (::setrlimit(resource, &r) != 0) return Errno(std::string("setrlimit ") + name, errno);
  return Status::Ok();
}

// Owns a libseccomp filter context.
class Filter {
 public:
  Filter() : ctx_(seccomp_init(SCMP_ACT_KILL_PROCESS)) {}
  ~Filter() {
    if (ctx_ != nullptr) seccomp_release(ctx_);
  }
  Filter(const Filter&) = delete;
  Filter& operator=(const Filter&) = delete;
  scmp_filter_ctx get() const { return ctx_; }

 private:
  scmp_filter_ctx ctx_;
};

Status Allow(scmp_filter_ctx ctx, int syscall, const char* name) {
  int err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, syscall, 0);
  if (err != 0) return Errno(std::string("seccomp_rule_add ") + name, -err);
  return Status::Ok();
}

Status AllowIf(scmp_filter_ctx ctx, int syscall, const char* name, scmp_arg_cmp cmp) {
  int err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, syscall, 1, cmp);
  if (err != 0) return Errno(std::string("seccomp_rule_add ") + name, -err);
  return Status::Ok();
}

// Argument comparisons, every field named (libseccomp's SCMP_A0 macros
// leave datum_b to a designated-initializer default that clang's
// -Wmissing-field-initializers refuses).
scmp_arg_cmp ArgEquals(unsigned int arg, scmp_datum_t value) {
  return scmp_arg_cmp{arg, SCMP_CMP_EQ, value, 0};
}
scmp_arg_cmp ArgMaskedEquals(unsigned int arg, scmp_datum_t mask, scmp_datum_t value) {
  return scmp_arg_cmp{arg, SCMP_CMP_MASKED_EQ, mask, value};
}

Status LoadFilter() {
  Filter filter;
  scmp_filter_ctx ctx = filter.get();
  if (ctx == nullptr) return Status::IOError("seccomp_init failed");
  // no_new_privs is libseccomp's default (SCMP_FLTATR_CTL_NNP); say so.
  int err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
  if (err != 0) return Errno("seccomp no_new_privs", -err);
  MV_RETURN_IF_ERROR(AllowIf(ctx, SCMP_SYS(read), "read", ArgEquals(0, 0)));
  MV_RETURN_IF_ERROR(AllowIf(ctx, SCMP_SYS(write), "write", ArgEquals(0, 1)));
  MV_RETURN_IF_ERROR(Allow(ctx, SCMP_SYS(exit), "exit"));
  MV_RETURN_IF_ERROR(Allow(ctx, SCMP_SYS(exit_group), "exit_group"));
  MV_RETURN_IF_ERROR(Allow(ctx, SCMP_SYS(rt_sigreturn), "rt_sigreturn"));
  // What glibc's malloc and free call: brk for the main arena, mmap for
  // large blocks and when brk fails, mremap for realloc of those, munmap
  // and madvise to give memory back. Never executable memory.
  MV_RETURN_IF_ERROR(Allow(ctx, SCMP_SYS(brk), "brk"));
  MV_RETURN_IF_ERROR(AllowIf(ctx, SCMP_SYS(mmap), "mmap", ArgMaskedEquals(2, PROT_EXEC, 0)));
  MV_RETURN_IF_ERROR(
      AllowIf(ctx, SCMP_SYS(mprotect), "mprotect", ArgMaskedEquals(2, PROT_EXEC, 0)));
  MV_RETURN_IF_ERROR(Allow(ctx, SCMP_SYS(munmap), "munmap"));
  MV_RETURN_IF_ERROR(Allow(ctx, SCMP_SYS(mremap), "mremap"));
  MV_RETURN_IF_ERROR(Allow(ctx, SCMP_SYS(madvise), "madvise"));
  err = seccomp_load(ctx);
  if (err != 0) return Errno("seccomp_load", -err);
  return Status::Ok();
}

}  // namespace

Status ConfineToPipes(const ConfineOptions& options) {
  if (::close_range(3, ~0u, 0) != 0) return Errno("close_range", errno);
  MV_RETURN_IF_ERROR(Limit(RLIMIT_CORE, 0, "RLIMIT_CORE"));
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return Errno("PR_SET_DUMPABLE", errno);
  MV_RETURN_IF_ERROR(Limit(RLIMIT_FSIZE, 0, "RLIMIT_FSIZE"));
  MV_RETURN_IF_ERROR(Limit(RLIMIT_NOFILE, 0, "RLIMIT_NOFILE"));
  MV_RETURN_IF_ERROR(Limit(RLIMIT_NPROC, 0, "RLIMIT_NPROC"));
  MV_RETURN_IF_ERROR(Limit(RLIMIT_AS, options.max_memory_bytes, "RLIMIT_AS"));
  // The soft limit sends SIGXCPU (which kills: no handler), the hard one a
  // second later SIGKILL.
  struct rlimit cpu = {options.cpu_seconds, options.cpu_seconds + 1};
  if (::setrlimit(RLIMIT_CPU, &cpu) != 0) return Errno("setrlimit RLIMIT_CPU", errno);
  return LoadFilter();
}

}  // namespace mailvault
