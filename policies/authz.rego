# METADATA
# title: OPA's own API
# description: |
#   OPA runs with --authorization=basic and asks this rule about every request to its REST API (the Unix
#   socket in the stack's state folder). SwiftDeploy only ever asks for health and for the gates'
#   decisions, so that is all OPA serves: every write of data or policies, every read of data.system or of
#   the whole data document, every query parameter (explain, instrument, ...) and every other endpoint is
#   refused with 401. Policies still reach OPA by deploy, as files loaded at start.
package system.authz

default allow := false

# The readiness probe and Docker's healthcheck.
allow if {
	input.method == "GET"
	input.path == ["health"]
	_no_parameters
}

# One question to one gate's decision (lib/types.ts POLICY_PACKAGES).
allow if {
	input.method == "POST"
	some gate in _gates
	input.path == ["v1", "data", "swiftdeploy", gate, "decision"]
	_no_parameters
}

_gates := {"infrastructure", "canary", "release"}

# Query parameters change what OPA answers (explain, instrument, provenance, strict-builtin-errors):
# SwiftDeploy sends none.
_no_parameters if object.get(input, "params", {}) == {}
