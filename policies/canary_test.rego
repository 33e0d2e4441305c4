package swiftdeploy.canary_test

import data.swiftdeploy.canary

# Thresholds are pinned here so the tests do not move when policies/data.json is tuned.
_limits := {
	"max_error_rate_percent": 1, "max_p99_latency_ms": 500, "min_requests": 20,
	"min_stable_requests": 20, "max_error_rate_increase_points": 1, "p99_ratio": 1.5, "p99_floor_ms": 100,
}

_thresholds := {"canary": _limits}

# Absolute limits out of reach, so a test sees the relative rules alone.
_relative_only := {"canary": object.union(_limits, {"max_error_rate_percent": 100, "max_p99_latency_ms": 100000})}

_canary_set := {"version": "1.0.1", "requests": 240, "errors": 1, "error_rate_percent": 0.42, "p99_latency_ms": 120}

_stable_set := {"version": "1.0.0", "requests": 2100, "errors": 4, "error_rate_percent": 0.19, "p99_latency_ms": 95}

_healthy := {"window_seconds": 30, "canary": _canary_set, "stable": _stable_set}

# A first release: the canary is the only set.
_first := {"window_seconds": 30, "canary": _canary_set}

_no_baseline_note := ["No stable baseline: judged on the absolute rules only"]

_decide(facts) := d if {
	d := canary.decision with input as facts with data.swiftdeploy.thresholds as _thresholds
}

_decide_relative(facts) := d if {
	d := canary.decision with input as facts with data.swiftdeploy.thresholds as _relative_only
}

_canary(facts, values) := object.union(facts, {"canary": values})

_stable(facts, values) := object.union(facts, {"stable": values})

_both(canary_values, stable_values) := _stable(_canary(_healthy, canary_values), stable_values)

_check(decision, id) := check if {
	some check in decision.checks
	check.id == id
}

_ids(decision) := [check.id | some check in decision.checks]

_statuses(decision) := [check.status | some check in decision.checks]

_all_ids := ["error_rate", "p99_latency", "min_requests", "min_stable_requests", "error_rate_vs_stable", "p99_vs_stable"]

# --- the whole decision ---

test_healthy_canary_with_a_baseline_is_allowed_and_every_check_reports_both_sets if {
	_decide(_healthy) == {
		"allow": true,
		"violations": [],
		"notes": [],
		"checks": [
			{
				"id": "error_rate", "title": "Error rate", "passed": true, "status": "pass",
				"observed": 0.42, "stable": 0.19, "threshold": 1, "unit": "%",
			},
			{
				"id": "p99_latency", "title": "P99 latency", "passed": true, "status": "pass",
				"observed": 120, "stable": 95, "threshold": 500, "unit": "ms",
			},
			{
				"id": "min_requests", "title": "Requests in the window", "passed": true, "status": "pass",
				"observed": 240, "stable": 2100, "threshold": 20, "unit": "requests",
			},
			{
				"id": "min_stable_requests", "title": "Stable requests in the window", "passed": true, "status": "pass",
				"observed": 2100, "stable": 2100, "threshold": 20, "unit": "requests",
			},
			{
				"id": "error_rate_vs_stable", "title": "Error rate vs stable", "passed": true, "status": "pass",
				"observed": 0.42, "stable": 0.19, "threshold": 1.19, "unit": "%",
			},
			{
				"id": "p99_vs_stable", "title": "P99 latency vs stable", "passed": true, "status": "pass",
				"observed": 120, "stable": 95, "threshold": 150, "unit": "ms",
			},
		],
	}
}

test_without_a_baseline_only_the_absolute_rules_judge_and_a_note_says_so if {
	_decide(_first) == {
		"allow": true,
		"violations": [],
		"notes": _no_baseline_note,
		"checks": [
			{
				"id": "error_rate", "title": "Error rate", "passed": true, "status": "pass",
				"observed": 0.42, "stable": null, "threshold": 1, "unit": "%",
			},
			{
				"id": "p99_latency", "title": "P99 latency", "passed": true, "status": "pass",
				"observed": 120, "stable": null, "threshold": 500, "unit": "ms",
			},
			{
				"id": "min_requests", "title": "Requests in the window", "passed": true, "status": "pass",
				"observed": 240, "stable": null, "threshold": 20, "unit": "requests",
			},
		],
	}
}

