package swiftdeploy.canary_test

import data.swiftdeploy.canary

# Thresholds are pinned here so the tests do not move when policies/data.json is tuned.
_thresholds := {"canary": {"max_error_rate_percent": 1, "max_p99_latency_ms": 500, "min_requests": 20}}

_healthy := {"error_rate_percent": 0.25, "p99_latency_ms": 120.5, "requests": 240, "window_seconds": 30}

_decide(facts) := d if {
	d := canary.decision with input as facts with data.swiftdeploy.thresholds as _thresholds
}

_with_fact(field, value) := object.union(_healthy, {field: value})

_check(decision, id) := check if {
	some check in decision.checks
	check.id == id
}

_passed(decision) := [check.passed | some check in decision.checks]

test_healthy_canary_is_allowed_and_every_check_reports_its_threshold if {
	_decide(_healthy) == {
		"allow": true,
		"violations": [],
		"checks": [
			{"id": "error_rate", "title": "Error rate", "passed": true, "observed": 0.25, "threshold": 1, "unit": "%"},
			{"id": "p99_latency", "title": "P99 latency", "passed": true, "observed": 120.5, "threshold": 500, "unit": "ms"},
			{"id": "min_requests", "title": "Requests in the window", "passed": true, "observed": 240, "threshold": 20, "unit": "requests"},
		],
	}
}

test_error_rate_above_maximum_denies_with_its_sentence if {
	d := _decide(_with_fact("error_rate_percent", 46.9387))
	d.allow == false
	d.violations == ["Error rate (46.94%) exceeds maximum threshold (1.00%) over the last 30s"]
	_passed(d) == [false, true, true]
}

test_error_rate_just_above_maximum_denies if {
	_decide(_with_fact("error_rate_percent", 1.01)).violations == [
		"Error rate (1.01%) exceeds maximum threshold (1.00%) over the last 30s",
	]
}

test_error_rate_at_or_below_maximum_passes if {
	every rate in [1, 1.0, 0.99, 0] {
		d := _decide(_with_fact("error_rate_percent", rate))
		d.allow == true
		d.violations == []
		_check(d, "error_rate").passed == true
	}
}

test_p99_above_maximum_denies_with_its_sentence if {
	d := _decide(_with_fact("p99_latency_ms", 2004.4))
	d.allow == false
	d.violations == ["P99 latency (2004 ms) exceeds maximum threshold (500 ms) over the last 30s"]
	_passed(d) == [true, false, true]
}

test_p99_just_above_maximum_denies if {
	_decide(_with_fact("p99_latency_ms", 501)).violations == [
		"P99 latency (501 ms) exceeds maximum threshold (500 ms) over the last 30s",
	]
}

test_p99_at_or_below_maximum_passes if {
	every p99 in [500, 500.0, 499.9, 5] {
		d := _decide(_with_fact("p99_latency_ms", p99))
		d.allow == true
		d.violations == []
		_check(d, "p99_latency").passed == true
	}
}

test_failing_error_rate_and_p99_both_have_sentences if {
	d := _decide({"error_rate_percent": 46.94, "p99_latency_ms": 2004, "requests": 98, "window_seconds": 30})
	d.allow == false
	d.violations == [
		"Error rate (46.94%) exceeds maximum threshold (1.00%) over the last 30s",
		"P99 latency (2004 ms) exceeds maximum threshold (500 ms) over the last 30s",
	]
}

test_too_few_requests_deny_with_their_own_sentence if {
	d := _decide(_with_fact("requests", 3))
	d.allow == false
	d.violations == ["Only 3 requests in the last 30s; at least 20 are needed to judge the canary"]
	_check(d, "min_requests").passed == false
	_check(d, "min_requests").observed == 3
}

test_too_few_requests_leave_error_rate_and_p99_unjudged if {
	# A bad error rate over 3 requests says nothing: only the "Only N requests" sentence, and the two
	# checks are not passed (too little data is not health).
	d := _decide({"error_rate_percent": 66.67, "p99_latency_ms": 2004, "requests": 3, "window_seconds": 30})
	d.violations == ["Only 3 requests in the last 30s; at least 20 are needed to judge the canary"]
	_passed(d) == [false, false, false]
	_check(d, "error_rate").observed == 66.67

	quiet := _decide({"error_rate_percent": 0, "p99_latency_ms": 0, "requests": 0, "window_seconds": 30})
	quiet.allow == false
	quiet.violations == ["Only 0 requests in the last 30s; at least 20 are needed to judge the canary"]
	_passed(quiet) == [false, false, false]
}

test_one_request_short_of_the_minimum_denies if {
	_decide(_with_fact("requests", 19)).violations == [
		"Only 19 requests in the last 30s; at least 20 are needed to judge the canary",
	]
}

test_requests_at_or_above_minimum_let_the_canary_be_judged if {
	every requests in [20, 20.0, 21, 5000] {
		d := _decide(_with_fact("requests", requests))
		d.allow == true
		_passed(d) == [true, true, true]
	}
}

test_fractional_requests_round_down_and_a_fractional_minimum_rounds_up if {
	_decide(_with_fact("requests", 19.6)).violations == [
		"Only 19 requests in the last 30s; at least 20 are needed to judge the canary",
	]
	d := canary.decision with input as _with_fact("requests", 20.1)
		with data.swiftdeploy.thresholds as {"canary": {"max_error_rate_percent": 1, "max_p99_latency_ms": 500, "min_requests": 20.2}}
	d.violations == ["Only 20 requests in the last 30s; at least 21 are needed to judge the canary"]
}

