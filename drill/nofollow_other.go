//go:build !unix

package drill

const noFollow = 0
