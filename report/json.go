package report

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/drover-dr/drover/record"
)

// JSON writes the record document itself on one line, as the CLI's --json
// promises one object per line.
func JSON(w io.Writer, r *record.Record) error {
	doc, err := record.Marshal(r)
	if err != nil {
		return err
	}
	var line bytes.Buffer
	if err := json.Compact(&line, doc); err != nil {
		return err
	}
	line.WriteByte('\n')
	_, err = w.Write(line.Bytes())
	return err
}
