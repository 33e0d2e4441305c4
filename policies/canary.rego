# METADATA
# title: Canary health
# description: |
#   May the canary become stable? Judged from the public matched traffic of both sets over one observation
#   window (window_seconds; per set requests, error_rate_percent, p99_latency_ms; see lib/types.ts
#   CanaryFacts) against data.swiftdeploy.thresholds.canary (policies/data.json). `stable` is absent (or
#   null) when there is no baseline: the canary is then judged on the absolute rules only, and a note says
#   so. A value exactly at its limit passes.
#
#   Absolute rules, on the canary: error rate <= max_error_rate_percent, P99 <= max_p99_latency_ms,
#   requests >= min_requests. With a baseline: stable requests >= min_stable_requests, canary error rate
#   <= stable error rate + max_error_rate_increase_points, canary P99 <= max(stable P99, p99_floor_ms) *
#   p99_ratio (the floor keeps a very fast stable from making a few ms of noise fatal).
#
#   Sentences print error rates and points with two decimals, the ratio with two, latency, requests and
#   seconds as whole numbers (a computed P99 limit that is not whole with one decimal):
#     Error rate (46.94%) exceeds maximum threshold (1.00%) over the last 30s
#     P99 latency (2004 ms) exceeds maximum threshold (500 ms) over the last 30s
#     Only 3 requests in the last 30s; at least 20 are needed to judge the canary
#     Only 3 stable requests in the last 30s; at least 20 are needed to compare the canary with stable
#     Canary error rate (12.50%) exceeds stable (0.20%) by 12.30 points; at most 1.00 allowed over the last 30s
#     Canary P99 latency (900 ms) exceeds 1.50 × max(stable 95 ms, floor 100 ms) = 150 ms over the last 30s
#     Missing or non-numeric input: canary.error_rate_percent (also stable.<field>, window_seconds)
#     Missing or non-numeric threshold: data.swiftdeploy.thresholds.canary.<key>
#
#   Too little data is not health: a rule over a set with fewer requests than its minimum (or over an
#   unknown window) is not judged. Its check reports status "no_data" and passed false with no sentence of
#   its own; the "Only N ..." (or "Missing ...") sentence explains the deny. The relative rules need both
#   sets to hold enough requests.
package swiftdeploy.canary

import data.swiftdeploy.lib

# The gates and the dashboard read only this object (lib/types.ts PolicyDecision).
decision := {
	"allow": allow,
	"violations": sort(violations),
	"checks": checks,
	"notes": notes,
}

default allow := false

# Every failing check has a sentence (or a requests or "Missing" one explains it) and every sentence a
# failing check; both are required anyway, so neither a forgotten sentence nor a forgotten check can let
# a deny through. A missing fact or threshold, or too few requests, fails a check, so it denies as well.
allow if {
	violations == set()
	every check in checks {
		check.passed
	}
}

# Sentences that explain the verdict without denying.
default notes := []

notes := ["No stable baseline: judged on the absolute rules only"] if not _has_baseline

_limits := lib.thresholds("canary")

_threshold_keys := {
	"max_error_rate_percent", "max_p99_latency_ms", "min_requests",
	"min_stable_requests", "max_error_rate_increase_points", "p99_ratio", "p99_floor_ms",
}

# The facts each set must carry (version and errors are for people; no rule reads them).
_set_fields := ["requests", "error_rate_percent", "p99_latency_ms"]

# One set's facts; {} when the set is absent or not an object, so each of its fields reads as missing.
_set(name) := lib.facts[name] if {
	is_object(lib.facts[name])
} else := {}

_canary := _set("canary")

_stable := _set("stable")

# A stable set that is present but not an object still counts as a baseline: its fields are then missing,
# which denies, rather than quietly judging the canary on the absolute rules alone.
default _has_baseline := false

_has_baseline if lib.facts.stable != null

_window := lib.number(lib.facts, "window_seconds")

_canary_requests := lib.number(_canary, "requests")

_canary_error_rate := lib.number(_canary, "error_rate_percent")

_canary_p99 := lib.number(_canary, "p99_latency_ms")

_stable_requests := lib.number(_stable, "requests")

