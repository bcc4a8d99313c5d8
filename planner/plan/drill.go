package plan

// Drill is what a drill of a runbook adds to its plan: the isolated
// copies its steps act on instead of what production and the standby rely
// on, and what the teardown will remove. The steps of a drill's plan act
// on the clones already (their arguments name the clone paths), so that
// the run walks them as any other.
type Drill struct {
	// Folder is, on each host a clone lies on, the folder of the drill's
	// clones and of what its steps write (undo files): removed whole by
	// the teardown.
	Folder string
	Clones []*DrillClone
	// Reboots names the steps whose reboot a drill records without doing.
	Reboots []string
	// Isolated names the hosts whose step resources the drill creates
	// under Folder/isolated instead (isolate = true): the folder is made
	// there too, and removed with what it holds.
	Isolated []string
	// Namespaces are the network namespaces the drill makes on the
	// machine Drover runs on, one for each host whose step resources act
	// on the network (isolate = true): those resources act in it.
	Namespaces []*DrillNamespace
	// Guests are the QEMU guests the steps start (isolate = true), on
	// clones of their disks, with no NIC, their consoles and state under
	// Folder/guests.
	Guests []*DrillGuest
	// Cleanup are the run steps of the drill block's cleanup hooks, run
	// in order after the teardown. (A drill's plan is made each time it
	// runs, never saved: its document leaves them out.)
	Cleanup []*Step
}

// DrillClone is one protected object a drill copies.
type DrillClone struct {
	Host   string
	Source string
	// Path is where the drill's steps find the copy on Host.
	Path string
	// Method, Why and Warning are drill.Plan's answer: how the copy will
	// be made, and why.
	Method  string
	Why     string
	Warning string
	// Disk says the source is a guest's disk image (a drive copy's target).
	Disk bool
	// Manifest, when set, is the drive copy's per-block manifest: the
	// drill proves the source unchanged by the manifest's content and the
	// source's size and time, rather than hashing the whole image.
	Manifest string
	// For says what the copy stands in for: the steps that act on it, or
	// the resource whose data it is.
	For []string
}

// DrillGuest is a QEMU guest a drill's step starts.
type DrillGuest struct {
	// For is the step resource, e.g. vm_guest.fs1.
	For  string
	Host string
	// StateDir holds its pidfile (qemu.pid) and QMP socket, on Host.
	StateDir string
	// Serial is its console file on Host.
	Serial string
}

// DrillNamespace is a network namespace of a drill, standing in for a
// host's network.
type DrillNamespace struct {
	// Host is the host whose step resources act in the namespace.
	Host string
	// Name is the namespace's name, as ip netns names it.
	Name string
	// Interfaces are made in it, named as production's.
	Interfaces []DrillInterface
	// For names the step resources that act in it.
	For []string
	// UTS says a UTS namespace is pinned beside it (host.Config.UTSPin),
	// for a step's host name.
	UTS bool
}

// DrillInterface is an interface of a drill's namespace.
type DrillInterface struct {
	Name string
	// Addresses are production's on that interface, with their prefix
	// lengths: the subnets a step's address is checked against.
	Addresses []string
}

type docDrill struct {
	Folder     string              `json:"folder"`
	Clones     []docDrillClone     `json:"clones"`
	Reboots    []string            `json:"reboots,omitempty"`
	Isolated   []string            `json:"isolated,omitempty"`
	Namespaces []docDrillNamespace `json:"namespaces,omitempty"`
	Guests     []docDrillGuest     `json:"guests,omitempty"`
}

type docDrillGuest struct {
	For      string `json:"for"`
	Host     string `json:"host"`
	StateDir string `json:"state_dir"`
	Serial   string `json:"serial"`
}

type docDrillNamespace struct {
	Host       string              `json:"host"`
	Name       string              `json:"name"`
	Interfaces []docDrillInterface `json:"interfaces"`
	For        []string            `json:"for,omitempty"`
	UTS        bool                `json:"uts,omitempty"`
}

type docDrillInterface struct {
	Name      string   `json:"name"`
	Addresses []string `json:"addresses,omitempty"`
}

type docDrillClone struct {
	Host     string   `json:"host"`
	Source   string   `json:"source"`
	Path     string   `json:"path"`
	Method   string   `json:"method"`
	Why      string   `json:"why,omitempty"`
	Warning  string   `json:"warning,omitempty"`
	Disk     bool     `json:"disk,omitempty"`
	Manifest string   `json:"manifest,omitempty"`
	For      []string `json:"for,omitempty"`
}

func encodeDrill(d *Drill) *docDrill {
	if d == nil {
		return nil
	}
	doc := &docDrill{Folder: d.Folder, Clones: []docDrillClone{}, Reboots: d.Reboots, Isolated: d.Isolated}
	for _, c := range d.Clones {
		doc.Clones = append(doc.Clones, docDrillClone(*c))
	}
	for _, n := range d.Namespaces {
		dn := docDrillNamespace{Host: n.Host, Name: n.Name, Interfaces: []docDrillInterface{}, For: n.For, UTS: n.UTS}
		for _, i := range n.Interfaces {
			dn.Interfaces = append(dn.Interfaces, docDrillInterface(i))
		}
		doc.Namespaces = append(doc.Namespaces, dn)
	}
	for _, g := range d.Guests {
		doc.Guests = append(doc.Guests, docDrillGuest(*g))
	}
	return doc
}

func decodeDrill(doc *docDrill) *Drill {
	if doc == nil {
		return nil
	}
	d := &Drill{Folder: doc.Folder, Reboots: doc.Reboots, Isolated: doc.Isolated}
	for _, c := range doc.Clones {
		dc := DrillClone(c)
		d.Clones = append(d.Clones, &dc)
	}
	for _, dn := range doc.Namespaces {
		n := &DrillNamespace{Host: dn.Host, Name: dn.Name, For: dn.For, UTS: dn.UTS}
		for _, i := range dn.Interfaces {
			n.Interfaces = append(n.Interfaces, DrillInterface(i))
		}
		d.Namespaces = append(d.Namespaces, n)
	}
	for _, g := range doc.Guests {
		dg := DrillGuest(g)
		d.Guests = append(d.Guests, &dg)
	}
	return d
}
