/*
 * The `dit` launcher of dit.tar: a static program (no loader, no libc of the image) that starts the
 * bundled Node.js through the bundled loader, so dit runs in any image -- no Node.js, no shell,
 * musl instead of glibc -- and never sees the image's own libraries:
 *
 *   dit ARGS...          -> dit.d/lib/ld-linux-x86-64.so.2 --inhibit-cache --library-path dit.d/lib
 *                              dit.d/bin/node dit.d/dit.cjs ARGS...
 *   dit.d/strace ARGS... -> the same loader running dit.d/bin/strace ARGS...
 *
 * The loader's own options (not LD_LIBRARY_PATH) keep the library path out of the environment, so
 * the commands dit traces and verifies run with the image's libraries, as they will in production.
 * Which program to start is chosen by the name this file is run as.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void die(const char *what, const char *detail) {
  fprintf(stderr, "dit: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(127);
}

/* The directory this program lives in: /proc/self/exe, or argv[0] where /proc is not mounted. */
static void own_directory(const char *argv0, char *out) {
  char path[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n > 0) {
    path[n] = '\0';
  } else if (strchr(argv0, '/') && realpath(argv0, path)) {
    /* found through the name it was started as */
  } else {
    die("cannot find where dit is installed (no /proc and no path in argv[0])", NULL);
  }
  char *slash = strrchr(path, '/');
  if (slash == path) slash[1] = '\0';
  else *slash = '\0';
  strcpy(out, path);
}

int main(int argc, char **argv) {
  char self[PATH_MAX];
  own_directory(argv[0], self);
  const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
  int as_strace = strcmp(name, "strace") == 0;

  /* For `dit` the bundle is the dit.d folder beside it; the strace wrapper lives inside dit.d. */
  char home[PATH_MAX];
  if (snprintf(home, sizeof home, as_strace ? "%s" : "%s/dit.d", self) >= (int)sizeof home) die("path too long", self);

  char loader[PATH_MAX], libs[PATH_MAX], program[PATH_MAX], script[PATH_MAX], strace[PATH_MAX];
  snprintf(loader, sizeof loader, "%s/lib/ld-linux-x86-64.so.2", home);
  snprintf(libs, sizeof libs, "%s/lib", home);
  snprintf(program, sizeof program, as_strace ? "%s/bin/strace" : "%s/bin/node", home);
  snprintf(script, sizeof script, "%s/dit.cjs", home);
  snprintf(strace, sizeof strace, "%s/strace", home);

  char **args = calloc((size_t)argc + 8, sizeof *args);
  if (!args) die("out of memory", NULL);
  int i = 0;
  args[i++] = loader;
  args[i++] = "--inhibit-cache";
  args[i++] = "--library-path";
  args[i++] = libs;
  args[i++] = program;
  if (!as_strace) args[i++] = script;
  for (int k = 1; k < argc; k++) args[i++] = argv[k];
  args[i] = NULL;

  if (!as_strace) {
    setenv("DIT_HOME", home, 1);
    setenv("DIT_STRACE", strace, 1);
  }
  execv(loader, args);
  die("cannot start the bundled loader", strerror(errno));
  return 127;
}
