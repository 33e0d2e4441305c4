package provider

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"google.golang.org/protobuf/types/known/structpb"
)

// Input property names, exactly as `@pulumi/command` 1.2.1 sends them.
const (
	keyCreate                 = "create"
	keyUpdate                 = "update"
	keyDelete                 = "delete"
	keyEnvironment            = "environment"
	keyDir                    = "dir"
	keyInterpreter            = "interpreter"
	keyStdin                  = "stdin"
	keyTriggers               = "triggers"
	keyAddPreviousOutputInEnv = "addPreviousOutputInEnv"
	keyLogging                = "logging"
	keyAssetPaths             = "assetPaths"
	keyArchivePaths           = "archivePaths"
)

// Output-only property names.
const (
	keyStdout = "stdout"
	keyStderr = "stderr"
)

// inputKeys are the inputs this provider implements, in the order Diff reports them.
var inputKeys = []resource.PropertyKey{
	keyCreate, keyUpdate, keyDelete, keyEnvironment, keyDir, keyInterpreter, keyStdin,
	keyTriggers, keyAddPreviousOutputInEnv, keyLogging,
}

// unmarshal decodes properties from the engine keeping unknowns and secrets, so that both can be
// passed back unchanged.
func unmarshal(s *structpb.Struct, label string) (resource.PropertyMap, error) {
	return plugin.UnmarshalProperties(s, plugin.MarshalOptions{
		Label: label, KeepUnknowns: true, KeepSecrets: true, KeepResources: true, SkipNulls: true,
	})
}

// marshal encodes properties for the engine; unknowns are only legal in a preview.
func marshal(props resource.PropertyMap, label string, preview bool) (*structpb.Struct, error) {
	return plugin.MarshalProperties(props, plugin.MarshalOptions{
		Label: label, KeepUnknowns: preview, KeepSecrets: true, KeepResources: true, SkipNulls: true,
	})
}

// reveal returns v with every secret replaced by its plain value: commands need the plain text.
func reveal(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsSecret():
		return reveal(v.SecretValue().Element)
	case v.IsArray():
		elems := make([]resource.PropertyValue, len(v.ArrayValue()))
		for i, e := range v.ArrayValue() {
			elems[i] = reveal(e)
		}
		return resource.NewArrayProperty(elems)
	case v.IsObject():
		return resource.NewObjectProperty(revealMap(v.ObjectValue()))
	}
	return v
}

func revealMap(m resource.PropertyMap) resource.PropertyMap {
	out := make(resource.PropertyMap, len(m))
	for k, v := range m {
		out[k] = reveal(v)
	}
	return out
}

// onlyInputs keeps the implemented inputs of a property map that may also hold outputs (a state).
func onlyInputs(m resource.PropertyMap) resource.PropertyMap {
	out := resource.PropertyMap{}
	for _, k := range inputKeys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}
