/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmapdemo_inject.h: what the fault-injection tests share
 * (mmapdemo_failinit.c, mmapdemo_failmmap.c): small file helpers and the
 * debugfs attributes of failslab and fail_page_alloc, set for a run and
 * restored afterwards (Documentation/fault-injection/fault-injection.rst).
 */
#ifndef MMAPDEMO_INJECT_H
#define MMAPDEMO_INJECT_H

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INJECT_FAIL_NTH		"/proc/thread-self/fail-nth"
#define INJECT_MAKE_IT_FAIL	"/proc/thread-self/make-it-fail"
#define INJECT_DEBUGFS		"/sys/kernel/debug"

/* One debugfs attribute: the value a run wants, and the one it found. */
struct inject_attr {
	const char *path;
	const char *value;
	char saved[32];
};

static inline int inject_read_str(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static inline int inject_write_str(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, value, strlen(value));
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -1;
}

static inline bool inject_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Save every attribute's value. Return: NULL, or the path that is missing. */
static inline const char *inject_save(struct inject_attr *attrs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (inject_read_str(attrs[i].path, attrs[i].saved, sizeof(attrs[i].saved)))
			return attrs[i].path;
	return NULL;
}

/* Set every attribute. Return: NULL, or the path that could not be set. */
static inline const char *inject_set(const struct inject_attr *attrs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (inject_write_str(attrs[i].path, attrs[i].value))
			return attrs[i].path;
	return NULL;
}

/* Put back what inject_save() found, last set first. */
static inline void inject_restore(const struct inject_attr *attrs, size_t n)
{
	while (n--)
		inject_write_str(attrs[n].path, attrs[n].saved);
}

#endif /* MMAPDEMO_INJECT_H */
