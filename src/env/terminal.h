// Terminal input for the CLI: asking for a password on the terminal with
// echo off, the way passwd(1) does, so that it never shows on the screen or
// in a scroll-back buffer.
//
// Not thread-safe: ReadPasswordFromTerminal changes the terminal's settings
// and, while it waits, the process's handlers of SIGINT, SIGTERM, SIGHUP and
// SIGQUIT; two calls must not overlap. Meant for the CLI's main thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "mailvault/status.h"

namespace mailvault {

inline constexpr int kStdinFd = 0;
inline constexpr int kStderrFd = 2;

// Whether `fd` is open on a terminal.
bool IsTerminal(int fd);

// Turns echo off on terminal `fd` (discarding what was typed ahead, which
// was echoed), writes `prompt` to `prompt_fd`, reads one line from `fd` and
// returns it without its line end, then writes the newline the user's Enter
// did not echo and restores the terminal's settings. If SIGINT, SIGTERM,
// SIGHUP or SIGQUIT arrives while it waits, the settings are restored first
// and the signal then has its default effect (a signal the process ignores
// stays ignored).
//
// End of input (Ctrl-D) ends the line too; NotFound when it comes before
// any character. InvalidArgument when `fd` is not a terminal or the line is
// longer than `max_bytes` (the rest of the line is read and dropped, so it
// cannot end up in the shell); IOError when the terminal fails. Every byte
// of a refused line is wiped from memory.
Result<std::string> ReadPasswordFromTerminal(int fd, int prompt_fd, std::string_view prompt,
                                             size_t max_bytes);

}  // namespace mailvault
