// Package report renders run records: the text of `drover report show`,
// the record document as one JSON line, a self-contained HTML page (its
// templates, styles and timeline chart built in, nothing fetched when it
// is opened), the list of runs, and the differences between two runs that
// `drover report diff` calls regressions.
//
// It reads records and their step output logs through record.Store and
// never writes to the store: a record is evidence of what a run did. Text
// from outside (step output, errors, answers, check details) is escaped
// for the terminal here, and for the page by html/template (the parts
// written once per step by Go code, with html/template's own escaping),
// so a step's output cannot rewrite the lines around it or inject markup.
package report
