// ttrpc-otel-peer: a Go peer built on containerd/ttrpc 1.2.7 and containerd/otelttrpc 0.1.0
// (Debian's source packages) for the tracing interop tests of @ttrpc/otel.
//
//	ttrpc-otel-peer serve --socket PATH
//	ttrpc-otel-peer call --socket PATH --hops "HOP HOP ..."
//
// Both install otelttrpc's unary interceptors (message events on) and the propagator containerd
// configures (W3C trace context + baggage), with an SDK tracer provider whose exporter prints
// every finished span as one JSON line {"span": {...}} on stdout. `serve` prints the
// rpc.server.duration data points as {"metric": {...}} lines when it gets SIGTERM.
// Built by scripts/otel-peer.sh in GOPATH mode.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
)

var outMu sync.Mutex

// emit prints one JSON line on stdout.
func emit(v map[string]interface{}) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"emitError":%q}`, err.Error()))
	}
	outMu.Lock()
	defer outMu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}

func fatalf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "ttrpc-otel-peer: "+format+"\n", args...)
	os.Exit(2)
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage:
  ttrpc-otel-peer serve --socket PATH
  ttrpc-otel-peer call --socket PATH --hops "HOP HOP ..."`)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "serve":
		serveMain(os.Args[2:])
	case "call":
		callMain(os.Args[2:])
	default:
		usage()
	}
}