test_a_null_stable_is_no_baseline if {
	_decide(object.union(_first, {"stable": null})) == _decide(_first)
}

test_without_a_baseline_a_canary_far_worse_than_any_stable_is_still_allowed_within_the_absolute_limits if {
	d := _decide(_canary(_first, {"error_rate_percent": 1, "p99_latency_ms": 500}))
	d.allow == true
	d.notes == _no_baseline_note
}

test_passed_is_true_exactly_when_status_is_pass if {
	decisions := [
		_decide(_healthy),
		_decide(_first),
		_decide(_canary(_healthy, {"error_rate_percent": 50, "requests": 3})),
		_decide(_both({"p99_latency_ms": 900}, {"requests": 0})),
		_decide(object.remove(_healthy, ["window_seconds"])),
		_decide({}),
	]
	every d in decisions {
		every check in d.checks {
			# (opa fmt drops the parentheses of passed == (status == "pass"), which would change its meaning)
			is_pass := check.status == "pass"
			check.passed == is_pass
		}
	}
}

# --- absolute rules on the canary (the sentences of round one, word for word) ---

test_error_rate_above_maximum_denies_with_its_sentence if {
	d := _decide(_canary(_first, {"error_rate_percent": 46.9387}))
	d.allow == false
	d.violations == ["Error rate (46.94%) exceeds maximum threshold (1.00%) over the last 30s"]
	_statuses(d) == ["fail", "pass", "pass"]
	_check(d, "error_rate").passed == false
}

test_error_rate_just_above_maximum_denies if {
	_decide(_canary(_first, {"error_rate_percent": 1.01})).violations == [
		"Error rate (1.01%) exceeds maximum threshold (1.00%) over the last 30s",
	]
}

test_error_rate_at_or_below_maximum_passes if {
	every rate in [1, 1.0, 0.99, 0] {
		every facts in [_first, _healthy] {
			d := _decide(_canary(facts, {"error_rate_percent": rate}))
			d.allow == true
			d.violations == []
			_check(d, "error_rate").status == "pass"
		}
	}
}

test_p99_above_maximum_denies_with_its_sentence if {
	d := _decide(_canary(_first, {"p99_latency_ms": 2004.4}))
	d.allow == false
	d.violations == ["P99 latency (2004 ms) exceeds maximum threshold (500 ms) over the last 30s"]
	_statuses(d) == ["pass", "fail", "pass"]
}

test_p99_just_above_maximum_denies if {
	_decide(_canary(_first, {"p99_latency_ms": 501})).violations == [
		"P99 latency (501 ms) exceeds maximum threshold (500 ms) over the last 30s",
	]
}

test_p99_at_or_below_maximum_passes if {
	every p99 in [500, 500.0, 499.9, 5] {
		d := _decide(_canary(_first, {"p99_latency_ms": p99}))
		d.allow == true
		d.violations == []
		_check(d, "p99_latency").status == "pass"
	}
}

test_failing_error_rate_and_p99_both_have_sentences if {
	d := _decide(_canary(_first, {"error_rate_percent": 46.94, "p99_latency_ms": 2004, "requests": 98}))
	d.allow == false
	d.violations == [
		"Error rate (46.94%) exceeds maximum threshold (1.00%) over the last 30s",
		"P99 latency (2004 ms) exceeds maximum threshold (500 ms) over the last 30s",
	]
}