test_sentences_name_the_window_from_the_input if {
	_decide({"error_rate_percent": 5, "p99_latency_ms": 900, "requests": 300, "window_seconds": 45}).violations == [
		"Error rate (5.00%) exceeds maximum threshold (1.00%) over the last 45s",
		"P99 latency (900 ms) exceeds maximum threshold (500 ms) over the last 45s",
	]
	_decide({"error_rate_percent": 0, "p99_latency_ms": 0, "requests": 2, "window_seconds": 59.6}).violations == [
		"Only 2 requests in the last 60s; at least 20 are needed to judge the canary",
	]
}

test_integer_and_decimal_thresholds_print_the_same if {
	decimals := {"canary": {"max_error_rate_percent": 1.0, "max_p99_latency_ms": 500.0, "min_requests": 20.0}}
	failing := {"error_rate_percent": 46.94, "p99_latency_ms": 2004, "requests": 98, "window_seconds": 30}
	with_decimals := canary.decision.violations with input as failing with data.swiftdeploy.thresholds as decimals
	with_decimals == _decide(failing).violations
	with_decimals == [
		"Error rate (46.94%) exceeds maximum threshold (1.00%) over the last 30s",
		"P99 latency (2004 ms) exceeds maximum threshold (500 ms) over the last 30s",
	]

	few := _with_fact("requests", 3)
	few_with_decimals := canary.decision.violations with input as few with data.swiftdeploy.thresholds as decimals
	few_with_decimals == _decide(few).violations
	few_with_decimals == ["Only 3 requests in the last 30s; at least 20 are needed to judge the canary"]
}

test_whole_observed_numbers_print_with_their_decimals if {
	_decide({"error_rate_percent": 47, "p99_latency_ms": 2004.0, "requests": 98.0, "window_seconds": 30.0}).violations == [
		"Error rate (47.00%) exceeds maximum threshold (1.00%) over the last 30s",
		"P99 latency (2004 ms) exceeds maximum threshold (500 ms) over the last 30s",
	]
}

test_missing_or_non_numeric_fact_denies_naming_the_field if {
	every field in ["error_rate_percent", "p99_latency_ms", "requests", "window_seconds"] {
		every bad in [null, "5", true] {
			d := _decide(_with_fact(field, bad))
			d.allow == false
			d.violations == [sprintf("Missing or non-numeric input: %s", [field])]
		}
	}
}

test_missing_fact_is_reported_as_null_and_not_passed if {
	d := _decide(object.remove(_healthy, ["p99_latency_ms"]))
	d.violations == ["Missing or non-numeric input: p99_latency_ms"]
	_check(d, "p99_latency") == {
		"id": "p99_latency", "title": "P99 latency", "passed": false,
		"observed": null, "threshold": 500, "unit": "ms",
	}
	_passed(d) == [true, false, true]
}

test_unknown_window_leaves_every_rule_unjudged if {
	d := _decide(object.remove(_healthy, ["window_seconds"]))
	d.allow == false
	d.violations == ["Missing or non-numeric input: window_seconds"]
	_passed(d) == [false, false, true]
}

test_unknown_request_count_leaves_every_rule_unjudged if {
	d := _decide(_with_fact("requests", "240"))
	d.allow == false
	d.violations == ["Missing or non-numeric input: requests"]
	_passed(d) == [false, false, false]
	_check(d, "min_requests").observed == null
}

test_no_input_at_all_denies_naming_every_field if {
	# No `with input`: the policy is asked with no input document, as `opa eval` without -i would.
	d := canary.decision with data.swiftdeploy.thresholds as _thresholds
	d.allow == false
	d.violations == [
		"Missing or non-numeric input: error_rate_percent",
		"Missing or non-numeric input: p99_latency_ms",
		"Missing or non-numeric input: requests",
		"Missing or non-numeric input: window_seconds",
	]
	[check.observed | some check in d.checks] == [null, null, null]
	_passed(d) == [false, false, false]
}

test_empty_input_denies_naming_every_field if {
	_decide({}).violations == [
		"Missing or non-numeric input: error_rate_percent",
		"Missing or non-numeric input: p99_latency_ms",
		"Missing or non-numeric input: requests",
		"Missing or non-numeric input: window_seconds",
	]
}

test_missing_or_non_numeric_threshold_denies_naming_the_key if {
	broken := {"canary": {"max_error_rate_percent": 1, "max_p99_latency_ms": null, "min_requests": 20}}
	d := canary.decision with input as _healthy with data.swiftdeploy.thresholds as broken
	d.allow == false
	d.violations == ["Missing or non-numeric threshold: data.swiftdeploy.thresholds.canary.max_p99_latency_ms"]
	_check(d, "p99_latency").threshold == null
	_passed(d) == [true, false, true]
}

test_no_thresholds_at_all_denies_naming_every_key if {
	d := canary.decision with input as _healthy with data.swiftdeploy.thresholds as {"infrastructure": {}}
	d.allow == false
	d.violations == [
		"Missing or non-numeric threshold: data.swiftdeploy.thresholds.canary.max_error_rate_percent",
		"Missing or non-numeric threshold: data.swiftdeploy.thresholds.canary.max_p99_latency_ms",
		"Missing or non-numeric threshold: data.swiftdeploy.thresholds.canary.min_requests",
	]
	_passed(d) == [false, false, false]
}

test_data_json_sets_every_canary_threshold if {
	# No `with data`: this reads policies/data.json as the user keeps it. Only its shape is pinned:
	# the values are the user's to edit (policy tests run before every change reaches OPA).
	d := canary.decision with input as _healthy
	every check in d.checks {
		is_number(check.threshold)
	}
}
