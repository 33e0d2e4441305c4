# METADATA
# title: Host fitness
# description: |
#   May this host run the stack? Judged from the facts the infrastructure gate sends
#   (disk_free_gb, cpu_load, mem_free_percent; see lib/types.ts HostFacts) against
#   data.swiftdeploy.thresholds.infrastructure (policies/data.json). A value exactly at its threshold
#   passes. Sentences print GB and % with one decimal and the load with two.
package swiftdeploy.infrastructure

import data.swiftdeploy.lib

# The gates and the dashboard read only this object (lib/types.ts PolicyDecision).
decision := {
	"allow": allow,
	"violations": sort(violations),
	"checks": checks,
}

default allow := false

# Every failing check has a sentence and every sentence a failing check; both are required anyway, so
# neither a forgotten sentence nor a forgotten check can let a deny through. A missing fact or threshold
# fails its check, so it denies as well as a value beyond its threshold.
allow if {
	violations == set()
	every check in checks {
		check.passed
	}
}

_limits := lib.thresholds("infrastructure")

_disk_free := lib.number(lib.facts, "disk_free_gb")

_cpu_load := lib.number(lib.facts, "cpu_load")

_mem_free := lib.number(lib.facts, "mem_free_percent")

_min_disk_free := lib.number(_limits, "min_disk_free_gb")

_max_cpu_load := lib.number(_limits, "max_cpu_load")

_min_mem_free := lib.number(_limits, "min_mem_free_percent")

default _disk_free_ok := false

_disk_free_ok if _disk_free >= _min_disk_free

default _cpu_load_ok := false

_cpu_load_ok if _cpu_load <= _max_cpu_load

default _mem_free_ok := false

_mem_free_ok if _mem_free >= _min_mem_free

# One entry per rule, in a fixed order, so a dashboard can list compliance without holding a threshold.
checks := [
	{
		"id": "disk_free",
		"title": "Disk free space",
		"passed": _disk_free_ok,
		"observed": lib.number_or_null(lib.facts, "disk_free_gb"),
		"threshold": lib.number_or_null(_limits, "min_disk_free_gb"),
		"unit": "GB",
	},
	{
		"id": "cpu_load",
		"title": "CPU load (1-minute average)",
		"passed": _cpu_load_ok,
		"observed": lib.number_or_null(lib.facts, "cpu_load"),
		"threshold": lib.number_or_null(_limits, "max_cpu_load"),
		"unit": "load",
	},
	{
		"id": "mem_free",
		"title": "Memory available",
		"passed": _mem_free_ok,
		"observed": lib.number_or_null(lib.facts, "mem_free_percent"),
		"threshold": lib.number_or_null(_limits, "min_mem_free_percent"),
		"unit": "%",
	},
]

# A rule whose fact or threshold is missing gets the "Missing or non-numeric" sentence below instead:
# its formatting here is undefined, so no sentence about a value is made up.
violations contains msg if {
	not _disk_free_ok
	msg := sprintf(
		"Disk free (%s GB) is below minimum threshold (%s GB)",
		[lib.one_decimal(_disk_free), lib.one_decimal(_min_disk_free)],
	)
}

violations contains msg if {
	not _cpu_load_ok
	msg := sprintf(
		"CPU load (%s) exceeds maximum threshold (%s)",
		[lib.two_decimals(_cpu_load), lib.two_decimals(_max_cpu_load)],
	)
}

violations contains msg if {
	not _mem_free_ok
	msg := sprintf(
		"Memory free (%s%%) is below minimum threshold (%s%%)",
		[lib.one_decimal(_mem_free), lib.one_decimal(_min_mem_free)],
	)
}

violations contains msg if {
	some msg in lib.missing_inputs({"disk_free_gb", "cpu_load", "mem_free_percent"})
}

violations contains msg if {
	some msg in lib.missing_thresholds("infrastructure", {"min_disk_free_gb", "max_cpu_load", "min_mem_free_percent"})
}