test_sentences_name_the_window_from_the_input if {
	_decide({"window_seconds": 45, "canary": {"error_rate_percent": 5, "p99_latency_ms": 900, "requests": 300}}).violations == [
		"Error rate (5.00%) exceeds maximum threshold (1.00%) over the last 45s",
		"P99 latency (900 ms) exceeds maximum threshold (500 ms) over the last 45s",
	]
	_decide({"window_seconds": 59.6, "canary": {"error_rate_percent": 0, "p99_latency_ms": 0, "requests": 2}}).violations == [
		"Only 2 requests in the last 60s; at least 20 are needed to judge the canary",
	]
}

test_whole_observed_numbers_print_with_their_decimals if {
	_decide({"window_seconds": 30.0, "canary": {"error_rate_percent": 47, "p99_latency_ms": 2004.0, "requests": 98.0}}).violations == [
		"Error rate (47.00%) exceeds maximum threshold (1.00%) over the last 30s",
		"P99 latency (2004 ms) exceeds maximum threshold (500 ms) over the last 30s",
	]
}

# --- relative rules: error rate ---

test_canary_error_rate_far_above_stable_denies_with_both_sentences if {
	d := _decide(_both({"error_rate_percent": 12.5}, {"error_rate_percent": 0.2}))
	d.allow == false
	d.violations == [
		"Canary error rate (12.50%) exceeds stable (0.20%) by 12.30 points; at most 1.00 allowed over the last 30s",
		"Error rate (12.50%) exceeds maximum threshold (1.00%) over the last 30s",
	]
	_check(d, "error_rate_vs_stable") == {
		"id": "error_rate_vs_stable", "title": "Error rate vs stable", "passed": false, "status": "fail",
		"observed": 12.5, "stable": 0.2, "threshold": 1.2, "unit": "%",
	}
}

test_canary_error_rate_at_stable_plus_the_allowed_points_passes if {
	every rates in [[1.2, 0.2], [1.19, 0.19], [1, 0], [3.5, 2.5], [0, 2.5]] {
		d := _decide_relative(_both({"error_rate_percent": rates[0]}, {"error_rate_percent": rates[1]}))
		d.allow == true
		_check(d, "error_rate_vs_stable").status == "pass"
	}
}

test_canary_error_rate_just_above_stable_plus_the_allowed_points_denies if {
	d := _decide_relative(_both({"error_rate_percent": 1.21}, {"error_rate_percent": 0.2}))
	d.allow == false
	d.violations == [
		"Canary error rate (1.21%) exceeds stable (0.20%) by 1.01 points; at most 1.00 allowed over the last 30s",
	]
	_check(d, "error_rate_vs_stable").threshold == 1.2
	_check(d, "error_rate").status == "pass"
}

test_the_allowed_points_come_from_the_thresholds if {
	strict := {"canary": object.union(_limits, {"max_error_rate_increase_points": 0.25})}
	d := canary.decision with input as _both({"error_rate_percent": 0.5}, {"error_rate_percent": 0.2})
		with data.swiftdeploy.thresholds as strict
	d.violations == [
		"Canary error rate (0.50%) exceeds stable (0.20%) by 0.30 points; at most 0.25 allowed over the last 30s",
	]
	_check(d, "error_rate_vs_stable").threshold == 0.45
}

# --- relative rules: P99 ---

test_canary_p99_is_held_to_the_floor_when_stable_is_faster_than_it if {
	every stable_p99 in [0, 95, 100] {
		at_limit := _decide(_both({"p99_latency_ms": 150}, {"p99_latency_ms": stable_p99}))
		at_limit.allow == true
		_check(at_limit, "p99_vs_stable").threshold == 150
	}
	d := _decide(_both({"p99_latency_ms": 151}, {"p99_latency_ms": 95}))
	d.allow == false
	d.violations == ["Canary P99 latency (151 ms) exceeds 1.50 × max(stable 95 ms, floor 100 ms) = 150 ms over the last 30s"]
	_statuses(d) == ["pass", "pass", "pass", "pass", "pass", "fail"]
}

