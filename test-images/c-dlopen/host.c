/* A C program that dlopen()s a plugin named on its command line and calls its `run` function. */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv) {
  const char *name = argc > 1 ? argv[1] : "upper";
  char path[256];
  snprintf(path, sizeof path, "/app/plugins/%s.so", name);
  void *plugin = dlopen(path, RTLD_NOW);
  if (!plugin) {
    fprintf(stderr, "host: %s\n", dlerror());
    return 1;
  }
  const char *(*run)(const char *) = (const char *(*)(const char *))dlsym(plugin, "run");
  if (!run) {
    fprintf(stderr, "host: %s has no run()\n", path);
    return 1;
  }
  printf("plugin %s: %s\n", name, run("scratch images"));
  return 0;
}
