//go:build !unix

package host

// oNoFollow is O_NOFOLLOW where the system has it.
const oNoFollow = 0
