package plan

// FormatVersion is the version of the plan document.
const FormatVersion = 1

// Encode writes p as its versioned JSON document: canonically ordered,
// sensitive values redacted, unknown values marked. The same document is
// the saved plan file and the output of `show --json`.
func Encode(p *Plan) ([]byte, error) { panic("unimplemented") }

// Decode reads a document written by Encode.
func Decode(b []byte) (*Plan, error) { panic("unimplemented") }
