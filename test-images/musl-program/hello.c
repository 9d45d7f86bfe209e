/* A dynamically linked musl program: its loader is /lib/ld-musl-x86_64.so.1, found by musl's rules. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  printf("hello from musl\n");
  printf("sqrt(2) = %.6f\n", sqrt(2.0));
  char *end;
  printf("strtol: %ld\n", strtol("0x2a", &end, 16));
  return 0;
}
