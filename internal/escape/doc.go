// Package escape makes names that come from outside (file names, link
// targets) safe to print: what a terminal would act on — control
// characters such as ESC and newline, bidirectional and other format
// characters, line separators — and bytes that are not UTF-8 become Go
// string escapes (\x1b, \n, \xff, \u202e), so that no name can erase,
// recolour or reorder the lines around it, and the text is valid UTF-8,
// which gRPC requires of strings.
//
// Name escapes a name so that it round-trips: the backslash is escaped
// too, and a name that Unicode normalization would change (NFD, as macOS
// writes names, where cty values hold NFC) gets its combining characters
// escaped, so that two names never print alike and the text survives a
// trip through a cty string unchanged. Text escapes free text, such as a
// provider's description, in which names were escaped already: it leaves
// backslashes and normalization alone.
//
// It knows nothing of where the text goes; callers escape at the point
// where a name becomes text.
package escape
