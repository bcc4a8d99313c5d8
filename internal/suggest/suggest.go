package suggest

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Nearest returns the candidate closest to given by edit distance when
// it is close enough to be a likely typo, else "".
//
// Close enough means at most one edit per three characters of given (at
// least one edit, at most three), and fewer edits than given has
// characters, so that "x" is never "corrected" to "y". A candidate equal
// to given but for letter case always wins. Ties go to the candidate first
// in sorted order, so the answer does not depend on map iteration.
func Nearest(given string, candidates []string) string {
	if given == "" || len(candidates) == 0 {
		return ""
	}
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	n := utf8.RuneCountInString(given)
	limit := min(max(n/3, 1), 3)
	best, bestDist := "", limit+1
	for _, c := range sorted {
		if c == given {
			continue
		}
		if strings.EqualFold(c, given) {
			return c
		}
		if d := levenshtein(given, c); d < bestDist && d < n {
			best, bestDist = c, d
		}
	}
	return best
}

// levenshtein is the edit distance between a and b counted in runes,
// where swapping two adjacent runes is one edit (optimal string alignment),
// so "tpye" is one edit from "type".
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	rows := [3][]int{make([]int, len(rb)+1), make([]int, len(rb)+1), make([]int, len(rb)+1)}
	for j := range rows[1] {
		rows[1][j] = j
	}
	// rows[0] is row i-2, rows[1] row i-1, rows[2] row i.
	for i := 1; i <= len(ra); i++ {
		cur, prev, prev2 := rows[2], rows[1], rows[0]
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		rows[0], rows[1], rows[2] = prev, cur, prev2
	}
	return rows[1][len(rb)]
}
