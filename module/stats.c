// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo: the counters, as an ioctl snapshot and as sysfs files.
 *
 * Every number of struct mmapdemo_stats is also a read-only file in
 * /sys/class/misc/mmapdemo/, one value per file, so a lab can `cat` it:
 *
 *   faults sigbus mmaps vma_opens vma_closes   events (MMAPDEMO_IOC_RESET_STATS)
 *   huge_faults fault_pages                     (events, too)
 *   vmas mapped_pages                           what is mapped now
 *   pages contiguous mode                       the buffer and mode=
 *
 * Who may read them: the counters describe what the device's users do
 * (when and how much they map and touch: a side channel into other
 * processes, and a covert channel between them), so they are for whoever
 * may use the device, as GET_STATS on an open file is. They are registered
 * like the device node: root's alone (0400, as the node is 0600), and
 * udev/60-mmapdemo.rules gives both to group mmapdemo (counters 0440,
 * node 0660). pages, contiguous and mode are the load's configuration, as
 * public as /sys/module/mmapdemo/parameters: 0444.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/sysfs.h>

#include "mmapdemo.h"

void mmapdemo_stats_get(struct mmapdemo_dev *dev, struct mmapdemo_stats *st)
{
	struct mmapdemo_counters *c = &dev->counters;

	memset(st, 0, sizeof(*st));
	st->faults = atomic64_read(&c->faults);
	st->sigbus = atomic64_read(&c->sigbus);
	st->mmaps = atomic64_read(&c->mmaps);
	st->vma_opens = atomic64_read(&c->vma_opens);
	st->vma_closes = atomic64_read(&c->vma_closes);
	st->huge_faults = atomic64_read(&c->huge_faults);
	st->fault_pages = atomic64_read(&c->fault_pages);
	/* Kept by vma.c in mapped/open/close: nothing to walk. */
	st->vmas = atomic64_read(&dev->gauges.vmas);
	st->mapped_pages = atomic64_read(&dev->gauges.pages);
}

void mmapdemo_stats_reset(struct mmapdemo_dev *dev)
{
	struct mmapdemo_counters *c = &dev->counters;

	atomic64_set(&c->faults, 0);
	atomic64_set(&c->sigbus, 0);
	atomic64_set(&c->mmaps, 0);
	atomic64_set(&c->vma_opens, 0);
	atomic64_set(&c->vma_closes, 0);
	atomic64_set(&c->huge_faults, 0);
	atomic64_set(&c->fault_pages, 0);
}

/* misc_register() stores the struct miscdevice as the device's drvdata. */
static struct mmapdemo_dev *to_mmapdemo(struct device *d)
{
	struct miscdevice *misc = dev_get_drvdata(d);

	return container_of(misc, struct mmapdemo_dev, misc);
}

/* Every counter file shares one show function; the attribute holds the offset. */
static ssize_t mmapdemo_stat_show(struct device *d, struct device_attribute *attr,
				  char *out)
{
	struct dev_ext_attribute *ea = container_of(attr, struct dev_ext_attribute, attr);
	struct mmapdemo_stats st;

	mmapdemo_stats_get(to_mmapdemo(d), &st);
	return sysfs_emit(out, "%llu\n", *(u64 *)((char *)&st + (uintptr_t)ea->var));
}

#define MMAPDEMO_STAT_ATTR(field) {						\
	.attr = {								\
		.attr = { .name = #field, .mode = 0400 },			\
		.show = mmapdemo_stat_show,					\
	},									\
	.var = (void *)offsetof(struct mmapdemo_stats, field),			\
}

/* In the order of struct mmapdemo_stats. */
static struct dev_ext_attribute mmapdemo_stat_attrs[] = {
	MMAPDEMO_STAT_ATTR(faults),
	MMAPDEMO_STAT_ATTR(sigbus),
	MMAPDEMO_STAT_ATTR(mmaps),
	MMAPDEMO_STAT_ATTR(vma_opens),
	MMAPDEMO_STAT_ATTR(vma_closes),
	MMAPDEMO_STAT_ATTR(vmas),
	MMAPDEMO_STAT_ATTR(mapped_pages),
	MMAPDEMO_STAT_ATTR(huge_faults),
	MMAPDEMO_STAT_ATTR(fault_pages),
};

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

static struct attribute *mmapdemo_attrs[] = {
	&mmapdemo_stat_attrs[0].attr.attr,
	&mmapdemo_stat_attrs[1].attr.attr,
	&mmapdemo_stat_attrs[2].attr.attr,
	&mmapdemo_stat_attrs[3].attr.attr,
	&mmapdemo_stat_attrs[4].attr.attr,
	&mmapdemo_stat_attrs[5].attr.attr,
	&mmapdemo_stat_attrs[6].attr.attr,
	&mmapdemo_stat_attrs[7].attr.attr,
	&mmapdemo_stat_attrs[8].attr.attr,
	&dev_attr_pages.attr,
	&dev_attr_contiguous.attr,
	&dev_attr_mode.attr,
	NULL,
};

static const struct attribute_group mmapdemo_group = {
	.attrs = mmapdemo_attrs,
};

const struct attribute_group *mmapdemo_groups[] = {
	&mmapdemo_group,
	NULL,
};
