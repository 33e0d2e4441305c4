package swiftdeploy.infrastructure_test

import data.swiftdeploy.infrastructure

# Thresholds are pinned here so the tests do not move when policies/data.json is tuned.
_thresholds := {"infrastructure": {"min_disk_free_gb": 10, "max_cpu_load": 2, "min_mem_free_percent": 10}}

_healthy := {"disk_free_gb": 50.5, "cpu_load": 0.75, "mem_free_percent": 42.25}

_decide(facts) := d if {
	d := infrastructure.decision with input as facts with data.swiftdeploy.thresholds as _thresholds
}

_with_fact(field, value) := object.union(_healthy, {field: value})

_check(decision, id) := check if {
	some check in decision.checks
	check.id == id
}

test_healthy_host_is_allowed_and_every_check_reports_its_threshold if {
	_decide(_healthy) == {
		"allow": true,
		"violations": [],
		"checks": [
			{"id": "disk_free", "title": "Disk free space", "passed": true, "observed": 50.5, "threshold": 10, "unit": "GB"},
			{"id": "cpu_load", "title": "CPU load (1-minute average)", "passed": true, "observed": 0.75, "threshold": 2, "unit": "load"},
			{"id": "mem_free", "title": "Memory available", "passed": true, "observed": 42.25, "threshold": 10, "unit": "%"},
		],
	}
}

test_disk_below_minimum_denies_with_its_sentence if {
	d := _decide(_with_fact("disk_free_gb", 3.2))
	d.allow == false
	d.violations == ["Disk free (3.2 GB) is below minimum threshold (10.0 GB)"]
	_check(d, "disk_free").passed == false
	_check(d, "disk_free").observed == 3.2
}

test_disk_just_below_minimum_denies_on_the_unrounded_value if {
	# 9.96 prints as 10.0, yet it is below 10: the decision never uses the rounded text.
	_decide(_with_fact("disk_free_gb", 9.96)).violations == ["Disk free (10.0 GB) is below minimum threshold (10.0 GB)"]
}

test_disk_at_or_above_minimum_passes if {
	every disk in [10, 10.0, 10.01, 800] {
		d := _decide(_with_fact("disk_free_gb", disk))
		d.allow == true
		d.violations == []
		_check(d, "disk_free").passed == true
	}
}

test_cpu_load_above_maximum_denies_with_its_sentence if {
	d := _decide(_with_fact("cpu_load", 2.41))
	d.allow == false
	d.violations == ["CPU load (2.41) exceeds maximum threshold (2.00)"]
	_check(d, "cpu_load").passed == false
}

test_cpu_load_just_above_maximum_denies if {
	_decide(_with_fact("cpu_load", 2.01)).violations == ["CPU load (2.01) exceeds maximum threshold (2.00)"]
}

test_cpu_load_at_or_below_maximum_passes if {
	every load in [2, 2.0, 1.99, 0] {
		d := _decide(_with_fact("cpu_load", load))
		d.allow == true
		d.violations == []
		_check(d, "cpu_load").passed == true
	}
}

test_memory_below_minimum_denies_with_its_sentence if {
	d := _decide(_with_fact("mem_free_percent", 7.5))
	d.allow == false
	d.violations == ["Memory free (7.5%) is below minimum threshold (10.0%)"]
	_check(d, "mem_free").passed == false
}

test_memory_at_or_above_minimum_passes if {
	every mem in [10, 10.0, 10.01, 100] {
		d := _decide(_with_fact("mem_free_percent", mem))
		d.allow == true
		d.violations == []
		_check(d, "mem_free").passed == true
	}
}

test_every_failing_rule_has_its_own_sentence_in_sorted_order if {
	d := _decide({"disk_free_gb": 3.2, "cpu_load": 2.41, "mem_free_percent": 7.5})
	d.allow == false
	d.violations == [
		"CPU load (2.41) exceeds maximum threshold (2.00)",
		"Disk free (3.2 GB) is below minimum threshold (10.0 GB)",
		"Memory free (7.5%) is below minimum threshold (10.0%)",
	]
	[check.passed | some check in d.checks] == [false, false, false]
}

test_whole_observed_numbers_print_with_their_decimals if {
	_decide({"disk_free_gb": 3, "cpu_load": 3, "mem_free_percent": 7}).violations == [
		"CPU load (3.00) exceeds maximum threshold (2.00)",
		"Disk free (3.0 GB) is below minimum threshold (10.0 GB)",
		"Memory free (7.0%) is below minimum threshold (10.0%)",
	]
}