test_canary_p99_is_held_to_stable_when_stable_is_slower_than_the_floor if {
	at_limit := _decide(_both({"p99_latency_ms": 300}, {"p99_latency_ms": 200}))
	at_limit.allow == true
	_check(at_limit, "p99_vs_stable").threshold == 300

	d := _decide(_both({"p99_latency_ms": 301}, {"p99_latency_ms": 200}))
	d.violations == ["Canary P99 latency (301 ms) exceeds 1.50 × max(stable 200 ms, floor 100 ms) = 300 ms over the last 30s"]
	_check(d, "p99_vs_stable") == {
		"id": "p99_vs_stable", "title": "P99 latency vs stable", "passed": false, "status": "fail",
		"observed": 301, "stable": 200, "threshold": 300, "unit": "ms",
	}
}

test_canary_p99_just_above_the_floor_times_the_ratio_denies if {
	_decide(_both({"p99_latency_ms": 101}, {"p99_latency_ms": 101})).allow == true
	_decide(_both({"p99_latency_ms": 151.5}, {"p99_latency_ms": 101})).allow == true
	_decide(_both({"p99_latency_ms": 152}, {"p99_latency_ms": 101})).violations == [
		"Canary P99 latency (152 ms) exceeds 1.50 × max(stable 101 ms, floor 100 ms) = 151.5 ms over the last 30s",
	]
}

test_a_computed_p99_limit_keeps_its_decimal if {
	_decide(_both({"p99_latency_ms": 199.5}, {"p99_latency_ms": 133})).allow == true
	d := _decide(_both({"p99_latency_ms": 200}, {"p99_latency_ms": 133}))
	d.violations == ["Canary P99 latency (200 ms) exceeds 1.50 × max(stable 133 ms, floor 100 ms) = 199.5 ms over the last 30s"]
	_check(d, "p99_vs_stable").threshold == 199.5
}

test_canary_p99_far_above_stable_and_the_maximum_denies_with_both_sentences if {
	d := _decide(_canary(_healthy, {"p99_latency_ms": 900}))
	d.violations == [
		"Canary P99 latency (900 ms) exceeds 1.50 × max(stable 95 ms, floor 100 ms) = 150 ms over the last 30s",
		"P99 latency (900 ms) exceeds maximum threshold (500 ms) over the last 30s",
	]
	_statuses(d) == ["pass", "fail", "pass", "pass", "pass", "fail"]
}

test_relative_p99_sentence_prints_the_ratio_and_floor_from_the_thresholds if {
	custom := {"canary": object.union(_limits, {"p99_ratio": 2, "p99_floor_ms": 50.0})}
	d := canary.decision with input as _both({"p99_latency_ms": 100.4}, {"p99_latency_ms": 40})
		with data.swiftdeploy.thresholds as custom
	d.violations == ["Canary P99 latency (100 ms) exceeds 2.00 × max(stable 40 ms, floor 50 ms) = 100 ms over the last 30s"]
}

test_relative_and_absolute_failures_together if {
	d := _decide(_both({"error_rate_percent": 40, "p99_latency_ms": 2004}, {"error_rate_percent": 0.5, "p99_latency_ms": 95}))
	d.violations == [
		"Canary P99 latency (2004 ms) exceeds 1.50 × max(stable 95 ms, floor 100 ms) = 150 ms over the last 30s",
		"Canary error rate (40.00%) exceeds stable (0.50%) by 39.50 points; at most 1.00 allowed over the last 30s",
		"Error rate (40.00%) exceeds maximum threshold (1.00%) over the last 30s",
		"P99 latency (2004 ms) exceeds maximum threshold (500 ms) over the last 30s",
	]
	_statuses(d) == ["fail", "fail", "pass", "pass", "fail", "fail"]
}

# --- too few requests: not judged ---

test_too_few_canary_requests_deny_with_their_own_sentence if {
	d := _decide(_canary(_first, {"requests": 3}))
	d.allow == false
	d.violations == ["Only 3 requests in the last 30s; at least 20 are needed to judge the canary"]
	_check(d, "min_requests").status == "fail"
	_check(d, "min_requests").observed == 3
}

