/**
 * Help text for the command and every verb.
 * @module
 */

/** The package version printed by --version. */
export const VERSION = "0.1.0";

const SCHEMA = `Schemas (ttrpc has no reflection; containerd's and NRI's APIs are built in):
  --protoset FILE        a binary FileDescriptorSet (protoc --descriptor_set_out --include_imports,
                         buf build -o FILE.binpb); repeatable
  --proto FILE           a .proto file, compiled by buf or protoc when on PATH, else by protobufjs;
                         repeatable; names are relative to the import paths
  -I, --import-path DIR  where --proto files and their imports are found; repeatable
  --compiler NAME        auto (default), buf, protoc or protobufjs
  --no-builtin           leave out the built-in containerd and NRI schemas
`;

const ADDR = `ADDR is a unix socket path, unix://PATH or ttrpc+unix://PATH (a shim's address as printed by
its start action or found in its 'address' file).
`;

/** Help by verb; `main` is the top-level help. */
export const HELP = {
  main: `ttrpc — grpcurl for ttrpc (containerd's RPC protocol over unix sockets)

Usage: ttrpc VERB [flags]

Verbs:
  call ADDR SERVICE/METHOD   call a method: JSON in (-d), JSON out; every call kind
  list [SERVICE]             services the schemas know, or the methods of one
  describe [SYMBOL]          a service, method, message or enum as .proto text (--template: JSON skeleton)
  tap --listen P --target P  a transparent proxy that prints every frame in both directions
  bench ADDR SERVICE/METHOD  a load generator: calls/s, latency percentiles and histogram, errors
  completion [bash|zsh]      a shell completion script
  help [VERB]                this text, or a verb's

Examples:
  ttrpc list
  ttrpc call /run/containerd/s/<id> containerd.task.v2.Task/State -d '{"id":"web"}'
  ttrpc describe containerd.task.v2.CreateTaskRequest
  ttrpc tap --listen /tmp/tap.sock --target /run/containerd/s/<id>

'ttrpc VERB --help' has the details. Exit status: 0, the ttrpc status code of a failed call (1-16),
3 for bad input, 14 when the peer cannot be reached, 64 for a usage error.
`,
  call: `Usage: ttrpc call ADDR SERVICE/METHOD [flags]

Calls one method. Input is proto3 JSON; replies are printed as proto3 JSON on stdout: a unary or
client-streaming reply as one JSON document, server- and bidi-stream messages one per line (NDJSON)
as they arrive. Client and bidi streams read NDJSON (one message per line) from -d or stdin, and send
each line as it is read.

${ADDR}
Input:
  -d, --data JSON        the request ('{"id":"web"}'); @FILE reads a file, @- reads stdin.
                         Default: {} for unary and server-streaming calls, stdin for client and bidi
  --allow-unknown-fields drop request fields the message does not have (default: an error)

Output:
  --emit-defaults        print fields that hold their default value too
  --proto-names          print .proto field names (exit_status) instead of JSON names (exitStatus)
  --compact              print a unary reply on one line

Call:
  -H, --header K=V       request metadata; repeatable, a key may repeat
  --namespace NS         containerd's namespace (metadata containerd-namespace-ttrpc=NS)
  --timeout DURATION     deadline sent to the server and enforced here (5s, 300ms, 1m, 2.5)
  --max-msg-size SIZE    largest message sent or accepted (default 4MiB, as Go and Rust peers)

${SCHEMA}
A failed call prints its status as one JSON line on stderr — {"code":5,"name":"NOT_FOUND",
"message":"...","details":[...]} with details decoded when the schemas know their type — and exits
with the status code. Bad input and unknown methods are one plain line and exit 3.

Examples:
  ttrpc call /run/containerd/s/<id> containerd.task.v2.Task/Connect -d '{"id":"web"}'
  ttrpc call ttrpc+unix:///run/ctd.sock.ttrpc containerd.services.events.ttrpc.v1.Events/Forward \\
      --namespace default -d @envelope.json
  printf '{"add":1}\\n{"add":2}\\n' | ttrpc call /tmp/s.sock pkg.Svc/Sum --proto svc.proto -I .
`,
  list: `Usage: ttrpc list [SERVICE] [flags]

Without SERVICE: every service the schemas know, one per line (--origin adds where each one comes
from). With SERVICE: its methods as SERVICE.METHOD, one per line. --methods: every method of every
service as SERVICE/METHOD (what call takes; shell completion uses it).

${SCHEMA}`,
  describe: `Usage: ttrpc describe [SYMBOL...] [flags]

Prints a service, method (SERVICE.METHOD or SERVICE/METHOD), message or enum as .proto text, with
its comments, as grpcurl does (several symbols: one after the other). Without SYMBOL: every service.

  --template             print a JSON skeleton of a message (of a method: its request), every field
                         with a sample value, ready for -d
  --proto-names          use .proto field names in the skeleton

${SCHEMA}`,
  tap: `Usage: ttrpc tap --listen PATH --target ADDR [flags]

A transparent proxy: listens on PATH, and for every client that connects opens a connection to
ADDR and forwards bytes both ways unchanged, as they arrive (never altered, reordered or held
back). Every frame is printed: direction, connection, stream id, type, flags, and for requests the
service, method, timeout and metadata, for responses the status, and the payload decoded as JSON
when the schemas know the method (hex otherwise). Malformed frames are printed and forwarded.

  --listen PATH          the socket clients connect to (created; removed on exit)
  --target ADDR          the real server
  --json                 one JSON object per frame (NDJSON) instead of text
  --raw                  print payloads as hex even when the schema knows them
  --nri                  the socket carries NRI's connection mux (an NRI runtime's socket): split it
                         and print both ttrpc connections (m1: runtime calls plugin, m2: plugin
                         calls runtime)
  --max-msg-size SIZE    frames larger than this are shown without their payload (default 4MiB);
                         they are still forwarded

${ADDR}
To tap a containerd shim, give containerd (or ctr, or your client) the tap's socket in place of the
shim's: for example move the shim's socket aside and listen on its path.

${SCHEMA}`,
  bench: `Usage: ttrpc bench ADDR SERVICE/METHOD [flags]

Calls a unary method as fast as the server answers, over N connections with C calls in flight on
each, and prints calls/s, latency percentiles (p50 p90 p99 max), a latency histogram and errors by
status code.

  -d, --data JSON        the request of every call (@FILE and @- as for call)
  -c, --concurrency N    calls in flight in total (default 32)
  --connections N        connections, the calls spread across them (default 1)
  -n, --total N          number of calls (default 10000)
  --duration DURATION    run for this long instead of a number of calls (10s, 1m)
  --timeout DURATION     deadline of each call
  -H, --header K=V       metadata of every call
  --namespace NS         containerd's namespace metadata
  --json                 print the result as one JSON object
  --max-msg-size SIZE    as for call

${ADDR}
${SCHEMA}`,
  completion: `Usage: ttrpc completion [bash|zsh]

Prints a completion script: eval "$(ttrpc completion bash)", or add it to ~/.bashrc. It completes
verbs, flags, and service and method names from the built-in schemas.
`,
} as const;
