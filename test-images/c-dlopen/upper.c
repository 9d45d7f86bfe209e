#include <ctype.h>
static char buffer[256];
const char *run(const char *text) {
  int i = 0;
  for (; text[i] && i < 255; i++) buffer[i] = (char)toupper((unsigned char)text[i]);
  buffer[i] = '\0';
  return buffer;
}