test_too_few_canary_requests_leave_every_rule_over_the_canary_unjudged if {
	# A bad error rate over 3 requests says nothing: only the "Only N requests" sentence, and the checks
	# that need the canary's traffic report no_data (too little data is not health).
	d := _decide(_canary(_healthy, {"error_rate_percent": 66.67, "p99_latency_ms": 2004, "requests": 3}))
	d.violations == ["Only 3 requests in the last 30s; at least 20 are needed to judge the canary"]
	_statuses(d) == ["no_data", "no_data", "fail", "pass", "no_data", "no_data"]
	[check.passed | some check in d.checks] == [false, false, false, true, false, false]
	_check(d, "error_rate").observed == 66.67
}

test_a_canary_with_no_requests_is_not_judged if {
	quiet := {"requests": 0, "errors": 0, "error_rate_percent": 0, "p99_latency_ms": 0}
	with_baseline := _decide(_canary(_healthy, quiet))
	with_baseline.allow == false
	with_baseline.violations == ["Only 0 requests in the last 30s; at least 20 are needed to judge the canary"]
	_statuses(with_baseline) == ["no_data", "no_data", "fail", "pass", "no_data", "no_data"]

	first := _decide(_canary(_first, quiet))
	first.allow == false
	first.violations == with_baseline.violations
	_statuses(first) == ["no_data", "no_data", "fail"]
	first.notes == _no_baseline_note
}

test_one_canary_request_short_of_the_minimum_denies_and_the_minimum_passes if {
	_decide(_canary(_healthy, {"requests": 19})).violations == [
		"Only 19 requests in the last 30s; at least 20 are needed to judge the canary",
	]
	every requests in [20, 20.0, 21, 5000] {
		d := _decide(_canary(_healthy, {"requests": requests}))
		d.allow == true
		_statuses(d) == ["pass", "pass", "pass", "pass", "pass", "pass"]
	}
}

test_too_few_stable_requests_deny_and_leave_the_relative_rules_unjudged if {
	# The canary is judged on the absolute rules (its error rate fails them); the relative rules are not.
	d := _decide(_both({"error_rate_percent": 30}, {"requests": 19}))
	d.allow == false
	d.violations == [
		"Error rate (30.00%) exceeds maximum threshold (1.00%) over the last 30s",
		"Only 19 stable requests in the last 30s; at least 20 are needed to compare the canary with stable",
	]
	_statuses(d) == ["fail", "pass", "pass", "fail", "no_data", "no_data"]
	_check(d, "min_stable_requests") == {
		"id": "min_stable_requests", "title": "Stable requests in the window", "passed": false, "status": "fail",
		"observed": 19, "stable": 19, "threshold": 20, "unit": "requests",
	}
	_check(d, "error_rate_vs_stable").threshold == 1.19
}

test_a_stable_set_with_no_requests_denies_even_a_healthy_canary if {
	d := _decide(_stable(_healthy, {"requests": 0, "errors": 0, "error_rate_percent": 0, "p99_latency_ms": 0}))
	d.allow == false
	d.violations == ["Only 0 stable requests in the last 30s; at least 20 are needed to compare the canary with stable"]
	_statuses(d) == ["pass", "pass", "pass", "fail", "no_data", "no_data"]
	d.notes == []
}

test_stable_requests_at_or_above_the_minimum_let_the_canary_be_compared if {
	every requests in [20, 20.0, 21] {
		d := _decide(_stable(_healthy, {"requests": requests}))
		d.allow == true
		_check(d, "min_stable_requests").status == "pass"
	}
}

test_both_sets_without_requests_deny_with_both_sentences if {
	quiet := {"requests": 0, "errors": 0, "error_rate_percent": 0, "p99_latency_ms": 0}
	d := _decide(_both(quiet, quiet))
	d.violations == [
		"Only 0 requests in the last 30s; at least 20 are needed to judge the canary",
		"Only 0 stable requests in the last 30s; at least 20 are needed to compare the canary with stable",
	]
	_statuses(d) == ["no_data", "no_data", "fail", "fail", "no_data", "no_data"]
}

