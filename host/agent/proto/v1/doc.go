// Package agentv1 is the generated Go code of agent.proto, the protocol
// between Drover and its agent on a remote machine, version 1. Regenerate
// with `go generate ./host/agent/proto/...` (needs protoc from Debian's
// protobuf-compiler; the Go plugins are pinned as tools in go.mod).
package agentv1

//go:generate sh -c "protoc --plugin=protoc-gen-go=$(go tool -n protoc-gen-go) --plugin=protoc-gen-go-grpc=$(go tool -n protoc-gen-go-grpc) --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative agent.proto"
