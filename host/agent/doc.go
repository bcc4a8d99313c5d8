// Package agent is Drover's agent: the drover binary itself, run on a
// remote machine for the work SFTP cannot do or does slowly (ops a
// provider registers, their progress streamed back while they run;
// watching a tree, a tripwire (kept in the agent: an op walks a tree
// through it in one call), stats with inodes, holes, block device
// sizes, syncing a file system, clones, atomic writes with the folder
// synced), with the machine's own kernel at hand.
//
// The protocol is gRPC (proto/v1) over one stream: the SSH session's stdin
// and stdout. Serve is the agent's side: it serves until its stdin ends,
// which it does when the connection does, and never listens on a port.
// Client is the controller's side; host/ssh uploads the binary, starts it
// with an exec request and routes operations through it. File data
// crosses zstd-compressed. A large file's bytes copied between two
// machines that both run the agent take a way of their own (relay.go):
// raw, on a unix socket the agent listens on, in a folder only its user
// can enter, which the controller reaches by an SSH channel per transfer.
//
// The agent serves each request on a local host (host.NewLocal) rooted
// where the SSH host is, confined to a Sub folder as the request says: the
// root is kept by os.Root on the machine, with no window between resolving
// a path and acting on it. Both ends are one build (the agent is uploaded
// by checksum and reports the checksum of its own executable in the
// handshake), so the protocol need not talk to older peers. Both ends
// record that checksum with the file's identity (sums.go) and read the
// file again only when it changed.
//
// A program serves the agent only if it calls Enable, naming the arguments
// that make it serve (drover's main does; a third-party provider does not,
// and its SSH hosts keep to SFTP).
package agent