test_fractional_requests_round_down_and_a_fractional_minimum_rounds_up if {
	_decide(_both({"requests": 19.6}, {"requests": 19.6})).violations == [
		"Only 19 requests in the last 30s; at least 20 are needed to judge the canary",
		"Only 19 stable requests in the last 30s; at least 20 are needed to compare the canary with stable",
	]
	fractional := {"canary": object.union(_limits, {"min_requests": 20.2, "min_stable_requests": 20.2})}
	d := canary.decision with input as _both({"requests": 20.1}, {"requests": 20.1})
		with data.swiftdeploy.thresholds as fractional
	d.violations == [
		"Only 20 requests in the last 30s; at least 21 are needed to judge the canary",
		"Only 20 stable requests in the last 30s; at least 21 are needed to compare the canary with stable",
	]
}

test_the_stable_minimum_comes_from_its_own_threshold if {
	higher := {"canary": object.union(_limits, {"min_stable_requests": 3000})}
	d := canary.decision with input as _healthy with data.swiftdeploy.thresholds as higher
	d.violations == ["Only 2100 stable requests in the last 30s; at least 3000 are needed to compare the canary with stable"]
	_check(d, "min_requests").status == "pass"
}

# --- thresholds written as integers or decimals ---

test_integer_and_decimal_thresholds_print_the_same if {
	decimals := {"canary": {
		"max_error_rate_percent": 1.0, "max_p99_latency_ms": 500.0, "min_requests": 20.0,
		"min_stable_requests": 20.0, "max_error_rate_increase_points": 1.0, "p99_ratio": 1.50, "p99_floor_ms": 100.0,
	}}
	failing := _both({"error_rate_percent": 46.94, "p99_latency_ms": 2004, "requests": 98}, {"error_rate_percent": 0.2})
	with_decimals := canary.decision.violations with input as failing with data.swiftdeploy.thresholds as decimals
	with_decimals == _decide(failing).violations
	with_decimals == [
		"Canary P99 latency (2004 ms) exceeds 1.50 × max(stable 95 ms, floor 100 ms) = 150 ms over the last 30s",
		"Canary error rate (46.94%) exceeds stable (0.20%) by 46.74 points; at most 1.00 allowed over the last 30s",
		"Error rate (46.94%) exceeds maximum threshold (1.00%) over the last 30s",
		"P99 latency (2004 ms) exceeds maximum threshold (500 ms) over the last 30s",
	]

	few := _both({"requests": 3}, {"requests": 3})
	few_with_decimals := canary.decision.violations with input as few with data.swiftdeploy.thresholds as decimals
	few_with_decimals == _decide(few).violations
	few_with_decimals == [
		"Only 3 requests in the last 30s; at least 20 are needed to judge the canary",
		"Only 3 stable requests in the last 30s; at least 20 are needed to compare the canary with stable",
	]
}

# --- missing or non-numeric facts ---

test_missing_or_non_numeric_canary_fact_denies_naming_the_field if {
	every field in ["error_rate_percent", "p99_latency_ms", "requests"] {
		every bad in [null, "5", true] {
			every facts in [_first, _healthy] {
				d := _decide(_canary(facts, {field: bad}))
				d.allow == false
				d.violations == [sprintf("Missing or non-numeric input: canary.%s", [field])]
			}
		}
	}
}

test_missing_or_non_numeric_stable_fact_denies_naming_the_field if {
	every field in ["error_rate_percent", "p99_latency_ms", "requests"] {
		every bad in [null, "5", true] {
			d := _decide(_stable(_healthy, {field: bad}))
			d.allow == false
			d.violations == [sprintf("Missing or non-numeric input: stable.%s", [field])]
		}
	}
}

test_version_and_errors_are_not_required if {
	bare := {"window_seconds": 30, "canary": object.remove(_canary_set, ["version", "errors"])}
	_decide(bare).allow == true
	_decide(object.union(bare, {"stable": object.remove(_stable_set, ["version", "errors"])})).allow == true
}

