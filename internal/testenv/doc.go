// Package testenv lets tests ask for the real components they need (a
// command, root, a kernel feature) and decides what happens when one is
// missing: a skip on a developer's machine, a failure under CI=true, where
// .ci/run has installed everything and a skip would hide a broken test.
//
// It is for tests only; nothing outside _test.go files imports it.
package testenv
