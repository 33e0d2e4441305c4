package swiftdeploy.release_test

import data.swiftdeploy.release

# Settings are pinned here so the tests do not move when policies/data.json is tuned.
_strict := {"release": {"require_canary": true, "allow_rollback": true}}

_lenient := {"release": {"require_canary": false, "allow_rollback": true}}

_no_rollback := {"release": {"require_canary": true, "allow_rollback": false}}

_unjudged := {"action": "unjudged", "version": "1.2.0", "stable_version": "1.1.0", "retained_versions": ["1.1.0", "1.0.0"]}

_rollback := {"action": "rollback", "version": "1.0.0", "stable_version": "1.1.0", "retained_versions": ["1.1.0", "1.0.0"]}

_decide(facts, settings) := d if {
	d := release.decision with input as facts with data.swiftdeploy.thresholds as settings
}

_with(facts, values) := object.union(facts, values)

_action_check := {
	"id": "action", "title": "Known release action", "passed": true, "status": "pass",
	"observed": null, "stable": null, "threshold": null, "unit": "",
}

_statuses(decision) := [[check.id, check.status] | some check in decision.checks]

# --- unjudged ---

test_an_unjudged_release_is_refused_when_a_canary_is_required if {
	_decide(_unjudged, _strict) == {
		"allow": false,
		"violations": ["1.2.0 has not run as a canary: set mode canary, pulumi up, then promote"],
		"notes": [],
		"checks": [
			_action_check,
			{
				"id": "require_canary", "title": "Ran as a canary first", "passed": false, "status": "fail",
				"observed": null, "stable": null, "threshold": null, "unit": "",
			},
		],
	}
}

test_an_unjudged_release_is_allowed_when_no_canary_is_required if {
	_decide(_unjudged, _lenient) == {
		"allow": true,
		"violations": [],
		"notes": [],
		"checks": [
			_action_check,
			{
				"id": "require_canary", "title": "Ran as a canary first", "passed": true, "status": "pass",
				"observed": null, "stable": null, "threshold": null, "unit": "",
			},
		],
	}
}

test_the_refusal_names_the_version_from_the_input if {
	_decide(_with(_unjudged, {"version": "2.0.0-rc.1"}), _strict).violations == [
		"2.0.0-rc.1 has not run as a canary: set mode canary, pulumi up, then promote",
	]
}

test_an_unjudged_first_release_needs_no_stable_or_retained_versions if {
	first := {"action": "unjudged", "version": "1.0.0", "stable_version": null, "retained_versions": []}
	_decide(first, _lenient).allow == true
	_decide(object.remove(first, ["stable_version", "retained_versions"]), _lenient).allow == true
	_decide(first, _strict).violations == ["1.0.0 has not run as a canary: set mode canary, pulumi up, then promote"]
}

test_allow_rollback_does_not_affect_an_unjudged_release if {
	_decide(_unjudged, {"release": {"require_canary": false, "allow_rollback": false}}).allow == true
}

# --- rollback ---

test_a_rollback_to_a_retained_version_is_allowed if {
	_decide(_rollback, _strict) == {
		"allow": true,
		"violations": [],
		"notes": [],
		"checks": [
			_action_check,
			{
				"id": "allow_rollback", "title": "Rollback allowed", "passed": true, "status": "pass",
				"observed": null, "stable": null, "threshold": null, "unit": "",
			},
			{
				"id": "retained_version", "title": "Version retained for rollback", "passed": true, "status": "pass",
				"observed": null, "stable": null, "threshold": null, "unit": "",
			},
		],
	}
	_decide(_with(_rollback, {"version": "1.1.0"}), _strict).allow == true
}

test_require_canary_does_not_affect_a_rollback if {
	_decide(_rollback, _lenient).allow == true
}

test_a_rollback_to_a_version_not_retained_is_refused if {
	d := _decide(_with(_rollback, {"version": "0.9.0"}), _strict)
	d.allow == false
	d.violations == ["0.9.0 is not a retained stable version (retained: 1.1.0, 1.0.0); rollback needs its image"]
	_statuses(d) == [["action", "pass"], ["allow_rollback", "pass"], ["retained_version", "fail"]]
}

test_a_rollback_with_nothing_retained_says_none if {
	_decide(_with(_rollback, {"retained_versions": []}), _strict).violations == [
		"1.0.0 is not a retained stable version (retained: none); rollback needs its image",
	]
	_decide(_with(_rollback, {"retained_versions": ["1.1.0"]}), _strict).violations == [
		"1.0.0 is not a retained stable version (retained: 1.1.0); rollback needs its image",
	]
}

test_a_rollback_is_refused_when_rollbacks_are_not_allowed if {
	d := _decide(_rollback, _no_rollback)
	d.allow == false
	d.violations == ["Rollback to 1.0.0 is not allowed (allow_rollback is false in data.json)"]
	_statuses(d) == [["action", "pass"], ["allow_rollback", "fail"], ["retained_version", "pass"]]
}

