//go:build !unix

package local

// oNoFollow is O_NOFOLLOW where the system has it.
const oNoFollow = 0
