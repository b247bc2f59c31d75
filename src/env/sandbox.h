// ConfineToPipes: shuts the calling process in with its stdin and stdout,
// for a helper that reads hostile input (the preview's HTML sanitizer,
// preview/helper_main.cc).
//
// After a successful call the process cannot open, create or connect
// anything, cannot start a program or a thread, cannot signal anyone, and
// dies (SIGSYS) on any system call outside the allow-list below. What it
// may still do: read fd 0, write fd 1, exit, and manage its own memory the
// way glibc's malloc does. Irreversible. Call it single-threaded, early,
// before the first byte of input is looked at.
#pragma once

#include <cstdint>

#include "mailvault/status.h"

namespace mailvault {

struct ConfineOptions {
  uint64_t max_memory_bytes = 512ull << 20;  // RLIMIT_AS: address space
  uint64_t cpu_seconds = 5;                  // RLIMIT_CPU: SIGXCPU, then SIGKILL a second on
};

// In order: closes every descriptor above 2; RLIMIT_CORE 0 and not
// dumpable; RLIMIT_FSIZE 0, RLIMIT_NOFILE 0 (no new descriptor),
// RLIMIT_NPROC 0 (no new process), RLIMIT_AS and RLIMIT_CPU as given;
// no_new_privs; then a seccomp filter whose default action kills the
// process, allowing only
//   read(0, ...), write(1, ...), exit, exit_group, rt_sigreturn,
//   brk, mmap and mprotect without PROT_EXEC, munmap, mremap, madvise.
// Syscalls of another ABI (i386, x32) kill the process too. IOError if a
// step fails (the caller must then exit without reading its input).
Status ConfineToPipes(const ConfineOptions& options);

}  // namespace mailvault
