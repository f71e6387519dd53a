/* The workload of the probe benchmark: N openat+close pairs, of one file (a repeated
 * behavior) or of N distinct files (new behavior every time). Prints the elapsed
 * nanoseconds of the loop alone.
 *   openloop same FILE N      open the same file N times
 *   openloop distinct DIR N   open DIR/f0 .. DIR/f(N-1), each once */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	long n = atol(argv[3]);
	int distinct = strcmp(argv[1], "distinct") == 0;
	char path[4096];
	long long start = now_ns();
	for (long i = 0; i < n; i++) {
		const char *p = argv[2];
		if (distinct) {
			snprintf(path, sizeof(path), "%s/f%ld", argv[2], i);
			p = path;
		}
		int fd = open(p, O_RDONLY);
		if (fd < 0) {
			perror(p);
			return 1;
		}
		close(fd);
	}
	printf("%lld\n", now_ns() - start);
	return 0;
}
