package abi

// Parameter types a manifest may declare.
const (
	TypeString    = "string"
	TypeInt       = "int"
	TypeFloat     = "float"
	TypeBool      = "bool"
	TypeRegion    = "region"
	TypeURL       = "url"
	TypeReference = "reference"
	TypeEnum      = "enum"
)

// ParamTypes lists every valid parameter type.
var ParamTypes = []string{TypeString, TypeInt, TypeFloat, TypeBool, TypeRegion, TypeURL, TypeReference, TypeEnum}
