package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/otelttrpc"
	"github.com/containerd/ttrpc"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The relay service both peers implement: ttrpc.otel.v1.Relay/Call takes a StringValue of
// space-separated hops and answers a StringValue holding a JSON array of what each server saw.
//
//	unix:PATH  call the server at PATH with the remaining hops
//	code:N     fail with status code N (the remaining hops are ignored)
//
// Nothing left: answer OK. Errors from a downstream hop are returned unchanged.
const (
	relayService = "ttrpc.otel.v1.Relay"
	relayMethod  = "Call"
)

// seen is what one server reports about the call it got.
type seen struct {
	By          string `json:"by"`
	Traceparent string `json:"traceparent"`
	Baggage     string `json:"baggage"`
}

func metadataValue(ctx context.Context, key string) string {
	if md, ok := ttrpc.GetMetadata(ctx); ok {
		if v, ok := md.Get(key); ok && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// relay runs the hops: inside a span of its own, so the tests see user spans nest in Go too.
func relay(ctx context.Context, hops []string) ([]seen, error) {
	if len(hops) == 0 {
		return nil, nil
	}
	hop, rest := hops[0], hops[1:]
	if strings.HasPrefix(hop, "code:") {
		n, err := strconv.Atoi(strings.TrimPrefix(hop, "code:"))
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "bad hop %q", hop)
		}
		return nil, status.Errorf(codes.Code(n), "relay: asked for code %d", n)
	}
	path := strings.TrimPrefix(hop, "unix:")
	ctx, span := otel.Tracer("ttrpc-otel-peer").Start(ctx, "go.relay")
	defer span.End()
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "dial %s: %v", path, err)
	}
	client := ttrpc.NewClient(conn, ttrpc.WithUnaryClientInterceptor(otelttrpc.UnaryClientInterceptor(
		otelttrpc.WithMessageEvents(otelttrpc.ReceivedEvents, otelttrpc.SentEvents))))
	defer client.Close()
	var resp wrapperspb.StringValue
	err = client.Call(ctx, relayService, relayMethod, wrapperspb.String(strings.Join(rest, " ")), &resp)
	if err != nil {
		return nil, err
	}
	var downstream []seen
	if err := json.Unmarshal([]byte(resp.Value), &downstream); err != nil {
		return nil, status.Errorf(codes.DataLoss, "bad relay answer %q: %v", resp.Value, err)
	}
	return downstream, nil
}

func serveMain(args []string) {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	socket := fs.String("socket", "", "unix socket path")
	fs.Parse(args)
	if *socket == "" {
		fatalf("serve: --socket is required")
	}
	tp, reader := setupTelemetry()
	server, err := ttrpc.NewServer(ttrpc.WithUnaryServerInterceptor(otelttrpc.UnaryServerInterceptor(
		otelttrpc.WithMessageEvents(otelttrpc.ReceivedEvents, otelttrpc.SentEvents))))
	if err != nil {
		fatalf("new server: %v", err)
	}
	server.Register(relayService, map[string]ttrpc.Method{
		relayMethod: func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			var req wrapperspb.StringValue
			if err := unmarshal(&req); err != nil {
				return nil, err
			}
			me := seen{By: "go", Traceparent: metadataValue(ctx, "traceparent"), Baggage: metadataValue(ctx, "baggage")}
			downstream, err := relay(ctx, strings.Fields(req.Value))
			if err != nil {
				return nil, err
			}
			out, _ := json.Marshal(append([]seen{me}, downstream...))
			return wrapperspb.String(string(out)), nil
		},
	})
	os.Remove(*socket)
	l, err := net.Listen("unix", *socket)
	if err != nil {
		fatalf("listen: %v", err)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		server.Shutdown(ctx)
		tp.Shutdown(ctx)
		emitMetrics(reader)
		emit(map[string]interface{}{"stopped": true})
		os.Exit(0)
	}()
	emit(map[string]interface{}{"listening": *socket})
	if err := server.Serve(context.Background(), l); err != nil && err != ttrpc.ErrServerClosed {
		fatalf("serve: %v", err)
	}
	select {}
}

// callMain starts a trace (span "go.root", baggage origin=go) and relays through the hops.
func callMain(args []string) {
	fs := flag.NewFlagSet("call", flag.ExitOnError)
	socket := fs.String("socket", "", "unix socket path of the first server")
	hops := fs.String("hops", "", "the hops after the first server")
	fs.Parse(args)
	if *socket == "" {
		fatalf("call: --socket is required")
	}
	tp, _ := setupTelemetry()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	member, _ := baggage.NewMember("origin", "go")
	bag, _ := baggage.New(member)
	ctx = baggage.ContextWithBaggage(ctx, bag)
	ctx, root := otel.Tracer("ttrpc-otel-peer").Start(ctx, "go.root")
	chain, err := relay(ctx, append([]string{"unix:" + *socket}, strings.Fields(*hops)...))
	root.End()
	tp.Shutdown(context.Background())
	st, _ := status.FromError(err)
	emit(map[string]interface{}{"result": map[string]interface{}{
		"code": int(st.Code()), "message": st.Message(), "chain": chain,
	}})
	if err != nil {
		fmt.Fprintf(os.Stderr, "ttrpc-otel-peer: call: %v\n", err)
	}
}
