package nfsconf

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Export is what Drover writes for one share: an NFSv4 export of Path
// under the pseudo path Pseudo, through the VFS back end.
type Export struct {
	// ID is Ganesha's Export_Id, unique within the server; 0 is its
	// pseudo root's.
	ID       int
	Path     string
	Pseudo   string
	ReadOnly bool
}

// Format writes e as the one EXPORT block of a file. Clients are served
// with AUTH_SYS and without squashing root, as the exports Drover takes
// over from a kernel NFS server or a former Ganesha usually were for the
// machines of a site.
func (e Export) Format() []byte {
	access := "RW"
	if e.ReadOnly {
		access = "RO"
	}
	return fmt.Appendf(nil, "# Written by Drover: changes here are drift, undone by the next apply.\n"+
		"EXPORT {\n  Export_Id = %d;\n  Path = \"%s\";\n  Pseudo = \"%s\";\n  Access_Type = %s;\n"+
		"  Squash = No_Root_Squash;\n  SecType = sys;\n  Protocols = 4;\n  FSAL { Name = VFS; }\n}\n",
		e.ID, e.Path, e.Pseudo, access)
}

// exportOf reads the EXPORT block b as Ganesha would: access RW unless
// Access_Type says otherwise (Ganesha's default is None, which serves
// nothing; Drover reads it as read-only).
func exportOf(b Block) (Export, error) {
	var e Export
	id, _ := b.Get("Export_Id")
	n, err := strconv.Atoi(id)
	if err != nil {
		return Export{}, fmt.Errorf("Export_Id %q is not a number", id)
	}
	e.ID = n
	e.Path, _ = b.Get("Path")
	e.Pseudo, _ = b.Get("Pseudo")
	access, _ := b.Get("Access_Type")
	e.ReadOnly = !strings.EqualFold(access, "RW")
	return e, nil
}

// Exports are the EXPORT blocks of a parsed configuration.
func Exports(blocks []Block) ([]Export, error) {
	var out []Export
	for _, b := range blocks {
		if !strings.EqualFold(b.Name, "EXPORT") {
			continue
		}
		e, err := exportOf(b)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// idBase and idSpan keep the ids Drover picks out of the small numbers
// administrators give their own exports (1, 2, 77).
const (
	idBase = 1024
	idSpan = 65535 - idBase + 1
)

// StableID is the Export_Id a share of that name takes when it is free:
// the same for the same name (without case) on every server, so that a
// share taken over keeps its id, and with it the file handles its clients
// hold, where the server allows.
func StableID(name string) int {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(name)))
	return idBase + int(h.Sum32()%idSpan)
}

// freeID is StableID(name), or the next id after it not in used.
func freeID(name string, used map[int]bool) (int, error) {
	id := StableID(name)
	for range idSpan {
		if !used[id] {
			return id, nil
		}
		if id++; id > 65535 {
			id = idBase
		}
	}
	return 0, fmt.Errorf("no Export_Id from %d to 65535 is free", idBase)
}