test_a_rollback_both_not_allowed_and_not_retained_has_both_sentences if {
	_decide(_with(_rollback, {"version": "0.9.0"}), _no_rollback).violations == [
		"0.9.0 is not a retained stable version (retained: 1.1.0, 1.0.0); rollback needs its image",
		"Rollback to 0.9.0 is not allowed (allow_rollback is false in data.json)",
	]
}

# --- unknown or missing action ---

test_an_unknown_action_denies_naming_it if {
	every action in ["promote", "Rollback", "", 5, false, ["rollback"]] {
		d := _decide(_with(_unjudged, {"action": action}), _lenient)
		d.allow == false
		d.violations == [sprintf("Unknown release action %s; expected \"unjudged\" or \"rollback\"", [json.marshal(action)])]
		_statuses(d) == [["action", "fail"]]
	}
	_decide(_with(_unjudged, {"action": "promote"}), _lenient).violations == [
		"Unknown release action \"promote\"; expected \"unjudged\" or \"rollback\"",
	]
}

test_a_missing_action_denies if {
	every facts in [object.remove(_unjudged, ["action"]), _with(_unjudged, {"action": null})] {
		d := _decide(facts, _lenient)
		d.allow == false
		d.violations == ["Missing input: action; expected \"unjudged\" or \"rollback\""]
		_statuses(d) == [["action", "fail"]]
	}
}

test_no_input_at_all_denies if {
	# No `with input`: the policy is asked with no input document, as `opa eval` without -i would.
	d := release.decision with data.swiftdeploy.thresholds as _lenient
	d.allow == false
	d.violations == [
		"Missing input: action; expected \"unjudged\" or \"rollback\"",
		"Missing or non-string input: version",
	]
	every facts in [{}, [], "rollback"] {
		_decide(facts, _lenient).violations == d.violations
	}
}

# --- missing or malformed facts ---

test_a_missing_or_non_string_version_denies if {
	every facts in [_unjudged, _rollback] {
		every bad in [null, 1.2, ["1.2.0"]] {
			d := _decide(_with(facts, {"version": bad}), _lenient)
			d.allow == false
			d.violations == ["Missing or non-string input: version"]
		}
		_decide(object.remove(facts, ["version"]), _lenient).violations == ["Missing or non-string input: version"]
	}
	_statuses(_decide(object.remove(_unjudged, ["version"]), _strict)) == [["action", "pass"], ["require_canary", "fail"]]
	_statuses(_decide(object.remove(_rollback, ["version"]), _strict)) == [
		["action", "pass"], ["allow_rollback", "pass"], ["retained_version", "fail"],
	]
}

test_a_rollback_needs_a_list_of_retained_version_strings if {
	every bad in [null, "1.0.0", {"1.0.0": true}, ["1.1.0", 1]] {
		d := _decide(_with(_rollback, {"retained_versions": bad}), _strict)
		d.allow == false
		d.violations == ["Missing or non-list input: retained_versions"]
		_statuses(d) == [["action", "pass"], ["allow_rollback", "pass"], ["retained_version", "fail"]]
	}
	_decide(object.remove(_rollback, ["retained_versions"]), _strict).violations == [
		"Missing or non-list input: retained_versions",
	]
}

# --- missing or non-boolean settings ---

test_a_missing_or_non_boolean_setting_denies_naming_the_key if {
	every key in ["require_canary", "allow_rollback"] {
		every bad in [null, "false", 0, "true", 1] {
			every facts in [_unjudged, _rollback] {
				broken := {"release": object.union(_lenient.release, {key: bad})}
				d := _decide(facts, broken)
				d.allow == false
				d.violations == [sprintf("Missing or non-boolean setting: data.swiftdeploy.thresholds.release.%s", [key])]
			}
		}
	}
}

test_a_missing_setting_fails_the_check_of_its_rule if {
	d := _decide(_unjudged, {"release": {"allow_rollback": true}})
	d.violations == ["Missing or non-boolean setting: data.swiftdeploy.thresholds.release.require_canary"]
	_statuses(d) == [["action", "pass"], ["require_canary", "fail"]]

	e := _decide(_rollback, {"release": {"require_canary": false}})
	e.violations == ["Missing or non-boolean setting: data.swiftdeploy.thresholds.release.allow_rollback"]
	_statuses(e) == [["action", "pass"], ["allow_rollback", "fail"], ["retained_version", "pass"]]
}

test_no_settings_at_all_denies_naming_every_key if {
	every facts in [_unjudged, _rollback] {
		d := _decide(facts, {"canary": {}})
		d.allow == false
		d.violations == [
			"Missing or non-boolean setting: data.swiftdeploy.thresholds.release.allow_rollback",
			"Missing or non-boolean setting: data.swiftdeploy.thresholds.release.require_canary",
		]
	}
}

test_data_json_sets_every_release_setting if {
	# No `with data`: this reads policies/data.json as the user keeps it; only its shape is pinned.
	every key in ["require_canary", "allow_rollback"] {
		is_boolean(data.swiftdeploy.thresholds.release[key])
	}
	d := release.decision with input as _rollback
	count(d.checks) == 3
}
