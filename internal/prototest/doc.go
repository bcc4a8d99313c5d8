// Package prototest checks that the Go code generated from a .proto file
// is what the pinned protoc plugins make of it now, so that a change to
// the spec never ships without its code. Every protocol package's test
// calls it for its own .proto.
//
// It is for tests only; nothing outside _test.go files imports it.
package prototest