_stable_error_rate := lib.number(_stable, "error_rate_percent")

_stable_p99 := lib.number(_stable, "p99_latency_ms")

_max_error_rate := lib.number(_limits, "max_error_rate_percent")

_max_p99 := lib.number(_limits, "max_p99_latency_ms")

_min_requests := lib.number(_limits, "min_requests")

_min_stable_requests := lib.number(_limits, "min_stable_requests")

_max_increase := lib.number(_limits, "max_error_rate_increase_points")

_p99_ratio := lib.number(_limits, "p99_ratio")

_p99_floor := lib.number(_limits, "p99_floor_ms")

# The limits of the relative rules, computed from stable's values; a key is absent when a value it needs
# is missing (its check then reports a null threshold).
_allowances["error_rate_vs_stable"] := _stable_error_rate + _max_increase

_allowances["p99_vs_stable"] := max([_stable_p99, _p99_floor]) * _p99_ratio

default _canary_enough := false

_canary_enough if _canary_requests >= _min_requests

default _stable_enough := false

_stable_enough if _stable_requests >= _min_stable_requests

# The absolute rules are judged once the canary holds enough requests over a known window (its length is
# in their sentences); the relative ones once stable holds enough as well.
default _absolute_judged := false

_absolute_judged if {
	_canary_enough
	is_number(_window)
}

default _relative_judged := false

_relative_judged if {
	_absolute_judged
	_has_baseline
	_stable_enough
}

default _error_rate_ok := false

_error_rate_ok if {
	_absolute_judged
	_canary_error_rate <= _max_error_rate
}

default _p99_ok := false

_p99_ok if {
	_absolute_judged
	_canary_p99 <= _max_p99
}

default _error_rate_vs_stable_ok := false

_error_rate_vs_stable_ok if {
	_relative_judged
	_canary_error_rate <= _allowances.error_rate_vs_stable
}

default _p99_vs_stable_ok := false

_p99_vs_stable_ok if {
	_relative_judged
	_canary_p99 <= _allowances.p99_vs_stable
}

# "pass" implies judged: each _ok rule above requires the _judged rule it goes with.
_status(_, true) := "pass"

_status(true, false) := "fail"

_status(false, false) := "no_data"

# One check as lib/types.ts PolicyCheck has it; values holds its observed, stable and threshold.
_check(id, title, unit, status, values) := object.union(values, {
	"id": id,
	"title": title,
	"passed": status == "pass",
	"status": status,
	"unit": unit,
})

# One entry per rule, in a fixed order, so a dashboard can list compliance without holding a threshold:
# observed is the canary's value, stable stable's value of the same fact (null without a baseline),
# threshold the limit the observed value was held to.
checks := array.concat(_absolute_checks, _relative_checks)

_absolute_checks := [
	_check("error_rate", "Error rate", "%", _status(_absolute_judged, _error_rate_ok), {
		"observed": lib.number_or_null(_canary, "error_rate_percent"),
		"stable": lib.number_or_null(_stable, "error_rate_percent"),
		"threshold": lib.number_or_null(_limits, "max_error_rate_percent"),
	}),
	_check("p99_latency", "P99 latency", "ms", _status(_absolute_judged, _p99_ok), {
		"observed": lib.number_or_null(_canary, "p99_latency_ms"),
		"stable": lib.number_or_null(_stable, "p99_latency_ms"),
		"threshold": lib.number_or_null(_limits, "max_p99_latency_ms"),
	}),
	_check("min_requests", "Requests in the window", "requests", _status(true, _canary_enough), {
		"observed": lib.number_or_null(_canary, "requests"),
		"stable": lib.number_or_null(_stable, "requests"),
		"threshold": lib.number_or_null(_limits, "min_requests"),
	}),
]

default _relative_checks := []

