# SPDX-License-Identifier: GPL-2.0
#
# mmapdemo: top-level Makefile.
#
#   make                 build mmapdemo.ko for the running kernel (KDIR= to override)
#   make install         install it (modules_install + depmod) and the udev rule
#   make userspace       build the demos and the selftests into build/bin/
#   make demo            build everything, boot the QEMU VM, load the module, run the demos
#   make check           build everything, run the whole test suite in the QEMU VM
#   make check KERNEL=6.12   the same on another kernel line: 6.1 (default), 6.12, 7.2
#   make stress DURATION=600 [SEED=N]   only the stress program in the VM (default 30 s)
#   make matrix          make check on all three kernel lines, and a summary table
#   make shell           boot the VM with everything loaded and give a root shell
#   make bench           benchmark every variant against core mm in the VM (1 GiB, about
#                        15 min under TCG): plots and docs/benchmarks.md (QUICK=1: 2 min, build/)
#   make check KERNEL=debug  the suite on a debug kernel (KASAN, lockdep, kmemleak...)
#                        built once from Debian's linux-source-6.1, plus fault
#                        injection at load and a short trinity run
#   make fuzz DURATION=60 SEED=1  trinity against the device on the debug kernel
#   make lint            checkpatch --strict, W=1, sparse (C=2), -Werror userspace, shellcheck
#   make labs            write each lab exercise's skeleton into labs/NN-name/work/ (labs/README.md)
#   make lab-check N     build your skeleton of exercise N, check it in the VM (also N=1;
#                        SOLUTION=1: the real module, i.e. the expected output)
#   make clean           remove every build product (distclean: also the kernel-line chroots)
#   VM options (demo check stress shell bench fuzz): KERNEL= KVER= KROOT= ACCEL=kvm VM_TIMEOUT= MMAPDEMO_PARAMS= VERBOSE=1
#
# The module is built by Kbuild (see ./Kbuild); this file only drives it.

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build

BUILD   := $(CURDIR)/build
BIN     := $(BUILD)/bin
KSFT    := $(BUILD)/kselftest

CC      ?= gcc
USER_CFLAGS := -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	       -I$(CURDIR)/include/uapi -I$(CURDIR)/userspace
USER_LDFLAGS := $(if $(STATIC),-static) -pthread

# Demos: one program per file in userspace/ (libmmapdemo.c is the shared helper).
DEMO_SRCS := $(filter-out userspace/libmmapdemo.c,$(wildcard userspace/*.c))
DEMOS     := $(patsubst userspace/%.c,$(BIN)/%,$(DEMO_SRCS))
# Selftests: kselftest_harness programs in selftests/.
TEST_SRCS := $(wildcard selftests/*.c)
TESTS     := $(patsubst selftests/%.c,$(BIN)/%,$(TEST_SRCS))
USER_DEPS := include/uapi/linux/mmapdemo.h userspace/libmmapdemo.h userspace/libmmapdemo.c \
	     $(wildcard selftests/*.h)

.PHONY: all module modules install userspace demo check stress shell bench fuzz matrix lint \
	labs lab-check clean distclean help

all: module

module modules:
	@if [ ! -d "$(KDIR)" ]; then \
		echo "mmapdemo: no kernel build tree at $(KDIR)." >&2; \
		echo "  Install the headers of the kernel you build for, e.g. on Debian:" >&2; \
		echo "    apt-get install linux-headers-$(KVER)" >&2; \
		echo "  or point KDIR= at a configured kernel tree. (make check builds for the VM's kernel.)" >&2; \
		exit 1; \
	fi
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# The udev rule opens /dev/mmapdemo to group "mmapdemo" (udev/60-mmapdemo.rules).
UDEVRULESDIR ?= /etc/udev/rules.d

install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	depmod -a $(KVER)
	install -D -m 644 udev/60-mmapdemo.rules $(DESTDIR)$(UDEVRULESDIR)/60-mmapdemo.rules

userspace: $(DEMOS) $(TESTS)

$(BIN)/%: userspace/%.c $(USER_DEPS) | $(BIN)
	$(CC) $(USER_CFLAGS) -o $@ $< userspace/libmmapdemo.c $(USER_LDFLAGS)

$(BIN)/%: selftests/%.c $(USER_DEPS) $(KSFT)/kselftest_harness.h | $(BIN)
	$(CC) $(USER_CFLAGS) -I$(KSFT) -o $@ $< userspace/libmmapdemo.c $(USER_LDFLAGS)

# The kselftest framework of Debian's newest linux-source (scripts/kselftest.sh).
$(KSFT)/kselftest_harness.h:
	scripts/kselftest.sh $(KSFT)

$(BIN):
	mkdir -p $@

demo check shell fuzz:
	scripts/vm.sh $@

# The run's CSV goes to build/bench/; the report turns it into plots and
# docs/benchmarks.md (QUICK=1: into build/bench/ only, docs/ untouched).
bench:
	scripts/vm.sh bench
	scripts/bench-report.sh

# DURATION= and SEED= reach scripts/vm.sh through the environment.
stress:
	scripts/vm.sh stress

matrix:
	scripts/matrix.sh

lint:
	scripts/lint.sh

labs:
	scripts/labs.sh gen

# `make lab-check 1`: the number is a goal too; it does nothing itself.
ifeq (lab-check,$(firstword $(MAKECMDGOALS)))
LAB_N := $(or $(N),$(word 2,$(MAKECMDGOALS)))
ifneq ($(word 2,$(MAKECMDGOALS)),)
$(word 2,$(MAKECMDGOALS)):
	@:
endif
endif
lab-check:
	@scripts/labs.sh check $(LAB_N)

clean:
	-[ -d "$(KDIR)" ] && $(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(BUILD)
	find . \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		-o -name '.*.cmd' -o -name '*.symvers' -o -name 'modules.order' \) -delete

# The kernel-line chroots (scripts/chroot.sh), never while something is
# mounted in them (in_chroot bind-mounts this tree at /src).
CACHE ?= $(or $(MMAPDEMO_CACHE),/var/cache/mmapdemo)
distclean: clean
	@if grep -q " $(CACHE)/" /proc/self/mounts; then \
		echo "mmapdemo: something is mounted under $(CACHE): not removing it" >&2; \
		grep " $(CACHE)/" /proc/self/mounts >&2; exit 1; \
	fi
	rm -rf $(CACHE)

help:
	@sed -n '3,25p' Makefile