test_missing_canary_fact_is_reported_as_null_and_fails_its_checks if {
	d := _decide({"window_seconds": 30, "canary": object.remove(_canary_set, ["p99_latency_ms"]), "stable": _stable_set})
	d.violations == ["Missing or non-numeric input: canary.p99_latency_ms"]
	_check(d, "p99_latency") == {
		"id": "p99_latency", "title": "P99 latency", "passed": false, "status": "fail",
		"observed": null, "stable": 95, "threshold": 500, "unit": "ms",
	}
	_check(d, "p99_vs_stable") == {
		"id": "p99_vs_stable", "title": "P99 latency vs stable", "passed": false, "status": "fail",
		"observed": null, "stable": 95, "threshold": 150, "unit": "ms",
	}
	_statuses(d) == ["pass", "fail", "pass", "pass", "pass", "fail"]
}

test_missing_stable_fact_leaves_the_relative_limit_null if {
	d := _decide({"window_seconds": 30, "canary": _canary_set, "stable": object.remove(_stable_set, ["error_rate_percent"])})
	d.violations == ["Missing or non-numeric input: stable.error_rate_percent"]
	_check(d, "error_rate_vs_stable") == {
		"id": "error_rate_vs_stable", "title": "Error rate vs stable", "passed": false, "status": "fail",
		"observed": 0.42, "stable": null, "threshold": null, "unit": "%",
	}
	_check(d, "error_rate").stable == null
	_statuses(d) == ["pass", "pass", "pass", "pass", "fail", "pass"]
}

test_unknown_stable_request_count_leaves_the_relative_rules_unjudged if {
	d := _decide(_stable(_healthy, {"requests": "2100"}))
	d.violations == ["Missing or non-numeric input: stable.requests"]
	_statuses(d) == ["pass", "pass", "pass", "fail", "no_data", "no_data"]
	_check(d, "min_stable_requests").observed == null
	_check(d, "min_requests").stable == null
}

test_unknown_window_leaves_every_rule_over_traffic_unjudged if {
	d := _decide(object.remove(_healthy, ["window_seconds"]))
	d.allow == false
	d.violations == ["Missing or non-numeric input: window_seconds"]
	_statuses(d) == ["no_data", "no_data", "pass", "pass", "no_data", "no_data"]
}

test_unknown_canary_request_count_leaves_every_rule_over_the_canary_unjudged if {
	d := _decide(_canary(_healthy, {"requests": "240"}))
	d.allow == false
	d.violations == ["Missing or non-numeric input: canary.requests"]
	_statuses(d) == ["no_data", "no_data", "fail", "pass", "no_data", "no_data"]
	_check(d, "min_requests").observed == null
}

test_missing_canary_set_denies_naming_each_of_its_fields if {
	every facts in [object.remove(_healthy, ["canary"]), object.union(_healthy, {"canary": null}), object.union(_healthy, {"canary": "1.0.1"})] {
		d := _decide(facts)
		d.allow == false
		d.violations == [
			"Missing or non-numeric input: canary.error_rate_percent",
			"Missing or non-numeric input: canary.p99_latency_ms",
			"Missing or non-numeric input: canary.requests",
		]
		[check.observed | some check in d.checks] == [null, null, null, 2100, null, null]
		_statuses(d) == ["no_data", "no_data", "fail", "pass", "no_data", "no_data"]
	}
}

test_a_stable_set_that_is_not_an_object_is_a_baseline_with_missing_facts if {
	every bad in ["1.0.0", [], true, 0] {
		d := _decide(object.union(_healthy, {"stable": bad}))
		d.allow == false
		d.violations == [
			"Missing or non-numeric input: stable.error_rate_percent",
			"Missing or non-numeric input: stable.p99_latency_ms",
			"Missing or non-numeric input: stable.requests",
		]
		_ids(d) == _all_ids
		d.notes == []
	}
}

