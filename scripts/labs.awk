# SPDX-License-Identifier: GPL-2.0
#
# scripts/labs.awk: one module source file with the code of lab exercise
# LAB cut out (awk -v LAB=N -f scripts/labs.awk FILE). Used by scripts/labs.sh.
#
# Markers, plain C comments in the module sources (module/*.c):
#   /* LAB N: hint */                         starts exercise N's code; or the
#   /*                                        block form, whose first line of
#    * LAB N: hint, over several lines        text starts with "LAB N:"
#    */
#   /* LAB N END */                           ends it; or, when the skeleton
#   /* LAB N END, skeleton: return -ENOSYS; */   needs code to build, with it
#
# Exercise LAB's code becomes the hint (as "TODO LAB N: ...") followed by the
# skeleton statements ("a; b;" gives one line each). The markers of the other
# exercises are dropped, their code kept. LAB=0 drops every marker.
# Errors (unterminated or nested regions, an END without a start) go to
# stderr with FILENAME:LINE, and the exit status is 1.

function fail(msg) {
	printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"
	bad = 1
	exit 1
}

function indent_of(s) {
	match(s, /^[ \t]*/)
	return substr(s, 1, RLENGTH)
}

# A marker comment (n lines in cbuf[1..n]) starting exercise k.
function start(k, n,    i, line) {
	if (open_lab != "")
		fail("LAB " k " starts inside LAB " open_lab)
	open_lab = k
	open_line = FNR
	if (k != LAB)
		return
	cutting = 1
	for (i = 1; i <= n; i++) {
		line = cbuf[i]
		sub(/LAB [0-9]+:/, "TODO LAB " k ":", line)
		print line
	}
}

function stop(k, stub,    ind, nst, st, i) {
	if (open_lab != k)
		fail("LAB " k " END without LAB " k " before it")
	open_lab = ""
	if (k != LAB)
		return
	cutting = 0
	done = 1
	ind = indent_of($0)
	nst = split(stub, st, /; */)
	for (i = 1; i <= nst; i++)
		if (st[i] != "")
			print ind st[i] ";"
}

function emit(s) {
	if (!cutting)
		print s
}

BEGIN { open_lab = ""; cutting = 0; inblock = 0; done = 0 }

# Block comment being read: decide at its first line of text.
inblock {
	cbuf[++nc] = $0
	if (nc == 2 && $0 ~ /^[ \t]*\* LAB [0-9]+: /) {
		marker = 1
		k = $0
		sub(/^[ \t]*\* LAB /, "", k)
		sub(/:.*/, "", k)
	}
	if ($0 ~ /\*\/[ \t]*$/) {
		inblock = 0
		if (marker) {
			start(k, nc)
		} else {
			for (i = 1; i <= nc; i++)
				emit(cbuf[i])
		}
	}
	next
}

/^[ \t]*\/\*[ \t]*$/ {
	inblock = 1
	marker = 0
	nc = 1
	cbuf[1] = $0
	next
}

/^[ \t]*\/\* LAB [0-9]+: .*\*\/[ \t]*$/ {
	k = $0
	sub(/^[ \t]*\/\* LAB /, "", k)
	sub(/:.*/, "", k)
	nc = 1
	cbuf[1] = $0
	start(k, 1)
	next
}

/^[ \t]*\/\* LAB [0-9]+ END(, skeleton: .*)? \*\/[ \t]*$/ {
	k = $0
	sub(/^[ \t]*\/\* LAB /, "", k)
	sub(/ END.*/, "", k)
	stub = ""
	if ($0 ~ /, skeleton: /) {
		stub = $0
		sub(/^.*, skeleton: /, "", stub)
		sub(/ *\*\/[ \t]*$/, "", stub)
	}
	stop(k, stub)
	next
}

{ emit($0) }

END {
	if (bad)
		exit 1
	if (inblock)
		fail("unterminated comment")
	if (open_lab != "")
		fail("LAB " open_lab " (line " open_line ") has no END")
	# Tell the caller whether this file holds exercise LAB's code.
	if (done && FOUND != "")
		print FILENAME > FOUND
}
