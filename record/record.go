package record

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// FormatVersion is the version of the record document this package writes;
// it reads this version only.
const FormatVersion = 1

// Kind is what a run was for.
type Kind string

const (
	Failover Kind = "failover"
	Failback Kind = "failback"
	Drill    Kind = "drill"
	// Run is a runbook run by name (drover runbook run NAME).
	Run Kind = "run"
)

// Status is where a run or a step stands.
type Status string

const (
	Pending     Status = "pending"
	Running     Status = "running"
	Succeeded   Status = "succeeded"
	Failed      Status = "failed"
	Skipped     Status = "skipped"
	Interrupted Status = "interrupted"
	// Cancelled is a step that never started because the run stopped
	// (an earlier failure with on_failure = "abort", or an interrupt).
	Cancelled Status = "cancelled"
)

// Record is one run of a runbook.
type Record struct {
	FormatVersion int    `json:"format_version"`
	RunID         string `json:"run_id"`
	Runbook       string `json:"runbook"`
	Kind          Kind   `json:"kind"`
	// Config says which configuration ran: its folder and, when the folder
	// is in git, the commit checked out and whether files differed from it.
	Config     Config    `json:"config"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Status     Status    `json:"status"`
	Budget     Budget    `json:"budget"`
	// RTO is the measured recovery time: from the start of the run to the
	// end of its last step; zero until the run finishes.
	RTO       Duration     `json:"rto,omitzero"`
	Steps     []*Step      `json:"steps"`
	Protected []*Protected `json:"protected,omitempty"`
	// Messages are the run's diagnostics that belong to no single step.
	Messages []Message `json:"messages,omitempty"`
	// Drill, in a drill's record (Kind Drill), is what it cloned, what it
	// made and tore down, and the proof.
	Drill *DrillRun `json:"drill,omitempty"`
}

// DrillRun is the evidence of a drill: the runbook's steps acted on the
// clones, the teardown removed what the inventory lists, and production
// read the same before and after.
type DrillRun struct {
	// Folder is the drill's folder on the hosts of its clones.
	Folder string   `json:"folder"`
	Clones []*Clone `json:"clones"`
	// Reboots are the steps whose reboot was recorded, not done.
	Reboots []string `json:"reboots,omitempty"`
	// Inventory is every object the drill made, in the order made.
	Inventory []string `json:"inventory"`
	// Kept says the drill environment was left up (--keep): no teardown
	// yet, and no proof.
	Kept bool `json:"kept,omitempty"`
	// TornDown says the teardown ran to its end; Leaks lists what the
	// proof found left of the drill afterwards.
	TornDown bool     `json:"torn_down,omitempty"`
	Leaks    []string `json:"leaks,omitempty"`
	// Fingerprinted counts the production objects hashed before and after
	// the drill; Changes lists what differed (none: production untouched).
	Fingerprinted int      `json:"fingerprinted"`
	Changes       []string `json:"changes,omitempty"`
	// Cleanup are the drill block's cleanup hooks, run after the
	// teardown, as steps.
	Cleanup []*Step `json:"cleanup,omitempty"`
}

// Clone is one copy a drill's steps acted on instead of a production
// object.
type Clone struct {
	Host    string `json:"host"`
	Source  string `json:"source"`
	Path    string `json:"path"`
	Method  string `json:"method"`
	Warning string `json:"warning,omitempty"`
	// Manifest is a drive copy's per-block manifest, by which the drill
	// proves the image unchanged.
	Manifest string   `json:"manifest,omitempty"`
	For      []string `json:"for,omitempty"`
}

// Config identifies the configuration a run was made from.
type Config struct {
	Dir    string `json:"dir"`
	Commit string `json:"commit,omitempty"`
	Dirty  bool   `json:"dirty,omitempty"`
}

// Budget is the runbook's rpo and rto, zero where it sets none.
type Budget struct {
	RPO Duration `json:"rpo,omitzero"`
	RTO Duration `json:"rto,omitzero"`
}

// Step is one step of the run, in the order of the runbook plan.
type Step struct {
	Name string `json:"name"`
	// Action is what the step does: run, import, set_default, set_next,
	// reboot, prompt, wait, check or resources.
	Action string `json:"action"`
	// Summary says in one line what the action does, as the plan showed
	// it (the argv of a run, the capture an import applies).
	Summary string   `json:"summary,omitempty"`
	Host    string   `json:"host,omitempty"`
	Wave    int      `json:"wave"`
	After   []string `json:"after,omitempty"`
	Status  Status   `json:"status"`
	// SkipReason says why a skipped step did not run (it finished in an
	// earlier run of the same failover; its check already passed).
	SkipReason string    `json:"skip_reason,omitempty"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Attempts   int       `json:"attempts,omitempty"`
	// ExitCode is a run step's last exit code.
	ExitCode *int `json:"exit_code,omitempty"`
	// Output names the step's output log in the run's folder, empty when
	// the step printed nothing.
	Output string   `json:"output,omitempty"`
	Answer *Answer  `json:"answer,omitempty"`
	Checks []*Check `json:"checks,omitempty"`
	// Error is why the step failed, as the user was told.
	Error string `json:"error,omitempty"`
}