test_no_input_at_all_denies_naming_every_field if {
	# No `with input`: the policy is asked with no input document, as `opa eval` without -i would.
	d := canary.decision with data.swiftdeploy.thresholds as _thresholds
	d.allow == false
	d.violations == [
		"Missing or non-numeric input: canary.error_rate_percent",
		"Missing or non-numeric input: canary.p99_latency_ms",
		"Missing or non-numeric input: canary.requests",
		"Missing or non-numeric input: window_seconds",
	]
	[check.observed | some check in d.checks] == [null, null, null]
	_statuses(d) == ["no_data", "no_data", "fail"]
	d.notes == _no_baseline_note
}

test_empty_or_non_object_input_denies_naming_every_field if {
	every facts in [{}, [], "canary", 5] {
		_decide(facts).violations == [
			"Missing or non-numeric input: canary.error_rate_percent",
			"Missing or non-numeric input: canary.p99_latency_ms",
			"Missing or non-numeric input: canary.requests",
			"Missing or non-numeric input: window_seconds",
		]
	}
}

# --- missing or non-numeric thresholds ---

test_missing_or_non_numeric_threshold_denies_naming_the_key if {
	every key, _ in _limits {
		every bad in [null, "5"] {
			broken := {"canary": object.union(_limits, {key: bad})}
			every facts in [_healthy, _first] {
				d := canary.decision with input as facts with data.swiftdeploy.thresholds as broken
				d.allow == false
				d.violations == [sprintf("Missing or non-numeric threshold: data.swiftdeploy.thresholds.canary.%s", [key])]
			}
		}
	}
}

test_missing_threshold_is_reported_as_null_and_fails_its_check if {
	broken := {"canary": object.remove(_limits, ["max_p99_latency_ms", "p99_floor_ms"])}
	d := canary.decision with input as _healthy with data.swiftdeploy.thresholds as broken
	_check(d, "p99_latency").threshold == null
	_check(d, "p99_vs_stable").threshold == null
	_statuses(d) == ["pass", "fail", "pass", "pass", "pass", "fail"]

	no_stable_minimum := {"canary": object.remove(_limits, ["min_stable_requests"])}
	e := canary.decision with input as _healthy with data.swiftdeploy.thresholds as no_stable_minimum
	e.violations == ["Missing or non-numeric threshold: data.swiftdeploy.thresholds.canary.min_stable_requests"]
	_statuses(e) == ["pass", "pass", "pass", "fail", "no_data", "no_data"]
}

test_no_thresholds_at_all_denies_naming_every_key if {
	d := canary.decision with input as _healthy with data.swiftdeploy.thresholds as {"infrastructure": {}}
	d.allow == false
	d.violations == [
		"Missing or non-numeric threshold: data.swiftdeploy.thresholds.canary.max_error_rate_increase_points",
		"Missing or non-numeric threshold: data.swiftdeploy.thresholds.canary.max_error_rate_percent",
		"Missing or non-numeric threshold: data.swiftdeploy.thresholds.canary.max_p99_latency_ms",
		"Missing or non-numeric threshold: data.swiftdeploy.thresholds.canary.min_requests",
		"Missing or non-numeric threshold: data.swiftdeploy.thresholds.canary.min_stable_requests",
		"Missing or non-numeric threshold: data.swiftdeploy.thresholds.canary.p99_floor_ms",
		"Missing or non-numeric threshold: data.swiftdeploy.thresholds.canary.p99_ratio",
	]
	[check.threshold | some check in d.checks] == [null, null, null, null, null, null]
	_statuses(d) == ["no_data", "no_data", "fail", "fail", "no_data", "no_data"]
}

test_data_json_sets_every_canary_threshold if {
	# No `with data`: this reads policies/data.json as the user keeps it. Only its shape is pinned:
	# the values are the user's to edit (policy tests run before every change reaches OPA).
	d := canary.decision with input as _healthy
	_ids(d) == _all_ids
	every check in d.checks {
		is_number(check.threshold)
	}
	every key, _ in _limits {
		is_number(data.swiftdeploy.thresholds.canary[key])
	}
}
