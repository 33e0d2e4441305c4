package provider

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Values of the `logging` input (enum command:local:Logging).
const (
	logStdout          = "stdout"
	logStderr          = "stderr"
	logStdoutAndStderr = "stdoutAndStderr"
	logNone            = "none"
)

var loggingModes = []string{logStdout, logStderr, logStdoutAndStderr, logNone}

// commandInputs are the inputs of one command:local:Command, decoded with secrets revealed.
type commandInputs struct {
	create, update, delete *string
	dir                    string
	stdin                  string
	environment            map[string]string
	interpreter            []string
	addPreviousOutputInEnv bool
	logging                string
}

// validator returns why v is not acceptable for its input, or "" when it is. Unknown values (in a
// preview) are acceptable: they are checked again once known.
type validator func(v resource.PropertyValue) string

var validators = map[resource.PropertyKey]validator{
	keyCreate:                 stringValue,
	keyUpdate:                 stringValue,
	keyDelete:                 stringValue,
	keyDir:                    stringValue,
	keyStdin:                  stringValue,
	keyEnvironment:            stringMapValue,
	keyInterpreter:            interpreterValue,
	keyTriggers:               arrayValue,
	keyAddPreviousOutputInEnv: boolValue,
	keyLogging:                loggingValue,
}

// unsupported inputs are rejected rather than ignored: a program relying on them would silently
// get nothing back.
var unsupported = map[resource.PropertyKey]string{
	keyAssetPaths: "assetPaths is not supported by this build of pulumi-resource-command " +
		"(SwiftDeploy's offline provider returns no assets); remove it or install the official plugin",
	keyArchivePaths: "archivePaths is not supported by this build of pulumi-resource-command " +
		"(SwiftDeploy's offline provider returns no archive); remove it or install the official plugin",
}

// validateInputs returns one reason per bad input of news (secrets revealed).
func validateInputs(news resource.PropertyMap) map[resource.PropertyKey]string {
	reasons := map[resource.PropertyKey]string{}
	for k, v := range news {
		if strings.HasPrefix(string(k), "__") {
			continue // engine-internal keys, not inputs
		}
		if reason, ok := unsupported[k]; ok {
			reasons[k] = reason
			continue
		}
		validate, ok := validators[k]
		if !ok {
			reasons[k] = fmt.Sprintf("unknown input %q; %s accepts %s", k, CommandType, acceptedInputs())
			continue
		}
		if reason := validate(v); reason != "" {
			reasons[k] = fmt.Sprintf("%s %s", k, reason)
		}
	}
	return reasons
}

func acceptedInputs() string {
	names := make([]string, len(inputKeys))
	for i, k := range inputKeys {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// decodeInputs reads the inputs of a checked property map (secrets revealed, no unknowns); output
// properties in a state are ignored.
func decodeInputs(m resource.PropertyMap) (commandInputs, error) {
	in := commandInputs{addPreviousOutputInEnv: true, logging: logStdoutAndStderr}
	for _, k := range inputKeys {
		v, ok := m[k]
		if !ok {
			continue
		}
		if v.ContainsUnknowns() {
			return in, fmt.Errorf("%s is not known yet; it cannot be used to run a command", k)
		}
		if reason := validators[k](v); reason != "" {
			return in, fmt.Errorf("%s %s", k, reason)
		}
		in.set(k, v)
	}
	return in, nil
}

// set stores one validated input value.
func (in *commandInputs) set(k resource.PropertyKey, v resource.PropertyValue) {
	switch k {
	case keyCreate:
		in.create = stringPtr(v)
	case keyUpdate:
		in.update = stringPtr(v)
	case keyDelete:
		in.delete = stringPtr(v)
	case keyDir:
		in.dir = v.StringValue()
	case keyStdin:
		in.stdin = v.StringValue()
	case keyEnvironment:
		in.environment = map[string]string{}
		for name, value := range v.ObjectValue() {
			in.environment[string(name)] = value.StringValue()
		}
	case keyInterpreter:
		for _, e := range v.ArrayValue() {
			in.interpreter = append(in.interpreter, e.StringValue())
		}
	case keyAddPreviousOutputInEnv:
		in.addPreviousOutputInEnv = v.BoolValue()
	case keyLogging:
		in.logging = v.StringValue()
	}
}

func stringPtr(v resource.PropertyValue) *string {
	s := v.StringValue()
	return &s
}

func stringValue(v resource.PropertyValue) string {
	if v.IsComputed() || v.IsString() {
		return ""
	}
	return "must be a string, got " + describe(v)
}

func boolValue(v resource.PropertyValue) string {
	if v.IsComputed() || v.IsBool() {
		return ""
	}
	return "must be a boolean, got " + describe(v)
}

func arrayValue(v resource.PropertyValue) string {
	if v.IsComputed() || v.IsArray() {
		return ""
	}
	return "must be a list, got " + describe(v)
}

func stringMapValue(v resource.PropertyValue) string {
	if v.IsComputed() {
		return ""
	}
	if !v.IsObject() {
		return "must be a map of strings, got " + describe(v)
	}
	obj := v.ObjectValue()
	for _, name := range obj.StableKeys() {
		if e := obj[name]; !e.IsComputed() && !e.IsString() {
			return fmt.Sprintf("must be a map of strings, got %s for %q", describe(e), name)
		}
	}
	return ""
}

func interpreterValue(v resource.PropertyValue) string {
	if v.IsComputed() {
		return ""
	}
	if !v.IsArray() || len(v.ArrayValue()) == 0 {
		return "must be a non-empty list of strings (program and arguments), got " + describe(v)
	}
	for i, e := range v.ArrayValue() {
		if !e.IsComputed() && !e.IsString() {
			return fmt.Sprintf("must be a list of strings, got %s at index %d", describe(e), i)
		}
	}
	return ""
}

func loggingValue(v resource.PropertyValue) string {
	if v.IsComputed() || (v.IsString() && slices.Contains(loggingModes, v.StringValue())) {
		return ""
	}
	return fmt.Sprintf("must be one of %s, got %s", strings.Join(loggingModes, ", "), describe(v))
}

// describe names the type and value of a bad input for an error message, the value as JSON.
func describe(v resource.PropertyValue) string {
	kind := v.TypeString()
	switch {
	case v.IsArray():
		kind = "list"
	case v.IsObject():
		kind = "map"
	}
	text, err := json.Marshal(v.Mappable())
	if err != nil {
		return kind
	}
	if len(text) > 60 {
		text = append(text[:57], "..."...)
	}
	return fmt.Sprintf("%s %s", kind, text)
}