# The rule on stable's request count judges stable's value: it is both observed and stable.
_relative_checks := [
	_check("min_stable_requests", "Stable requests in the window", "requests", _status(true, _stable_enough), {
		"observed": lib.number_or_null(_stable, "requests"),
		"stable": lib.number_or_null(_stable, "requests"),
		"threshold": lib.number_or_null(_limits, "min_stable_requests"),
	}),
	_check("error_rate_vs_stable", "Error rate vs stable", "%", _status(_relative_judged, _error_rate_vs_stable_ok), {
		"observed": lib.number_or_null(_canary, "error_rate_percent"),
		"stable": lib.number_or_null(_stable, "error_rate_percent"),
		"threshold": lib.number_or_null(_allowances, "error_rate_vs_stable"),
	}),
	_check("p99_vs_stable", "P99 latency vs stable", "ms", _status(_relative_judged, _p99_vs_stable_ok), {
		"observed": lib.number_or_null(_canary, "p99_latency_ms"),
		"stable": lib.number_or_null(_stable, "p99_latency_ms"),
		"threshold": lib.number_or_null(_allowances, "p99_vs_stable"),
	}),
] if _has_baseline

# A rule whose fact or threshold is missing gets the "Missing or non-numeric" sentence below instead:
# its formatting here is undefined, so no sentence about a value is made up.
violations contains msg if {
	_absolute_judged
	not _error_rate_ok
	msg := sprintf(
		"Error rate (%s%%) exceeds maximum threshold (%s%%) over the last %ss",
		[lib.two_decimals(_canary_error_rate), lib.two_decimals(_max_error_rate), lib.whole(_window)],
	)
}

violations contains msg if {
	_absolute_judged
	not _p99_ok
	msg := sprintf(
		"P99 latency (%s ms) exceeds maximum threshold (%s ms) over the last %ss",
		[lib.whole(_canary_p99), lib.whole(_max_p99), lib.whole(_window)],
	)
}

# Requests are whole: a fractional count (a rate times a window) is rounded down and a fractional minimum
# up, so the sentence never reads "Only 20 requests ...; at least 20 are needed".
violations contains msg if {
	not _canary_enough
	msg := sprintf(
		"Only %s requests in the last %ss; at least %s are needed to judge the canary",
		[lib.whole(floor(_canary_requests)), lib.whole(_window), lib.whole(ceil(_min_requests))],
	)
}

violations contains msg if {
	_has_baseline
	not _stable_enough
	msg := sprintf(
		"Only %s stable requests in the last %ss; at least %s are needed to compare the canary with stable",
		[lib.whole(floor(_stable_requests)), lib.whole(_window), lib.whole(ceil(_min_stable_requests))],
	)
}

violations contains msg if {
	_relative_judged
	not _error_rate_vs_stable_ok
	msg := sprintf(
		"Canary error rate (%s%%) exceeds stable (%s%%) by %s points; at most %s allowed over the last %ss",
		[
			lib.two_decimals(_canary_error_rate), lib.two_decimals(_stable_error_rate),
			lib.two_decimals(_canary_error_rate - _stable_error_rate), lib.two_decimals(_max_increase),
			lib.whole(_window),
		],
	)
}

violations contains msg if {
	_relative_judged
	not _p99_vs_stable_ok
	msg := sprintf(
		"Canary P99 latency (%s ms) exceeds %s × max(stable %s ms, floor %s ms) = %s ms over the last %ss",
		[
			lib.whole(_canary_p99), lib.two_decimals(_p99_ratio), lib.whole(_stable_p99),
			lib.whole(_p99_floor), _ms(_allowances.p99_vs_stable), lib.whole(_window),
		],
	)
}

# A computed limit such as 1.5 × 133 = 199.5 ms keeps its decimal: rounded, it could read as the very
# value it refuses.
_ms(x) := lib.whole(x) if {
	x == round(x)
} else := lib.one_decimal(x)

violations contains msg if {
	some msg in lib.missing_inputs({"window_seconds"})
}

violations contains msg if {
	some msg in _missing_set_fields("canary", _canary)
}

violations contains msg if {
	_has_baseline
	some msg in _missing_set_fields("stable", _stable)
}

_missing_set_fields(name, set_facts) := {sprintf("Missing or non-numeric input: %s.%s", [name, field]) |
	some field in _set_fields
	not lib.number(set_facts, field)
}

violations contains msg if {
	some msg in lib.missing_thresholds("canary", _threshold_keys)
}
