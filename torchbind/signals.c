// signals.c - the process keeps the SIGHUP and SIGINT it was started with
// ignored (nohup; a non-interactive shell's `cmd &`) ignored, whatever the
// libraries that come with libtorch do when they load.
//
// Debian 13's libtorch 2.6 links OpenMPI, which loads UCX, whose libucs
// installs a handler for SIGHUP when it loads (UCX_DEBUG_SIGNO, SIGHUP by
// default): it runs before Go's runtime starts, so Go then saw SIGHUP as
// handled, not ignored, and a command under nohup stopped when its terminal
// closed. These two signals are the ones whose inherited "ignore" Go's
// runtime keeps (os/signal: signal.Ignored).
//
// The executable's .preinit_array runs before any shared library's
// initializer, its constructors after them and before Go's runtime: the
// first notes what the process was started with, the second puts "ignore"
// back where a library changed it.
#include <signal.h>

static int ignored_at_start[2];
static const int kept[2] = {SIGHUP, SIGINT};

static int is_ignored(int sig) {
  struct sigaction sa;
  return sigaction(sig, 0, &sa) == 0 && !(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_IGN;
}

static void lv_note_ignored(int argc, char **argv, char **envp) {
  (void)argc, (void)argv, (void)envp;
  for (int i = 0; i < 2; i++) ignored_at_start[i] = is_ignored(kept[i]);
}

__attribute__((used, section(".preinit_array"))) static void (*lv_note_ignored_ptr)(int, char **, char **) =
    lv_note_ignored;

__attribute__((constructor)) static void lv_keep_ignored(void) {
  for (int i = 0; i < 2; i++)
    if (ignored_at_start[i] && !is_ignored(kept[i])) signal(kept[i], SIG_IGN);
}
