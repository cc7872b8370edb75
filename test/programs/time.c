// SPDX-License-Identifier: MIT
/* Reads the clocks that go through the vDSO (no syscall) and prints them with ns resolution;
 * then, where the kernel maps the legacy vsyscall page, gettimeofday, time and getcpu called
 * through it (the kernel emulates them without a syscall instruction). */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static int has_vsyscall_page(void) {
  FILE *maps = fopen("/proc/self/maps", "r");
  char line[512];
  int found = 0;
  while (maps && fgets(line, sizeof line, maps)) found |= strstr(line, "[vsyscall]") != NULL;
  if (maps) fclose(maps);
  return found;
}

typedef long (*vsyscall_fn)(void *, void *, void *);
#define VSYSCALL(offset) ((vsyscall_fn)(0xffffffffff600000UL + (offset)))

int main(void) {
  struct timespec rt, mono;
  struct timeval tv;
  clock_gettime(CLOCK_REALTIME, &rt);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  time_t t = time(NULL);
  gettimeofday(&tv, NULL);
  printf("realtime %lld.%09ld\n", (long long)rt.tv_sec, rt.tv_nsec);
  printf("monotonic %lld.%09ld\n", (long long)mono.tv_sec, mono.tv_nsec);
  printf("time %lld\n", (long long)t);
  printf("gettimeofday %lld.%06ld\n", (long long)tv.tv_sec, (long)tv.tv_usec);
  if (!has_vsyscall_page()) {
    printf("no vsyscall page\n");
    return 0;
  }
  struct timeval vtv = {0, 0};
  struct timezone vtz = {-1, -1};
  time_t vt = 0;
  unsigned cpu = 99, node = 99;
  long g = VSYSCALL(0x000)(&vtv, &vtz, NULL);
  long r = VSYSCALL(0x400)(&vt, NULL, NULL);
  long c = VSYSCALL(0x800)(&cpu, &node, NULL);
  printf("vsyscall gettimeofday %ld %lld.%06ld tz %d %d\n", g, (long long)vtv.tv_sec, (long)vtv.tv_usec, vtz.tz_minuteswest, vtz.tz_dsttime);
  printf("vsyscall time %lld %lld\n", (long long)r, (long long)vt);
  printf("vsyscall getcpu %ld %u %u\n", c, cpu, node);
  return 0;
}
