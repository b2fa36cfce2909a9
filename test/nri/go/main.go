// nri-harness: plays either side of NRI with the real Go code from Debian's
// golang-github-containerd-nri-dev (0.6.1 from trixie or 0.8.0 from sid; one binary per version,
// built by scripts/nri-peer.sh in GOPATH mode).
//
//	nri-harness runtime -socket PATH [...]  the runtime side: containerd's pkg/adaptation, driven by
//	                                       JSON-line commands on stdin, answers on stdout
//	nri-harness stub -socket PATH [...]    the plugin side: NRI's own pkg/stub plugin, which reports
//	                                       what it receives as JSON lines on stdout
//	nri-harness version                    prints the NRI version this binary was built against
//
// Everything the tests need to see goes to stdout as one JSON object per line; NRI's own log
// (logrus) goes to stderr.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
)

// nriVersion is set with -ldflags "-X main.nriVersion=..." by scripts/nri-peer.sh.
var nriVersion = "unknown"

var outMu sync.Mutex

// emit writes one JSON line to stdout; lines never interleave.
func emit(v map[string]any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]any{"event": "error", "error": err.Error()})
	}
	outMu.Lock()
	defer outMu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		fatalf("usage: nri-harness runtime|stub|version [flags]")
	}
	switch os.Args[1] {
	case "runtime":
		runtimeMain(os.Args[2:])
	case "stub":
		stubMain(os.Args[2:])
	case "version":
		fmt.Println(nriVersion)
	default:
		fatalf("nri-harness: unknown mode %q", os.Args[1])
	}
}
