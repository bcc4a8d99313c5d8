// Package plural writes a count with its noun in agreement ("1 difference",
// "2 differences") for the messages of the CLI and the providers alike. It
// knows the regular English endings only: a noun outside them is written
// with its plural spelt out (Of).
package plural
