// ttrpc-interop-peer: a Go peer built on containerd/ttrpc 1.2.4 (Debian's source package)
// for the TypeScript interop tests and benchmarks.
//
//	ttrpc-interop-peer serve --socket PATH
//	ttrpc-interop-peer client --socket PATH --case NAME [flags]
//	ttrpc-interop-peer bench-client --socket PATH --workload unary|server_stream|client_stream|bidi \
//	    --size N --concurrency C --duration-ms D
//
// Every subcommand prints JSON lines on stdout. Built by scripts/interop-peer.sh in GOPATH mode.
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
	fmt.Fprintf(os.Stderr, "ttrpc-interop-peer: "+format+"\n", args...)
	os.Exit(2)
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage:
  ttrpc-interop-peer serve --socket PATH
  ttrpc-interop-peer client --socket PATH --case NAME [flags]   (--case list prints the cases)
  ttrpc-interop-peer bench-client --socket PATH --workload unary|server_stream|client_stream|bidi --size N --concurrency C --duration-ms D`)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "serve":
		serveMain(os.Args[2:])
	case "client":
		clientMain(os.Args[2:])
	case "bench-client":
		benchMain(os.Args[2:])
	default:
		usage()
	}
}
