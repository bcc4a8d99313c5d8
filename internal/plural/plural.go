package plural

import (
	"strconv"
	"strings"
)

// Count is n followed by noun, made plural unless n is 1: "1 entry",
// "3 entries", "0 passes".
func Count(n int, noun string) string {
	return strconv.Itoa(n) + " " + Of(n, noun, Regular(noun))
}

// Of is one when n is 1, else many: for a noun whose plural is not regular.
func Of(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Regular is the regular plural of the English noun: "entry" → "entries",
// "pass" → "passes", "block" → "blocks".
func Regular(noun string) string {
	switch {
	case strings.HasSuffix(noun, "y") && len(noun) > 1 && !strings.ContainsAny(noun[len(noun)-2:len(noun)-1], "aeiou"):
		return noun[:len(noun)-1] + "ies"
	case strings.HasSuffix(noun, "s"), strings.HasSuffix(noun, "x"), strings.HasSuffix(noun, "z"),
		strings.HasSuffix(noun, "ch"), strings.HasSuffix(noun, "sh"):
		return noun + "es"
	}
	return noun + "s"
}
