# METADATA
# title: Helpers shared by the SwiftDeploy policies
# description: |
#   Reading facts and thresholds defensively (a missing or non-numeric value is undefined, never a
#   comparison against a string or null), the sentences for such values, and number formatting.
package swiftdeploy.lib

# The facts sent as input; {} when there is no input at all, so every rule still answers. (Input that is
# not an object needs no guard: looking a field up in it is undefined, as for an absent field.)
default facts := {}

facts := input

# The thresholds of one gate from policies/data.json; {} when that part of data.json is missing, so every
# rule still answers (and names each missing threshold).
default thresholds(_) := {}

thresholds(gate) := data.swiftdeploy.thresholds[gate]

# obj[key] when it is a number; undefined otherwise (absent, null, "5", true, ...).
number(obj, key) := obj[key] if is_number(obj[key])

# What a check reports as observed or threshold: the number, or null when there is none.
number_or_null(obj, key) := obj[key] if {
	is_number(obj[key])
} else := null

missing_inputs(fields) := {sprintf("Missing or non-numeric input: %s", [field]) |
	some field in fields
	not number(facts, field)
}

missing_thresholds(gate, keys) := {msg |
	some key in keys
	not number(thresholds(gate), key)
	msg := sprintf("Missing or non-numeric threshold: data.swiftdeploy.thresholds.%s.%s", [gate, key])
}

# Formatting for people: to the nearest printed digit, for display only (the policies decide on the
# unrounded values). sprintf's %f accepts only numbers OPA holds as floats: a whole number (10 in
# data.json, 3 in the input, or the result of 10.5 - 0.5) is held as an integer and would print as
# "%!f(int64=10)", so whole numbers take the %d path and get their zeros appended.

# one_decimal(10) == "10.0", one_decimal(7.45) == "7.5"
one_decimal(x) := sprintf("%d.0", [round(x)]) if {
	_whole(x)
} else := sprintf("%.1f", [x])

# two_decimals(2) == "2.00", two_decimals(46.9387) == "46.94"
two_decimals(x) := sprintf("%d.00", [round(x)]) if {
	_whole(x)
} else := sprintf("%.2f", [x])

# whole(2004.4) == "2004"
whole(x) := sprintf("%d", [round(x)])

_whole(x) if x == round(x)
