package system.authz_test

import data.system.authz

_allowed(method, path) if authz.allow with input as {"method": method, "path": path, "params": {}}

test_health_is_allowed if {
	_allowed("GET", ["health"])
}

test_each_gate_decision_is_allowed if {
	_allowed("POST", ["v1", "data", "swiftdeploy", "infrastructure", "decision"])
	_allowed("POST", ["v1", "data", "swiftdeploy", "canary", "decision"])
	_allowed("POST", ["v1", "data", "swiftdeploy", "release", "decision"])
}

test_writes_of_data_and_policies_are_refused if {
	every method in ["PUT", "PATCH", "DELETE", "POST"] {
		not _allowed(method, ["v1", "data", "probe"])
		not _allowed(method, ["v1", "policies", "x"])
	}
	not _allowed("PUT", ["v1", "data", "swiftdeploy", "canary", "decision"])
	not _allowed("PATCH", ["v1", "data", "swiftdeploy", "thresholds"])
	not _allowed("DELETE", ["v1", "data", "swiftdeploy"])
}

test_data_system_and_whole_documents_are_refused if {
	every method in ["GET", "POST"] {
		not _allowed(method, ["v1", "data", "system", "authz", "allow"])
		not _allowed(method, ["v1", "data", "system"])
		not _allowed(method, ["v1", "data"])
		not _allowed(method, ["v1", "data", "swiftdeploy", "thresholds"])
		not _allowed(method, ["v1", "data", "swiftdeploy", "canary"])
	}
	not _allowed("GET", ["v1", "policies"])
	not _allowed("GET", ["v1", "data", "swiftdeploy", "canary", "decision"])
}

test_other_endpoints_and_methods_are_refused if {
	not _allowed("POST", ["v1", "query"])
	not _allowed("POST", ["v1", "compile"])
	not _allowed("POST", [""])
	not _allowed("GET", ["v1", "config"])
	not _allowed("GET", ["v1", "status"])
	not _allowed("GET", ["metrics"])
	not _allowed("HEAD", ["health"])
	not _allowed("POST", ["health"])
	not _allowed("POST", ["v1", "data", "swiftdeploy", "other", "decision"])
	not _allowed("POST", ["v1", "data", "swiftdeploy", "canary", "decision", ""])
}

test_query_parameters_are_refused if {
	not authz.allow with input as {"method": "GET", "path": ["health"], "params": {"bundles": [""]}}
	not authz.allow with input as {
		"method": "POST",
		"path": ["v1", "data", "swiftdeploy", "canary", "decision"],
		"params": {"explain": ["full"]},
	}
}

test_no_parameters_field_counts_as_none if {
	authz.allow with input as {"method": "GET", "path": ["health"]}
}

test_no_input_is_refused if {
	not authz.allow with input as {}
}
