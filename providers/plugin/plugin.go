package plugin

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/plugin/lifeline"
	"github.com/drover-dr/drover/providers/plugin/spare"
	pb "github.com/drover-dr/drover/providers/proto/v1"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
	"google.golang.org/grpc"
)

// ProtocolVersion is the major version of the provider protocol this
// build speaks: the package drover.provider.v1.
const ProtocolVersion = 1

// handshake makes a provider binary refuse to run unless started by Drover
// (it would otherwise wait for a handshake that never comes).
var handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "DROVER_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "6b1f1c0e-provider-drover",
}

const pluginName = "provider"

// grpcPlugin is go-plugin's view of a provider.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl  providers.Provider
	calls *inflight // the server side's
}

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterProviderServer(s, &server{impl: p.impl, calls: p.calls, slots: make(chan struct{}, defaultParallelism)})
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return newClient(pb.NewProviderClient(conn)), nil
}

// pluginSets lists the protocol versions served or accepted. A provider
// built against another major version fails the negotiation.
func pluginSets(impl providers.Provider) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{ProtocolVersion: {pluginName: &grpcPlugin{impl: impl}}}
}

// Serve serves p over the provider protocol and blocks until Drover ends
// the process. Call it from a provider binary's main. The process ends
// when Drover's does, or on SIGTERM, after asking p to stop (package
// lifeline).
func Serve(p providers.Provider) {
	serve(ProtocolVersion, p)
}

func serve(version int, p providers.Provider) {
	// A provider process holds little and allocates much per call: trade
	// memory for fewer collections.
	debug.SetGCPercent(400)
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, JSONFormat: true})
	calls := &inflight{}
	lifeline.Watch(func() { end(p, calls, logger) })
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: map[int]plugin.PluginSet{version: {pluginName: &grpcPlugin{impl: p, calls: calls}}},
		GRPCServer:       calls.server,
		TLSProvider:      serverTLS,
		Logger:           logger,
	})
	// Drover ended the connection (go-plugin's Shutdown), which ended the
	// context of every call still running: each ends its work (a
	// command's process group killed) before the process exits, not cut
	// off in its midst with the work left running. A Drover that stops a
	// step and ends the run closes the provider right after.
	idle, _ := calls.end()
	select {
	case <-idle:
	case <-time.After(stopGrace):
		logger.Error("provider calls still running when the plugin had to end", "grace", stopGrace)
	}
}

var incompatible = regexp.MustCompile(`Plugin version: (\d+)`)

// Factory returns a factory whose providers run in a process started from
// cmd. name is the provider's name in diagnostics; logger receives the
// plugin's stderr and go-plugin's own log. A spare process of the same
// program (package spare), when one is kept, becomes the provider instead
// of a new process; should it fail, a new process is started.
func Factory(name string, cmd func() *exec.Cmd, logger hclog.Logger) providers.Factory {
	return func() (providers.Provider, error) {
		if logger == nil {
			logger = hclog.NewNullLogger()
		}
		command := cmd()
		if command.Env == nil && command.Dir == "" {
			if sp := spare.Take(command.Path); sp != nil {
				p, err := start(name, command, sp, logger)
				if err == nil {
					return p, nil
				}
				logger.Named(name).Debug("the spare process could not become the provider; starting a new one", "error", err)
			}
		}
		return start(name, command, nil, logger)
	}
}

// start starts command, or has sp become it, and connects to it.
func start(name string, command *exec.Cmd, sp *spare.Process, logger hclog.Logger) (providers.Provider, error) {
	config := &plugin.ClientConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: pluginSets(nil),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           logger.Named(name),
	}
	started := func() {}
	var err error
	if sp == nil {
		config.TLSConfig, started, err = secureCmd(command)
		config.RunnerFunc = func(_ hclog.Logger, c *exec.Cmd, _ string) (runner.Runner, error) {
			return newCmdRunner(command, c)
		}
	} else {
		var secret []byte
		secret, config.TLSConfig, err = certificates()
		config.RunnerFunc = func(_ hclog.Logger, c *exec.Cmd, _ string) (runner.Runner, error) {
			env := append(c.Env, tlsFDEnv+"="+strconv.Itoa(spare.FD), lifeline.Env())
			return &spareRunner{p: sp, args: command.Args[1:], env: env, secret: secret}, nil
		}
	}
	if err != nil {
		if sp != nil {
			sp.Kill()
		}
		return nil, fmt.Errorf("starting provider %q: making its certificates: %w", name, err)
	}
	pc := plugin.NewClient(config)
	rpc, err := pc.Client()
	started()
	if err != nil {
		pc.Kill()
		if m := incompatible.FindStringSubmatch(err.Error()); m != nil {
			return nil, fmt.Errorf("provider %q speaks protocol version %s, but this Drover speaks version %d: install a release of the provider built for protocol version %d",
				name, m[1], ProtocolVersion, ProtocolVersion)
		}
		return nil, fmt.Errorf("starting provider %q: %w", name, err)
	}
	raw, err := rpc.Dispense(pluginName)
	if err != nil {
		pc.Kill()
		return nil, fmt.Errorf("starting provider %q: %w", name, err)
	}
	c := raw.(*client)
	c.name, c.process = name, pc
	return c, nil
}
