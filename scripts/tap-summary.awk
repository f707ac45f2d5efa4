# SPDX-License-Identifier: GPL-2.0
#
# scripts/tap-summary.awk: judge the (nested) TAP that the guest printed on
# ttyS1. Used by scripts/vm.sh; runs under mawk and gawk.
#
#   awk -f scripts/tap-summary.awk build/vm/results.tap
#
# Nesting: each "# " prefix is one level (the kselftest runner's convention).
# A result line that has deeper result lines just before it is a wrapper
# (e.g. `ok 1 suite mmapdemo_rw`, standing for a whole harness binary): its
# children are counted instead of it. Every other result line is a leaf and
# is counted. A failed wrapper whose children all passed (a binary that
# crashed or timed out) counts as one failure.
#
# Directives: `# SKIP` on ok = skipped, `# XFAIL` on ok = passed, `# XPASS` =
# failed (an expected failure that passed is a stale test). Every `not ok` is
# a failure, whatever its directive.
#
# Output, one item per line, for vm.sh to read:
#   counts PASSED FAILED SKIPPED
#   problem TEXT        (zero or more: each reason the TAP fails the run)
#   failline LINE       (each failing result line, as printed)

function reset_from(d,   k) {
	for (k = d; k <= MAXD; k++) {
		nchild[k] = 0; deeper[k] = 0; subfail[k] = 0
		plan[k + 1] = -1; planline[k + 1] = ""
	}
}

function fail_leaf(d, line,   k) {
	failed++
	for (k = 0; k < d; k++)
		subfail[k]++
	failline[++nfail] = line
}

BEGIN {
	MAXD = 16
	passed = failed = skipped = 0
	nprob = nfail = 0
	plan[0] = -1
	reset_from(0)
	in_dmesg = 0
}

{ sub(/\r$/, "") }

# The guest's own markers, and the dmesg dump between two of them.
/^MMAPDEMO-DMESG-BEGIN/ { in_dmesg = 1; next }
/^MMAPDEMO-DMESG-END/ { in_dmesg = 0; next }
in_dmesg || /^MMAPDEMO-/ { next }

{
	line = $0
	body = line
	d = 0
	while (substr(body, 1, 2) == "# ") {
		body = substr(body, 3)
		d++
	}
	if (d > MAXD)
		next
}

body ~ /^Bail out!/ {
	problem[++nprob] = "Bail out: " line
	next
}

body ~ /^1\.\.[0-9]+/ {
	match(body, /^1\.\.[0-9]+/)
	plan[d] = substr(body, 4, RLENGTH - 3) + 0
	planline[d] = line
	next
}

body ~ /^(not )?ok( |$)/ {
	notok = (substr(body, 1, 4) == "not ")
	directive = ""
	i = index(body, " # ")
	if (i > 0) {
		directive = toupper(substr(body, i + 3))
		sub(/^ +/, "", directive)
	}
	wrapper = deeper[d]

	if (wrapper) {
		# Close the nested block: did it deliver what it planned?
		if (plan[d + 1] >= 0 && plan[d + 1] != nchild[d])
			problem[++nprob] = sprintf("planned %d results, got %d, before: %s",
						   plan[d + 1], nchild[d], line)
		if (notok && subfail[d] == 0)
			fail_leaf(d, line)	# crashed or timed-out binary
		else if (notok)
			failline[++nfail] = line
	} else if (notok) {
		fail_leaf(d, line)
	} else if (directive ~ /^XPASS/) {
		problem[++nprob] = "unexpected pass (XPASS): " line
		fail_leaf(d, line)
	} else if (directive ~ /^SKIP/) {
		skipped++
	} else {
		passed++
	}

	if (d == 0)
		top_results++
	else
		nchild[d - 1]++
	for (k = 0; k < d; k++)
		deeper[k] = 1
	reset_from(d)
	next
}

END {
	if (plan[0] < 0)
		problem[++nprob] = "no TAP plan (1..N) at top level: truncated or no TAP at all"
	else if (plan[0] != top_results)
		problem[++nprob] = sprintf("TAP plan 1..%d but %d top-level results", plan[0], top_results + 0)
	# Nested blocks still open at the end: a run cut short inside a binary.
	for (k = 1; k <= MAXD; k++)
		if (plan[k] >= 0 && plan[k] != nchild[k - 1])
			problem[++nprob] = sprintf("truncated: %s, then %d results",
						   planline[k], nchild[k - 1])
	if (nfail > 0)
		problem[++nprob] = sprintf("%d `not ok` (or XPASS) line(s)", nfail)
	if (passed == 0)
		problem[++nprob] = "no test passed"

	printf "counts %d %d %d\n", passed, failed, skipped
	for (i = 1; i <= nprob; i++)
		print "problem " problem[i]
	for (i = 1; i <= nfail; i++)
		print "failline " failline[i]
}
