# METADATA
# title: Release without the canary judgement
# description: |
#   May a version become stable without going through the canary gate? Judged from the release the
#   program is about to make (action, version, stable_version, retained_versions; see lib/types.ts
#   ReleaseFacts) against data.swiftdeploy.thresholds.release (policies/data.json: two booleans).
#
#   action "unjudged" (mode stable with a version that never ran as a canary): allowed only when
#   require_canary is false. action "rollback" (back to an earlier stable version): allowed when
#   allow_rollback is true and the version is one of retained_versions (its image is still kept).
#   Any other action denies. Sentences:
#     1.2.0 has not run as a canary: set mode canary, pulumi up, then promote
#     1.0.0 is not a retained stable version (retained: 1.1.0, 1.0.0); rollback needs its image
#     Rollback to 1.0.0 is not allowed (allow_rollback is false in data.json)
#     Unknown release action "promote"; expected "unjudged" or "rollback"
#     Missing input: action; expected "unjudged" or "rollback"
#     Missing or non-string input: version
#     Missing or non-list input: retained_versions
#     Missing or non-boolean setting: data.swiftdeploy.thresholds.release.<key>
#   version is needed for every action, retained_versions (a list of strings) for a rollback only,
#   stable_version by no rule; both settings always.
#   Checks (no numbers: observed, stable and threshold are null): action, then require_canary for
#   "unjudged" or allow_rollback and retained_version for "rollback".
package swiftdeploy.release

import data.swiftdeploy.lib

# The gates read only this object (lib/types.ts PolicyDecision); nothing here explains without denying.
decision := {
	"allow": allow,
	"violations": sort(violations),
	"checks": checks,
	"notes": [],
}

default allow := false

# Both required, as in the other policies: neither a forgotten sentence nor a forgotten check can let a
# deny through.
allow if {
	violations == set()
	every check in checks {
		check.passed
	}
}

_settings := lib.thresholds("release")

_setting_keys := {"require_canary", "allow_rollback"}

# (A helper, not `not is_boolean(_settings[key])`: that fails, rather than holds, for a missing key.)
_boolean(obj, key) if is_boolean(obj[key])

_actions := {"unjudged", "rollback"}

_action := lib.facts.action

_version := lib.facts.version if is_string(lib.facts.version)

_retained := lib.facts.retained_versions if {
	is_array(lib.facts.retained_versions)
	every version in lib.facts.retained_versions {
		is_string(version)
	}
}

default _known_action := false

_known_action if _action in _actions

# A setting that is missing or not a boolean allows nothing: each rule asks for the one value that allows.
default _unjudged_ok := false

_unjudged_ok if _settings.require_canary == false

default _rollback_allowed := false

_rollback_allowed if _settings.allow_rollback == true

default _retained_ok := false

_retained_ok if _version in _retained

_check(id, title, passed) := {
	"id": id,
	"title": title,
	"passed": passed,
	"status": _status(passed),
	"observed": null,
	"stable": null,
	"threshold": null,
	"unit": "",
}

_status(true) := "pass"

_status(false) := "fail"

# The action check first, then one per rule of that action, in a fixed order.
checks := array.concat([_check("action", "Known release action", _known_action)], _action_checks)

default _action_checks := []

_action_checks := [_check("require_canary", "Ran as a canary first", _unjudged_ok)] if _action == "unjudged"

_action_checks := [
	_check("allow_rollback", "Rollback allowed", _rollback_allowed),
	_check("retained_version", "Version retained for rollback", _retained_ok),
] if _action == "rollback"

# A rule whose setting or fact is missing gets a "Missing" sentence below instead of one of these.
violations contains msg if {
	_action == "unjudged"
	_settings.require_canary == true
	msg := sprintf("%s has not run as a canary: set mode canary, pulumi up, then promote", [_version])
}

violations contains msg if {
	_action == "rollback"
	_settings.allow_rollback == false
	msg := sprintf("Rollback to %s is not allowed (allow_rollback is false in data.json)", [_version])
}

violations contains msg if {
	_action == "rollback"
	not _retained_ok
	msg := sprintf(
		"%s is not a retained stable version (retained: %s); rollback needs its image",
		[_version, _retained_list],
	)
}

_retained_list := concat(", ", _retained) if _retained != []

_retained_list := "none" if _retained == []

violations contains msg if {
	_action_given
	not _known_action
	msg := sprintf("Unknown release action %s; expected \"unjudged\" or \"rollback\"", [json.marshal(_action)])
}

violations contains "Missing input: action; expected \"unjudged\" or \"rollback\"" if not _action_given

# Absent or null; false is an action, if an unknown one.
default _action_given := false

_action_given if _action != null

violations contains "Missing or non-string input: version" if not _version

violations contains "Missing or non-list input: retained_versions" if {
	_action == "rollback"
	not _retained
}

violations contains msg if {
	some key in _setting_keys
	not _boolean(_settings, key)
	msg := sprintf("Missing or non-boolean setting: data.swiftdeploy.thresholds.release.%s", [key])
}
