package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/containerd/nri/pkg/adaptation"
	"github.com/containerd/nri/pkg/api"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// command is one line on stdin. Request holds the protojson form of the NRI request message.
type command struct {
	ID      int             `json:"id"`
	Op      string          `json:"op"`
	Request json.RawMessage `json:"request"`
}

// runtimeState is what the runtime reports to a plugin that synchronizes.
type runtimeState struct {
	sync.Mutex
	pods       []*api.PodSandbox
	containers []*api.Container
}

var marshal = protojson.MarshalOptions{EmitUnpopulated: false}

func toJSON(m proto.Message) json.RawMessage {
	b, err := marshal.Marshal(m)
	if err != nil {
		return json.RawMessage(fmt.Sprintf("%q", err.Error()))
	}
	return b
}

func listJSON[T proto.Message](list []T) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(list))
	for _, m := range list {
		out = append(out, toJSON(m))
	}
	return out
}

// runtimeMain plays the container runtime with NRI's pkg/adaptation.
//
// Commands (stdin, one JSON object per line; each is answered by {"id", "ok"|"error", "result"}):
//
//	state   request=SynchronizeRequest   pods and containers handed to plugins that synchronize
//	event   request=StateChangeEvent     Adaptation.StateChange (RunPodSandbox, StartContainer, ...)
//	create  request=CreateContainerRequest   Adaptation.CreateContainer, result=CreateContainerResponse
//	update  request=UpdateContainerRequest   Adaptation.UpdateContainer, result=UpdateContainerResponse
//	stop    request=StopContainerRequest     Adaptation.StopContainer, result=StopContainerResponse
//	plugins                              result={"count"}: plugins that receive events
//	exit                                 Adaptation.Stop, then exit 0
//
// Unsolicited lines: {"event":"ready"} once listening, {"event":"synchronized", "updates", "pods",
// "containers"} whenever a plugin synchronized, {"event":"update-containers", "request"} when a plugin
// called UpdateContainers (updates of containers whose id starts with "fail-" are reported failed).
func runtimeMain(args []string) {
	fs := flag.NewFlagSet("runtime", flag.ExitOnError)
	socket := fs.String("socket", "", "socket path for external plugins")
	pluginPath := fs.String("plugin-path", "", "directory of plugins to launch (default: none)")
	configPath := fs.String("config-path", "", "directory of plugin configuration drop-ins")
	regTimeout := fs.Duration("registration-timeout", 5*time.Second, "plugin registration timeout")
	reqTimeout := fs.Duration("request-timeout", 2*time.Second, "plugin request timeout")
	fs.Parse(args)
	if *socket == "" {
		fatalf("runtime: -socket is required")
	}

	adaptation.SetPluginRegistrationTimeout(*regTimeout)
	adaptation.SetPluginRequestTimeout(*reqTimeout)

	state := &runtimeState{}
	syncFn := func(ctx context.Context, cb adaptation.SyncCB) error {
		state.Lock()
		pods, ctrs := state.pods, state.containers
		state.Unlock()
		updates, err := cb(ctx, pods, ctrs)
		ev := map[string]any{
			"event": "synchronized", "updates": listJSON(updates),
			"pods": len(pods), "containers": len(ctrs),
		}
		if err != nil {
			ev["error"] = err.Error()
		}
		emit(ev)
		return err
	}
	updateFn := func(ctx context.Context, updates []*adaptation.ContainerUpdate) ([]*adaptation.ContainerUpdate, error) {
		var failed []*adaptation.ContainerUpdate
		for _, u := range updates {
			if strings.HasPrefix(u.ContainerId, "fail-") {
				failed = append(failed, u)
			}
		}
		emit(map[string]any{"event": "update-containers", "request": listJSON(updates), "failed": len(failed)})
		return failed, nil
	}

	pp := *pluginPath
	if pp == "" {
		pp = *socket + ".no-plugins"
	}
	cp := *configPath
	if cp == "" {
		cp = pp
	}
	r, err := adaptation.New("nri-harness", nriVersion, syncFn, updateFn,
		adaptation.WithSocketPath(*socket),
		adaptation.WithPluginPath(pp),
		adaptation.WithPluginConfigPath(cp),
	)
	if err != nil {
		fatalf("runtime: %v", err)
	}
	if err := r.Start(); err != nil {
		emit(map[string]any{"event": "start-failed", "error": err.Error()})
		os.Exit(1)
	}
	emit(map[string]any{"event": "ready", "version": nriVersion})

	in := bufio.NewReader(os.Stdin)
	for {
		line, err := in.ReadBytes('\n')
		if len(strings.TrimSpace(string(line))) > 0 {
			var cmd command
			if jerr := json.Unmarshal(line, &cmd); jerr != nil {
				emit(map[string]any{"event": "error", "error": "bad command: " + jerr.Error()})
			} else if cmd.Op == "exit" {
				r.Stop()
				emit(map[string]any{"id": cmd.ID, "ok": true})
				os.Exit(0)
			} else {
				// Commands run one after the other, as a runtime's CRI calls for one container would.
				result, cerr := runCommand(r, state, cmd)
				reply := map[string]any{"id": cmd.ID}
				if cerr != nil {
					reply["error"] = cerr.Error()
				} else {
					reply["ok"] = true
					reply["result"] = result
				}
				emit(reply)
			}
		}
		if err == io.EOF {
			r.Stop()
			os.Exit(0)
		}
		if err != nil {
			fatalf("runtime: stdin: %v", err)
		}
	}
}

func runCommand(r *adaptation.Adaptation, state *runtimeState, cmd command) (json.RawMessage, error) {
	ctx := context.Background()
	parse := func(m proto.Message) error {
		if len(cmd.Request) == 0 {
			return nil
		}
		return protojson.Unmarshal(cmd.Request, m)
	}
	switch cmd.Op {
	case "state":
		req := &api.SynchronizeRequest{}
		if err := parse(req); err != nil {
			return nil, err
		}
		state.Lock()
		state.pods, state.containers = req.Pods, req.Containers
		state.Unlock()
		return json.RawMessage(fmt.Sprintf(`{"bytes":%d}`, proto.Size(req))), nil
	case "plugins":
		// The number of plugins the runtime delivers events to. A plugin joins that list only after
		// it synchronized (and after our syncFn returned), so tests wait for it with this.
		r.Lock()
		n := reflect.ValueOf(r).Elem().FieldByName("plugins").Len()
		r.Unlock()
		return json.RawMessage(fmt.Sprintf(`{"count":%d}`, n)), nil
	case "event":
		req := &api.StateChangeEvent{}
		if err := parse(req); err != nil {
			return nil, err
		}
		if err := r.StateChange(ctx, req); err != nil {
			return nil, err
		}
		return json.RawMessage("{}"), nil
	case "create":
		req := &api.CreateContainerRequest{}
		if err := parse(req); err != nil {
			return nil, err
		}
		rpl, err := r.CreateContainer(ctx, req)
		if err != nil {
			return nil, err
		}
		return toJSON(rpl), nil
	case "update":
		req := &api.UpdateContainerRequest{}
		if err := parse(req); err != nil {
			return nil, err
		}
		rpl, err := r.UpdateContainer(ctx, req)
		if err != nil {
			return nil, err
		}
		return toJSON(rpl), nil
	case "stop":
		req := &api.StopContainerRequest{}
		if err := parse(req); err != nil {
			return nil, err
		}
		rpl, err := r.StopContainer(ctx, req)
		if err != nil {
			return nil, err
		}
		return toJSON(rpl), nil
	}
	return nil, fmt.Errorf("unknown op %q", cmd.Op)
}
