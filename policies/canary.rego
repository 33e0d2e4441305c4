# METADATA
# title: Canary health
# description: |
#   May the canary become stable? Judged from the app's public traffic over one observation window
#   (error_rate_percent, p99_latency_ms, requests, window_seconds; see lib/types.ts CanaryFacts) against
#   data.swiftdeploy.thresholds.canary (policies/data.json). A value exactly at its threshold passes.
#   Sentences print the error rate with two decimals, latency, requests and seconds as whole numbers.
package swiftdeploy.canary

import data.swiftdeploy.lib

# The gates and the dashboard read only this object (lib/types.ts PolicyDecision).
decision := {
	"allow": allow,
	"violations": sort(violations),
	"checks": checks,
}

default allow := false

# Every failing check has a sentence (or the requests or window one explains it) and every sentence a
# failing check; both are required anyway, so neither a forgotten sentence nor a forgotten check can let
# a deny through. A missing fact or threshold, or too few requests, fails a check, so it denies as well.
allow if {
	violations == set()
	every check in checks {
		check.passed
	}
}

_limits := lib.thresholds("canary")

_error_rate := lib.number(lib.facts, "error_rate_percent")

_p99 := lib.number(lib.facts, "p99_latency_ms")

_requests := lib.number(lib.facts, "requests")

_window := lib.number(lib.facts, "window_seconds")

_max_error_rate := lib.number(_limits, "max_error_rate_percent")

_max_p99 := lib.number(_limits, "max_p99_latency_ms")

_min_requests := lib.number(_limits, "min_requests")

default _enough_requests := false

_enough_requests if _requests >= _min_requests

# Too little data is not health: an error rate or P99 over a handful of requests says nothing, so those
# rules are judged only once the window holds enough requests (and its length, which their sentences
# name, is known). Until then their checks report passed: false with no sentence of their own; the
# "Only N requests" sentence (or a "Missing" one) explains the deny.
default _judged := false

_judged if {
	_enough_requests
	is_number(_window)
}

default _error_rate_ok := false

_error_rate_ok if {
	_judged
	_error_rate <= _max_error_rate
}

default _p99_ok := false

_p99_ok if {
	_judged
	_p99 <= _max_p99
}

# One entry per rule, in a fixed order, so a dashboard can list compliance without holding a threshold.
checks := [
	{
		"id": "error_rate",
		"title": "Error rate",
		"passed": _error_rate_ok,
		"observed": lib.number_or_null(lib.facts, "error_rate_percent"),
		"threshold": lib.number_or_null(_limits, "max_error_rate_percent"),
		"unit": "%",
	},
	{
		"id": "p99_latency",
		"title": "P99 latency",
		"passed": _p99_ok,
		"observed": lib.number_or_null(lib.facts, "p99_latency_ms"),
		"threshold": lib.number_or_null(_limits, "max_p99_latency_ms"),
		"unit": "ms",
	},
	{
		"id": "min_requests",
		"title": "Requests in the window",
		"passed": _enough_requests,
		"observed": lib.number_or_null(lib.facts, "requests"),
		"threshold": lib.number_or_null(_limits, "min_requests"),
		"unit": "requests",
	},
]

# A rule whose fact or threshold is missing gets the "Missing or non-numeric" sentence below instead:
# its formatting here is undefined, so no sentence about a value is made up.
violations contains msg if {
	_judged
	not _error_rate_ok
	msg := sprintf(
		"Error rate (%s%%) exceeds maximum threshold (%s%%) over the last %ss",
		[lib.two_decimals(_error_rate), lib.two_decimals(_max_error_rate), lib.whole(_window)],
	)
}

violations contains msg if {
	_judged
	not _p99_ok
	msg := sprintf(
		"P99 latency (%s ms) exceeds maximum threshold (%s ms) over the last %ss",
		[lib.whole(_p99), lib.whole(_max_p99), lib.whole(_window)],
	)
}

# Requests are whole: a fractional count (a rate times a window) is rounded down and a fractional minimum
# up, so the sentence never reads "Only 20 requests ...; at least 20 are needed".
violations contains msg if {
	not _enough_requests
	msg := sprintf(
		"Only %s requests in the last %ss; at least %s are needed to judge the canary",
		[lib.whole(floor(_requests)), lib.whole(_window), lib.whole(ceil(_min_requests))],
	)
}

violations contains msg if {
	some msg in lib.missing_inputs({"error_rate_percent", "p99_latency_ms", "requests", "window_seconds"})
}

violations contains msg if {
	some msg in lib.missing_thresholds("canary", {"max_error_rate_percent", "max_p99_latency_ms", "min_requests"})
}