// Answer is how a prompt step was answered.
type Answer struct {
	Question string    `json:"question"`
	Answer   string    `json:"answer"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
	// Via is how the answer came: terminal, command (drover runbook
	// answer) or flag (--approve).
	Via string `json:"via"`
}

// Check is the result of one check, as a step or a step's condition.
type Check struct {
	Kind   string    `json:"kind"`
	Target string    `json:"target"`
	Passed bool      `json:"passed"`
	Detail string    `json:"detail,omitempty"`
	At     time.Time `json:"at"`
}

// Protected is the data-loss window of one resource the runbook protects:
// the cut-over time minus the time of its last replicated change.
type Protected struct {
	Addr       string    `json:"address"`
	LastChange time.Time `json:"last_change,omitzero"`
	RPO        Duration  `json:"rpo"`
	OverBudget bool      `json:"over_budget,omitempty"`
}

// Message is a diagnostic of the run.
type Message struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
}

// New starts the record of a run beginning now.
func New(runbook string, kind Kind, cfg Config, budget Budget) *Record {
	now := time.Now().UTC()
	return &Record{
		FormatVersion: FormatVersion,
		RunID:         NewRunID(now),
		Runbook:       runbook,
		Kind:          kind,
		Config:        cfg,
		StartedAt:     now,
		Status:        Running,
		Budget:        budget,
	}
}

// NewRunID names a run started at t: sortable by time, unique by a random
// tail (20261207T104512Z-3fa9c2).
func NewRunID(t time.Time) string {
	var b [3]byte
	rand.Read(b[:])
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// Step finds the step called name, or nil.
func (r *Record) Step(name string) *Step {
	for _, s := range r.Steps {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Finish closes the record at t with status, measuring the RTO as the time
// from the start to the end of the last step that ran.
func (r *Record) Finish(t time.Time, status Status) {
	r.FinishedAt = t.UTC()
	r.Status = status
	var last time.Time
	for _, s := range r.Steps {
		if s.FinishedAt.After(last) {
			last = s.FinishedAt
		}
	}
	if !last.IsZero() {
		r.RTO = Duration(last.Sub(r.StartedAt))
	}
}

// Marshal writes r as its JSON document, indented, ending in a newline.
func Marshal(r *Record) ([]byte, error) {
	if r.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("record of run %s has format version %d, not %d", r.RunID, r.FormatVersion, FormatVersion)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Unmarshal reads a record document, refusing another format version and
// fields it does not know (a document from a newer Drover).
func Unmarshal(b []byte) (*Record, error) {
	var probe struct {
		FormatVersion *int `json:"format_version"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("not a run record: %w", err)
	}
	if probe.FormatVersion == nil {
		return nil, fmt.Errorf("not a run record: it has no format_version")
	}
	if *probe.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("run record format version %d is not %d, the one this Drover reads", *probe.FormatVersion, FormatVersion)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var r Record
	if err := d.Decode(&r); err != nil {
		return nil, fmt.Errorf("not a run record: %w", err)
	}
	if r.RunID == "" {
		return nil, fmt.Errorf("not a run record: it has no run_id")
	}
	return &r, nil
}

// outlineStep is a step as an outline keeps it: Step without After,
// Output, Checks and Answer, which the decoder skips unread.
type outlineStep struct {
	Name       string    `json:"name"`
	Action     string    `json:"action"`
	Summary    string    `json:"summary,omitempty"`
	Host       string    `json:"host,omitempty"`
	Wave       int       `json:"wave"`
	Status     Status    `json:"status"`
	SkipReason string    `json:"skip_reason,omitempty"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Attempts   int       `json:"attempts,omitempty"`
	ExitCode   *int      `json:"exit_code,omitempty"`
	Error      string    `json:"error,omitempty"`
}

// unmarshalOutline reads a record document as Unmarshal does, but its
// steps as outlines (see Store.ListOutlines).
func unmarshalOutline(b []byte) (*Record, error) {
	var doc struct {
		Record
		// Steps, less nested than Record's, takes the document's steps.
		Steps []*outlineStep `json:"steps"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("not a run record: %w", err)
	}
	r := &doc.Record
	switch {
	case r.FormatVersion != FormatVersion:
		return nil, fmt.Errorf("run record format version %d is not %d, the one this Drover reads", r.FormatVersion, FormatVersion)
	case r.RunID == "":
		return nil, fmt.Errorf("not a run record: it has no run_id")
	}
	for _, s := range doc.Steps {
		r.Steps = append(r.Steps, &Step{Name: s.Name, Action: s.Action, Summary: s.Summary, Host: s.Host, Wave: s.Wave, Status: s.Status,
			SkipReason: s.SkipReason, StartedAt: s.StartedAt, FinishedAt: s.FinishedAt, Attempts: s.Attempts, ExitCode: s.ExitCode, Error: s.Error})
	}
	return r, nil
}

// Duration is a time.Duration written in JSON as Go's duration text
// ("1m30s"), so that the document reads as the configuration does.
type Duration time.Duration

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
