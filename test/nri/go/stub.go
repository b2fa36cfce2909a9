package main

import (
	"context"
	"flag"
	"os"
	"strings"

	"github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/stub"
)

// stubPlugin is an NRI plugin written with NRI's own Go stub. It reports what it receives and
// answers with adjustments large enough (-big bytes) to cross the mux's 4 KiB boundary.
type stubPlugin struct {
	s   stub.Stub
	big int
}

func (p *stubPlugin) Configure(_ context.Context, config, runtime, version string) (api.EventMask, error) {
	emit(map[string]any{"event": "configure", "config": config, "runtime": runtime, "version": version})
	return 0, nil
}

func (p *stubPlugin) Synchronize(_ context.Context, pods []*api.PodSandbox, ctrs []*api.Container) ([]*api.ContainerUpdate, error) {
	emit(map[string]any{"event": "synchronize", "pods": listJSON(pods), "containers": len(ctrs)})
	return nil, nil
}

func (p *stubPlugin) Shutdown(context.Context) {
	emit(map[string]any{"event": "shutdown"})
}

func (p *stubPlugin) RunPodSandbox(_ context.Context, pod *api.PodSandbox) error {
	emit(map[string]any{"event": "RunPodSandbox", "pod": pod.Id})
	return nil
}

func (p *stubPlugin) CreateContainer(_ context.Context, pod *api.PodSandbox, ctr *api.Container) (*api.ContainerAdjustment, []*api.ContainerUpdate, error) {
	big := 0
	for _, v := range ctr.Annotations {
		big += len(v)
	}
	emit(map[string]any{"event": "CreateContainer", "pod": pod.Id, "container": ctr.Id, "annotationBytes": big})
	adj := &api.ContainerAdjustment{}
	adj.AddEnv("GO_STUB", "1")
	adj.AddAnnotation("go-stub/big", strings.Repeat("g", p.big))
	return adj, nil, nil
}

func (p *stubPlugin) StartContainer(_ context.Context, pod *api.PodSandbox, ctr *api.Container) error {
	emit(map[string]any{"event": "StartContainer", "container": ctr.Id})
	// An unsolicited update, as a plugin would send at any time; from a goroutine because the
	// runtime may serialize it behind the event being delivered.
	go func() {
		failed, err := p.s.UpdateContainers([]*api.ContainerUpdate{{
			ContainerId: ctr.Id,
			Linux: &api.LinuxContainerUpdate{Resources: &api.LinuxResources{
				Cpu: &api.LinuxCPU{Shares: api.UInt64(512)},
			}},
		}})
		ev := map[string]any{"event": "update-result", "failed": listJSON(failed)}
		if err != nil {
			ev["error"] = err.Error()
		}
		emit(ev)
	}()
	return nil
}

func (p *stubPlugin) RemoveContainer(_ context.Context, _ *api.PodSandbox, ctr *api.Container) error {
	emit(map[string]any{"event": "RemoveContainer", "container": ctr.Id})
	return nil
}

// stubMain runs the Go stub plugin against -socket until the connection closes.
func stubMain(args []string) {
	fs := flag.NewFlagSet("stub", flag.ExitOnError)
	socket := fs.String("socket", "", "runtime socket to connect to")
	name := fs.String("name", "go-stub", "plugin name")
	idx := fs.String("idx", "50", "plugin index")
	big := fs.Int("big", 6000, "size of the large annotation the plugin adds")
	fs.Parse(args)
	p := &stubPlugin{big: *big}
	s, err := stub.New(p, stub.WithSocketPath(*socket), stub.WithPluginName(*name), stub.WithPluginIdx(*idx),
		stub.WithOnClose(func() { emit(map[string]any{"event": "closed"}) }))
	if err != nil {
		fatalf("stub: %v", err)
	}
	p.s = s
	if err := s.Run(context.Background()); err != nil {
		emit(map[string]any{"event": "exit", "error": err.Error()})
		os.Exit(1)
	}
	emit(map[string]any{"event": "exit"})
}
