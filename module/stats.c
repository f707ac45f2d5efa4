// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo: the counters, as an ioctl snapshot and as sysfs files.
 *
 * Every counter of MMAPDEMO_STATS() (the uapi header: their one list,
 * events and gauges) is also a read-only file in /sys/class/misc/mmapdemo/,
 * named after it, one value per file, so a lab can `cat` it. Beside them:
 *
 *   pages contiguous mode                       the buffer and mode=
 *   modes                                       the modes this kernel can do
 *
 * Who may read them: the counters describe what the device's users do
 * (when and how much they map and touch: a side channel into other
 * processes, and a covert channel between them), so they are for whoever
 * may use the device, as GET_STATS on an open file is. They are registered
 * like the device node: root's alone (0400, as the node is 0600), and
 * udev/60-mmapdemo.rules gives both to group mmapdemo (counters 0440,
 * node 0660). pages, contiguous, mode and modes are the load's
 * configuration, as public as /sys/module/mmapdemo/parameters: 0444.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/sysfs.h>

#include "mmapdemo.h"

/* Which counters are gauges: never reset, kept by vma.c. */
#define MMAPDEMO_KIND_EVENT	false
#define MMAPDEMO_KIND_GAUGE	true
#define MMAPDEMO_STAT_IS_GAUGE(n, kind) MMAPDEMO_KIND_##kind,

/* In the order of enum mmapdemo_stat, as MMAPDEMO_STATS() lists them. */
static const bool mmapdemo_stat_is_gauge[MMAPDEMO_NR_STATS] = {
	MMAPDEMO_STATS(MMAPDEMO_STAT_IS_GAUGE)
};

void mmapdemo_stats_get(struct mmapdemo_dev *dev, struct mmapdemo_stats *st)
{
	/* struct mmapdemo_stats is MMAPDEMO_STATS() as __u64s, in its order. */
	__u64 *out = (__u64 *)st;
	unsigned int i;

	BUILD_BUG_ON(sizeof(*st) != MMAPDEMO_NR_STATS * sizeof(__u64));
	for (i = 0; i < MMAPDEMO_NR_STATS; i++)
		out[i] = atomic64_read(&dev->counters.v[i]);
	/* Kept by vma.c in mapped/open/close: nothing to walk. */
	st->vmas = atomic64_read(&dev->gauges.vmas);
	st->mapped_pages = atomic64_read(&dev->gauges.pages);
}

void mmapdemo_stats_reset(struct mmapdemo_dev *dev)
{
	unsigned int i;

	for (i = 0; i < MMAPDEMO_NR_STATS; i++)
		if (!mmapdemo_stat_is_gauge[i])
			atomic64_set(&dev->counters.v[i], 0);
}

/* misc_register() stores the struct miscdevice as the device's drvdata. */
static struct mmapdemo_dev *to_mmapdemo(struct device *d)
{
	struct miscdevice *misc = dev_get_drvdata(d);

	return container_of(misc, struct mmapdemo_dev, misc);
}

/* Every counter file shares one show function; the attribute holds its number. */
static ssize_t mmapdemo_stat_show(struct device *d, struct device_attribute *attr,
				  char *out)
{
	struct dev_ext_attribute *ea = container_of(attr, struct dev_ext_attribute, attr);
	struct mmapdemo_stats st;

	mmapdemo_stats_get(to_mmapdemo(d), &st);
	return sysfs_emit(out, "%llu\n", ((__u64 *)&st)[(uintptr_t)ea->var]);
}

/* One file per counter of MMAPDEMO_STATS(), named after it, in its order. */
#define MMAPDEMO_STAT_ATTR(n, kind) {						\
	.attr = {								\
		.attr = { .name = #n, .mode = 0400 },				\
		.show = mmapdemo_stat_show,					\
	},									\
	.var = (void *)MMAPDEMO_STAT_##n,					\
},

static struct dev_ext_attribute mmapdemo_stat_attrs[MMAPDEMO_NR_STATS] = {
	MMAPDEMO_STATS(MMAPDEMO_STAT_ATTR)
};

/* Filled by mmapdemo_stats_init(). */
static struct attribute *mmapdemo_stat_attr_ptrs[MMAPDEMO_NR_STATS + 1];

static const struct attribute_group mmapdemo_stat_group = {
	.attrs = mmapdemo_stat_attr_ptrs,
};

/* Before misc_register(): the counter files into their group. */
void mmapdemo_stats_init(void)
{
	unsigned int i;

	for (i = 0; i < MMAPDEMO_NR_STATS; i++)
		mmapdemo_stat_attr_ptrs[i] = &mmapdemo_stat_attrs[i].attr.attr;
}

static ssize_t pages_show(struct device *d, struct device_attribute *attr, char *out)
{
	return sysfs_emit(out, "%lu\n", to_mmapdemo(d)->buf.npages);
}
static DEVICE_ATTR_RO(pages);

static ssize_t contiguous_show(struct device *d, struct device_attribute *attr, char *out)
{
	return sysfs_emit(out, "%d\n", to_mmapdemo(d)->buf.contiguous);
}
static DEVICE_ATTR_RO(contiguous);

static ssize_t mode_show(struct device *d, struct device_attribute *attr, char *out)
{
	return sysfs_emit(out, "%s\n", to_mmapdemo(d)->variant->name);
}
static DEVICE_ATTR_RO(mode);

/* The modes this build and kernel can do, as mode= and SET_MODE take them. */
static ssize_t modes_show(struct device *d, struct device_attribute *attr, char *out)
{
	size_t len = mmapdemo_mode_names(out, PAGE_SIZE - 1, " ");

	out[len++] = '\n';
	return len;
}
static DEVICE_ATTR_RO(modes);

static struct attribute *mmapdemo_attrs[] = {
	&dev_attr_pages.attr,
	&dev_attr_contiguous.attr,
	&dev_attr_mode.attr,
	&dev_attr_modes.attr,
	NULL,
};

static const struct attribute_group mmapdemo_group = {
	.attrs = mmapdemo_attrs,
};

const struct attribute_group *mmapdemo_groups[] = {
	&mmapdemo_stat_group,
	&mmapdemo_group,
	NULL,
};
