// Package providerv1 is the generated Go code of provider.proto, the
// provider protocol version 1. Regenerate with `go generate ./providers/proto/...`
// (needs protoc from Debian's protobuf-compiler; the Go plugins are pinned
// as tools in go.mod).
package providerv1

//go:generate sh -c "protoc --plugin=protoc-gen-go=$(go tool -n protoc-gen-go) --plugin=protoc-gen-go-grpc=$(go tool -n protoc-gen-go-grpc) --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative provider.proto"
