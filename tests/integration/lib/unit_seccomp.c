// unit_seccomp LIST PROGRAM [ARGS...]: runs PROGRAM under the system call
// filter a systemd unit would give it, for package_test.sh where systemd is
// not PID 1. LIST holds the allowed system call names, one per line (the
// unit's SystemCallFilter= expanded by systemd-analyze); every other call of
// the native architecture fails with EPERM (SystemCallErrorNumber=EPERM),
// and a second filter adds MemoryDenyWriteExecute=: no mmap that is both
// writable and executable, no mprotect/pkey_mprotect to executable.
// Run it under setpriv --no-new-privs (it sets no_new_privs itself too).
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

static int fail(const char* what, int err) {
  fprintf(stderr, "unit_seccomp: %s: %s\n", what, strerror(err < 0 ? -err : err));
  return 111;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: unit_seccomp LIST PROGRAM [ARGS...]\n");
    return 2;
  }
  FILE* list = fopen(argv[1], "r");
  if (list == NULL) return fail(argv[1], errno);
  scmp_filter_ctx allow = seccomp_init(SCMP_ACT_ERRNO(EPERM));
  if (allow == NULL) return fail("seccomp_init", ENOMEM);
  char line[128];
  int n = 0;
  while (fgets(line, sizeof line, list) != NULL) {
    line[strcspn(line, " \t\r\n")] = '\0';
    if (line[0] == '\0') continue;
    int nr = seccomp_syscall_resolve_name(line);
    if (nr == __NR_SCMP_ERROR || nr < 0) continue;  // not on this architecture
    int err = seccomp_rule_add(allow, SCMP_ACT_ALLOW, nr, 0);
    if (err != 0 && err != -EEXIST) return fail(line, err);
    ++n;
  }
  fclose(list);
  if (n == 0) return fail("empty allow list", EINVAL);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail("no_new_privs", errno);
  int err = seccomp_load(allow);
  if (err != 0) return fail("seccomp_load (allow list)", err);

  scmp_filter_ctx mdwe = seccomp_init(SCMP_ACT_ALLOW);
  if (mdwe == NULL) return fail("seccomp_init", ENOMEM);
  struct scmp_arg_cmp wx = {.arg = 2, .op = SCMP_CMP_MASKED_EQ,
                            .datum_a = PROT_WRITE | PROT_EXEC, .datum_b = PROT_WRITE | PROT_EXEC};
  struct scmp_arg_cmp x = {.arg = 2, .op = SCMP_CMP_MASKED_EQ,
                           .datum_a = PROT_EXEC, .datum_b = PROT_EXEC};
  if ((err = seccomp_rule_add(mdwe, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mmap), 1, wx)) != 0 ||
      (err = seccomp_rule_add(mdwe, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mprotect), 1, x)) != 0 ||
      (err = seccomp_rule_add(mdwe, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(pkey_mprotect), 1, x)) != 0)
    return fail("seccomp_rule_add (MemoryDenyWriteExecute)", err);
  if ((err = seccomp_load(mdwe)) != 0) return fail("seccomp_load (MemoryDenyWriteExecute)", err);
  execv(argv[2], argv + 2);
  return fail(argv[2], errno);
}