test_integer_and_decimal_thresholds_print_the_same if {
	facts := {"disk_free_gb": 3.2, "cpu_load": 2.41, "mem_free_percent": 7.5}
	decimals := {"infrastructure": {"min_disk_free_gb": 10.0, "max_cpu_load": 2.0, "min_mem_free_percent": 10.0}}
	with_decimals := infrastructure.decision.violations with input as facts with data.swiftdeploy.thresholds as decimals
	with_decimals == _decide(facts).violations
	with_decimals == [
		"CPU load (2.41) exceeds maximum threshold (2.00)",
		"Disk free (3.2 GB) is below minimum threshold (10.0 GB)",
		"Memory free (7.5%) is below minimum threshold (10.0%)",
	]
}

test_missing_or_non_numeric_fact_denies_naming_the_field if {
	every bad in [null, "5", true, [5], {"gb": 5}] {
		d := _decide(_with_fact("disk_free_gb", bad))
		d.allow == false
		d.violations == ["Missing or non-numeric input: disk_free_gb"]
		_check(d, "disk_free") == {
			"id": "disk_free", "title": "Disk free space", "passed": false,
			"observed": null, "threshold": 10, "unit": "GB",
		}
	}
}

test_absent_fact_denies_naming_the_field if {
	d := _decide(object.remove(_healthy, ["cpu_load"]))
	d.allow == false
	d.violations == ["Missing or non-numeric input: cpu_load"]
	_check(d, "cpu_load").observed == null
	_check(d, "cpu_load").passed == false
}

test_string_numbers_are_not_read_as_numbers if {
	_decide({"disk_free_gb": "50", "cpu_load": "0.5", "mem_free_percent": "40"}).violations == [
		"Missing or non-numeric input: cpu_load",
		"Missing or non-numeric input: disk_free_gb",
		"Missing or non-numeric input: mem_free_percent",
	]
}

test_no_input_at_all_denies_naming_every_field if {
	# No `with input`: the policy is asked with no input document, as `opa eval` without -i would.
	d := infrastructure.decision with data.swiftdeploy.thresholds as _thresholds
	d.allow == false
	d.violations == [
		"Missing or non-numeric input: cpu_load",
		"Missing or non-numeric input: disk_free_gb",
		"Missing or non-numeric input: mem_free_percent",
	]
	[check.observed | some check in d.checks] == [null, null, null]
	[check.passed | some check in d.checks] == [false, false, false]
}

test_empty_or_non_object_input_denies_naming_every_field if {
	every facts in [{}, [], "disk_free_gb=50"] {
		_decide(facts).violations == [
			"Missing or non-numeric input: cpu_load",
			"Missing or non-numeric input: disk_free_gb",
			"Missing or non-numeric input: mem_free_percent",
		]
	}
}

test_missing_or_non_numeric_threshold_denies_naming_the_key if {
	broken := {"infrastructure": {"min_disk_free_gb": 10, "max_cpu_load": "2", "min_mem_free_percent": 10}}
	d := infrastructure.decision with input as _healthy with data.swiftdeploy.thresholds as broken
	d.allow == false
	d.violations == ["Missing or non-numeric threshold: data.swiftdeploy.thresholds.infrastructure.max_cpu_load"]
	_check(d, "cpu_load").threshold == null
	_check(d, "cpu_load").passed == false
}

test_no_thresholds_at_all_denies_naming_every_key if {
	d := infrastructure.decision with input as _healthy with data.swiftdeploy.thresholds as {}
	d.allow == false
	d.violations == [
		"Missing or non-numeric threshold: data.swiftdeploy.thresholds.infrastructure.max_cpu_load",
		"Missing or non-numeric threshold: data.swiftdeploy.thresholds.infrastructure.min_disk_free_gb",
		"Missing or non-numeric threshold: data.swiftdeploy.thresholds.infrastructure.min_mem_free_percent",
	]
}

test_data_json_sets_every_infrastructure_threshold if {
	# No `with data`: this reads policies/data.json as the user keeps it. Only its shape is pinned:
	# the values are the user's to edit (policy tests run before every change reaches OPA).
	d := infrastructure.decision with input as _healthy
	every check in d.checks {
		is_number(check.threshold)
	}
}
