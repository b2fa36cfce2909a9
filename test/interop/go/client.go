package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	"ttrpcinterop/benchpb"
	pb "ttrpcinterop/interoppb"
)

type clientOpts struct {
	socket    string
	timeoutMs int
	ms        int
	count     int
	streams   int
	tag       string
	sizes     []int
	reqSizes  []int
}

type clientCase struct {
	name string
	help string
	run  func(c *ttrpc.Client, o *clientOpts)
}

var clientCases []clientCase

func init() {
	clientCases = []clientCase{
		{"unary", "one Echo{seq:1,msg:\"hello\"} (byte-level capture)", caseUnary},
		{"unary_meta", "one Echo{seq:1,msg:\"hello\"} with metadata k=[v1,v2] and a 5 s timeout (byte-level capture)", caseUnaryMeta},
		{"server_stream", "one DivideStream{sum:10,num:4} (byte-level capture)", caseServerStream},
		{"client_stream", "one SumStream of parts 1,2,3,{} (byte-level capture)", caseClientStream},
		{"bidi", "one EchoStream of 3 round trips then CloseSend (byte-level capture)", caseBidi},
		{"echo", "Echo with a filled and an empty message", caseEcho},
		{"streaming", "the seven tests of Go ttrpc's integration/streaming suite", caseStreaming},
		{"empty", "google.protobuf.Empty requests: MetadataEcho without metadata, EmptyPayloadStream", caseEmpty},
		{"large", "Bench with 0-byte and 1 MiB payloads in all four call kinds", caseLarge},
		{"payload", "Payload(size) for each --sizes, Size(data) for each --req-sizes, then an Echo", casePayload},
		{"stream_payload", "Bench ServerStream{count:1,size} and a Bidi echo of size bytes for each --sizes, then an Echo", caseStreamPayload},
		{"metadata", "MetadataEcho with several keys, repeated values, upper-case keys", caseMetadata},
		{"metadata_stream", "MetadataEchoStream{count:2} with the same metadata", caseMetadataStream},
		{"deadline", "DeadlineEcho with --timeout-ms and without a timeout", caseDeadline},
		{"deadline_expire", "Sleep{--ms, --tag} with --timeout-ms, then SleepOutcome(--tag)", caseDeadlineExpire},
		{"errors", "Fail with codes 1-16 and one detail; unknown service and method (unary and stream)", caseErrors},
		{"fail_stream", "FailStream with code 9 and a detail", caseFailStream},
		{"concurrency", "--count concurrent calls (half SleepOutcome waiting for the other half's Sleep: answered out of order) and --streams concurrent EchoStreams", caseConcurrency},
		{"hold", "--count Sleep{--ms} calls in flight; stdin line \"close\" closes the client; then one Echo", caseHold},
	}
}

func parseSizes(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			fatalf("bad size %q", f)
		}
		out = append(out, n)
	}
	return out
}

func clientMain(args []string) {
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	o := &clientOpts{}
	name := fs.String("case", "", "scenario to run (list: --case list)")
	fs.StringVar(&o.socket, "socket", "", "unix socket path of the server")
	fs.IntVar(&o.timeoutMs, "timeout-ms", 0, "call timeout (deadline cases)")
	fs.IntVar(&o.ms, "ms", 10000, "sleep duration (deadline_expire, hold)")
	fs.IntVar(&o.count, "count", 0, "number of calls (concurrency: 1000, hold: 2)")
	fs.IntVar(&o.streams, "streams", 50, "number of concurrent streams (concurrency)")
	fs.StringVar(&o.tag, "tag", "go", "tag (prefix) for Sleep calls")
	sizes := fs.String("sizes", "0,1048576", "Payload response sizes (payload)")
	reqSizes := fs.String("req-sizes", "0,1048576", "Size request sizes (payload)")
	fs.Parse(args)
	o.sizes = parseSizes(*sizes)
	o.reqSizes = parseSizes(*reqSizes)

	if *name == "list" {
		for _, c := range clientCases {
			emit(map[string]interface{}{"case": c.name, "help": c.help})
		}
		return
	}
	var selected *clientCase
	for i := range clientCases {
		if clientCases[i].name == *name {
			selected = &clientCases[i]
		}
	}
	if selected == nil {
		fatalf("client: unknown --case %q (try --case list)", *name)
	}
	if o.socket == "" {
		fatalf("client: --socket is required")
	}
	conn, err := net.Dial("unix", o.socket)
	if err != nil {
		fatalf("client: dial: %v", err)
	}
	c := ttrpc.NewClient(conn)
	selected.run(c, o)
	c.Close()
	emit(map[string]interface{}{"done": true, "case": selected.name})
}

// errFields describes an error: ok=false, code (gRPC numbering), kind ("status" when the
// code came from a Status on the wire, "context" for the caller's own context, "closed" for
// ttrpc.ErrClosed, reported as 14 UNAVAILABLE, "other" otherwise) and the message.
func errFields(err error, into map[string]interface{}) map[string]interface{} {
	if into == nil {
		into = map[string]interface{}{}
	}
	if err == nil {
		into["ok"] = true
		into["code"] = 0
		return into
	}
	into["ok"] = false
	into["error"] = err.Error()
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		into["code"], into["kind"] = 4, "context"
	case errors.Is(err, context.Canceled):
		into["code"], into["kind"] = 1, "context"
	case errors.Is(err, ttrpc.ErrClosed):
		into["code"], into["kind"] = 14, "closed"
	default:
		st, ok := status.FromError(err)
		if !ok {
			into["code"], into["kind"] = 2, "other"
			break
		}
		into["code"], into["kind"], into["message"] = int(st.Code()), "status", st.Message()
		details := []map[string]interface{}{}
		for _, d := range st.Proto().GetDetails() {
			details = append(details, map[string]interface{}{"typeUrl": d.GetTypeUrl(), "valueHex": hex.EncodeToString(d.GetValue())})
		}
		into["details"] = details
	}
	return into
}

func step(name string, err error, fields map[string]interface{}) {
	if fields == nil {
		fields = map[string]interface{}{}
	}
	fields["step"] = name
	emit(errFields(err, fields))
}

func withTimeout(ms int) (context.Context, context.CancelFunc) {
	if ms <= 0 {
		return context.WithCancel(context.Background())
	}
	return context.WithTimeout(context.Background(), time.Duration(ms)*time.Millisecond)
}

// ---- byte-level capture cases: one deterministic call each, no metadata, no timeout ----

func caseUnary(c *ttrpc.Client, _ *clientOpts) {
	r, err := pb.NewStreamingClient(c).Echo(context.Background(), &pb.EchoPayload{Seq: 1, Msg: "hello"})
	step("unary", err, map[string]interface{}{"seq": r.GetSeq(), "msg": r.GetMsg()})
}

func caseUnaryMeta(c *ttrpc.Client, _ *clientOpts) {
	ctx, cancel := context.WithTimeout(ttrpc.WithMetadata(context.Background(), ttrpc.MD{"k": {"v1", "v2"}}), 5*time.Second)
	defer cancel()
	r, err := pb.NewStreamingClient(c).Echo(ctx, &pb.EchoPayload{Seq: 1, Msg: "hello"})
	step("unary_meta", err, map[string]interface{}{"seq": r.GetSeq(), "msg": r.GetMsg()})
}

func recvParts(s pb.Streaming_DivideStreamClient) ([]int32, error) {
	parts := []int32{}
	for {
		p, err := s.Recv()
		if err == io.EOF {
			return parts, nil
		} else if err != nil {
			return parts, err
		}
		parts = append(parts, p.Add)
	}
}

func caseServerStream(c *ttrpc.Client, _ *clientOpts) {
	s, err := pb.NewStreamingClient(c).DivideStream(context.Background(), &pb.Sum{Sum: 10, Num: 4})
	var parts []int32
	if err == nil {
		parts, err = recvParts(s)
	}
	step("server_stream", err, map[string]interface{}{"parts": parts})
}

func sumParts(c *ttrpc.Client, adds []int32) (*pb.Sum, error) {
	s, err := pb.NewStreamingClient(c).SumStream(context.Background())
	if err != nil {
		return nil, err
	}
	for _, a := range adds {
		if err := s.Send(&pb.Part{Add: a}); err != nil {
			return nil, err
		}
	}
	return s.CloseAndRecv()
}

func caseClientStream(c *ttrpc.Client, _ *clientOpts) {
	r, err := sumParts(c, []int32{1, 2, 3, 0})
	step("client_stream", err, map[string]interface{}{"sum": r.GetSum(), "num": r.GetNum()})
}

func caseBidi(c *ttrpc.Client, _ *clientOpts) {
	s, err := pb.NewStreamingClient(c).EchoStream(context.Background())
	replies := []map[string]interface{}{}
	eof := false
	if err == nil {
		for i := 0; i < 3 && err == nil; i++ {
			if err = s.Send(&pb.EchoPayload{Seq: uint32(i * 10), Msg: fmt.Sprintf("m%d", i)}); err != nil {
				break
			}
			var r *pb.EchoPayload
			if r, err = s.Recv(); err == nil {
				replies = append(replies, map[string]interface{}{"seq": r.Seq, "msg": r.Msg})
			}
		}
		if err == nil {
			if err = s.CloseSend(); err == nil {
				_, rerr := s.Recv()
				eof = rerr == io.EOF
				if !eof {
					err = rerr
				}
			}
		}
	}
	step("bidi", err, map[string]interface{}{"replies": replies, "eof": eof})
}

// ---- behaviour cases ----

func caseEcho(c *ttrpc.Client, _ *clientOpts) {
	sc := pb.NewStreamingClient(c)
	r, err := sc.Echo(context.Background(), &pb.EchoPayload{Seq: 41, Msg: "hello ✓"})
	step("echo", err, map[string]interface{}{"seq": r.GetSeq(), "msg": r.GetMsg()})
	r, err = sc.Echo(context.Background(), &pb.EchoPayload{})
	step("echo_empty", err, map[string]interface{}{"seq": r.GetSeq(), "msg": r.GetMsg()})
}

func caseStreaming(c *ttrpc.Client, _ *clientOpts) {
	sc := pb.NewStreamingClient(c)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// Echo
	r, err := sc.Echo(ctx, &pb.EchoPayload{Seq: 1, Msg: "Echo"})
	step("Echo", err, map[string]interface{}{"seq": r.GetSeq(), "msg": r.GetMsg()})

	// EchoStream: 50 round trips, CloseSend, then io.EOF.
	func() {
		s, err := sc.EchoStream(ctx)
		if err != nil {
			step("EchoStream", err, nil)
			return
		}
		bad := 0
		n := 0
		for i := uint32(0); i < 100; i += 2 {
			msg := fmt.Sprintf("message %d", i)
			if err = s.Send(&pb.EchoPayload{Seq: i, Msg: msg}); err != nil {
				break
			}
			var r *pb.EchoPayload
			if r, err = s.Recv(); err != nil {
				break
			}
			n++
			if r.Seq != i+1 || r.Msg != msg {
				bad++
			}
		}
		eof := false
		if err == nil {
			if err = s.CloseSend(); err == nil {
				_, rerr := s.Recv()
				if eof = rerr == io.EOF; !eof {
					err = rerr
				}
			}
		}
		step("EchoStream", err, map[string]interface{}{"roundTrips": n, "mismatched": bad, "eof": eof})
	}()

	// SumStream with empty messages.
	sum, err := sumParts(c, []int32{0, 1, 0, 2, 3, 0})
	step("SumStream", err, map[string]interface{}{"sum": sum.GetSum(), "num": sum.GetNum()})

	// DivideStream with empty first/last parts.
	for _, in := range []*pb.Sum{{Sum: 7, Num: 4}, {Sum: 0, Num: 3}, {Sum: 2, Num: 3}, {Sum: 5, Num: 0}} {
		s, err := sc.DivideStream(ctx, in)
		var parts []int32
		if err == nil {
			parts, err = recvParts(s)
		}
		step("DivideStream", err, map[string]interface{}{"sum": in.Sum, "num": in.Num, "parts": parts})
	}

	// EchoNull: client-streaming returning Empty.
	func() {
		s, err := sc.EchoNull(ctx)
		if err != nil {
			step("EchoNull", err, nil)
			return
		}
		for i := uint32(0); i < 10 && err == nil; i++ {
			err = s.Send(&pb.EchoPayload{Seq: i, Msg: "non-empty empty"})
		}
		if err == nil {
			_, err = s.CloseAndRecv()
		}
		step("EchoNull", err, nil)
	}()

	// EchoNullStream: 10 Empty answers per message, sent concurrently by the server.
	func() {
		s, err := sc.EchoNullStream(ctx)
		if err != nil {
			step("EchoNullStream", err, nil)
			return
		}
		received := 0
		var recvErr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				if _, err := s.Recv(); err != nil {
					if err != io.EOF {
						recvErr = err
					}
					return
				}
				received++
			}
		}()
		const sent = 5
		for i := uint32(0); i < sent && err == nil; i++ {
			err = s.Send(&pb.EchoPayload{Seq: i, Msg: "null"})
		}
		if err == nil {
			err = s.CloseSend()
		}
		<-done
		if err == nil {
			err = recvErr
		}
		step("EchoNullStream", err, map[string]interface{}{"sent": sent, "received": received})
	}()

	// EmptyPayloadStream: an Empty (0-byte) request still runs the handler.
	func() {
		s, err := sc.EmptyPayloadStream(ctx, &emptypb.Empty{})
		msgs := []map[string]interface{}{}
		if err == nil {
			for {
				var r *pb.EchoPayload
				if r, err = s.Recv(); err != nil {
					if err == io.EOF {
						err = nil
					}
					break
				}
				msgs = append(msgs, map[string]interface{}{"seq": r.Seq, "msg": r.Msg})
			}
		}
		step("EmptyPayloadStream", err, map[string]interface{}{"messages": msgs})
	}()
}

func entriesOf(list *pb.MetadataList) []map[string]interface{} {
	out := []map[string]interface{}{}
	for _, e := range list.GetEntries() {
		out = append(out, map[string]interface{}{"key": e.Key, "values": e.Values})
	}
	return out
}

func caseEmpty(c *ttrpc.Client, _ *clientOpts) {
	list, err := pb.NewInteropClient(c).MetadataEcho(context.Background(), &emptypb.Empty{})
	step("metadata_echo_empty", err, map[string]interface{}{"entries": entriesOf(list)})
	s, err := pb.NewStreamingClient(c).EmptyPayloadStream(context.Background(), &emptypb.Empty{})
	msgs := []map[string]interface{}{}
	if err == nil {
		for {
			var r *pb.EchoPayload
			if r, err = s.Recv(); err != nil {
				if err == io.EOF {
					err = nil
				}
				break
			}
			msgs = append(msgs, map[string]interface{}{"seq": r.Seq, "msg": r.Msg})
		}
	}
	step("empty_payload_stream", err, map[string]interface{}{"messages": msgs})
}

func caseLarge(c *ttrpc.Client, _ *clientOpts) {
	bc := benchpb.NewBenchClient(c)
	ctx := context.Background()
	const mib = 1 << 20
	for _, size := range []int{0, mib} {
		r, err := bc.Unary(ctx, &benchpb.BenchMessage{Payload: pattern(size)})
		step("unary", err, map[string]interface{}{"size": size, "got": len(r.GetPayload()), "same": err == nil && string(r.GetPayload()) == string(pattern(size))})
	}
	for _, size := range []int{0, mib} {
		s, err := bc.ServerStream(ctx, &benchpb.StreamRequest{Count: 3, Size: uint32(size)})
		got := []int{}
		if err == nil {
			for {
				var m *benchpb.BenchMessage
				if m, err = s.Recv(); err != nil {
					if err == io.EOF {
						err = nil
					}
					break
				}
				got = append(got, len(m.Payload))
			}
		}
		step("server_stream", err, map[string]interface{}{"size": size, "got": got})
	}
	for _, size := range []int{0, mib} {
		s, err := bc.ClientStream(ctx)
		if err == nil {
			for i := 0; i < 3 && err == nil; i++ {
				err = s.Send(&benchpb.BenchMessage{Payload: pattern(size)})
			}
			if err == nil {
				_, err = s.CloseAndRecv()
			}
		}
		step("client_stream", err, map[string]interface{}{"size": size})
	}
	for _, size := range []int{0, mib} {
		s, err := bc.Bidi(ctx)
		got := []int{}
		if err == nil {
			for i := 0; i < 2 && err == nil; i++ {
				if err = s.Send(&benchpb.BenchMessage{Payload: pattern(size)}); err == nil {
					var m *benchpb.BenchMessage
					if m, err = s.Recv(); err == nil {
						got = append(got, len(m.Payload))
					}
				}
			}
			if err == nil {
				if err = s.CloseSend(); err == nil {
					if _, rerr := s.Recv(); rerr != io.EOF {
						err = fmt.Errorf("expected io.EOF after CloseSend, got %v", rerr)
					}
				}
			}
		}
		step("bidi", err, map[string]interface{}{"size": size, "got": got})
	}
}

func casePayload(c *ttrpc.Client, o *clientOpts) {
	ic := pb.NewInteropClient(c)
	ctx := context.Background()
	for _, size := range o.sizes {
		r, err := ic.Payload(ctx, &pb.PayloadRequest{Size: uint32(size)})
		step("payload", err, map[string]interface{}{"size": size, "got": len(r.GetData()), "pattern": err == nil && string(r.GetData()) == string(pattern(size))})
	}
	for _, size := range o.reqSizes {
		r, err := ic.Size(ctx, &pb.SizeRequest{Data: pattern(size)})
		step("size", err, map[string]interface{}{"size": size, "got": r.GetSize()})
	}
	r, err := pb.NewStreamingClient(c).Echo(ctx, &pb.EchoPayload{Seq: 7, Msg: "after"})
	step("after", err, map[string]interface{}{"seq": r.GetSeq(), "msg": r.GetMsg()})
}

func caseStreamPayload(c *ttrpc.Client, o *clientOpts) {
	bc := benchpb.NewBenchClient(c)
	ctx := context.Background()
	for _, size := range o.sizes {
		got := []int{}
		s, err := bc.ServerStream(ctx, &benchpb.StreamRequest{Count: 1, Size: uint32(size)})
		if err == nil {
			for {
				var m *benchpb.BenchMessage
				if m, err = s.Recv(); err != nil {
					if err == io.EOF {
						err = nil
					}
					break
				}
				got = append(got, len(m.Payload))
			}
		}
		step("server_stream", err, map[string]interface{}{"size": size, "got": got})
	}
	for _, size := range o.sizes {
		got := []int{}
		s, err := bc.Bidi(ctx)
		if err == nil {
			if err = s.Send(&benchpb.BenchMessage{Payload: pattern(size)}); err == nil {
				var m *benchpb.BenchMessage
				if m, err = s.Recv(); err == nil {
					got = append(got, len(m.Payload))
					if err = s.CloseSend(); err == nil {
						if _, rerr := s.Recv(); rerr != io.EOF {
							err = fmt.Errorf("expected io.EOF after CloseSend, got %v", rerr)
						}
					}
				}
			}
		}
		step("bidi", err, map[string]interface{}{"size": size, "got": got})
	}
	r, err := pb.NewStreamingClient(c).Echo(ctx, &pb.EchoPayload{Seq: 7, Msg: "after"})
	step("after", err, map[string]interface{}{"seq": r.GetSeq(), "msg": r.GetMsg()})
}

func testMetadata() context.Context {
	md := ttrpc.MD{}
	md.Set("key-a", "1")
	md.Set("key-b", "x", "y", "z")
	md.Append("key-b", "w")
	md.Set("Set-Upper", "lowered by MD.Set")
	md["Raw-Upper"] = []string{"U1", "U2"} // a raw map key keeps its case on the wire
	md.Set("empty-value", "")
	return ttrpc.WithMetadata(context.Background(), md)
}

func caseMetadata(c *ttrpc.Client, _ *clientOpts) {
	list, err := pb.NewInteropClient(c).MetadataEcho(testMetadata(), &emptypb.Empty{})
	step("metadata", err, map[string]interface{}{"entries": entriesOf(list)})
}

func caseMetadataStream(c *ttrpc.Client, _ *clientOpts) {
	s, err := pb.NewInteropClient(c).MetadataEchoStream(testMetadata(), &pb.MetadataStreamRequest{Count: 2})
	msgs := [][]map[string]interface{}{}
	if err == nil {
		for {
			var list *pb.MetadataList
			if list, err = s.Recv(); err != nil {
				if err == io.EOF {
					err = nil
				}
				break
			}
			msgs = append(msgs, entriesOf(list))
		}
	}
	step("metadata_stream", err, map[string]interface{}{"messages": msgs})
}

func caseDeadline(c *ttrpc.Client, o *clientOpts) {
	ic := pb.NewInteropClient(c)
	timeout := o.timeoutMs
	if timeout <= 0 {
		timeout = 5000
	}
	ctx, cancel := withTimeout(timeout)
	info, err := ic.DeadlineEcho(ctx, &emptypb.Empty{})
	cancel()
	step("deadline", err, map[string]interface{}{"timeoutMs": timeout, "hasDeadline": info.GetHasDeadline(), "remainingMs": info.GetRemainingMs()})
	info, err = ic.DeadlineEcho(context.Background(), &emptypb.Empty{})
	step("no_deadline", err, map[string]interface{}{"hasDeadline": info.GetHasDeadline(), "remainingMs": info.GetRemainingMs()})
}

func caseDeadlineExpire(c *ttrpc.Client, o *clientOpts) {
	ic := pb.NewInteropClient(c)
	timeout := o.timeoutMs
	if timeout <= 0 {
		timeout = 300
	}
	ctx, cancel := withTimeout(timeout)
	_, err := ic.Sleep(ctx, &pb.SleepRequest{Ms: uint32(o.ms), Tag: o.tag})
	cancel()
	step("sleep", err, map[string]interface{}{"timeoutMs": timeout, "tag": o.tag})
	out, err := ic.SleepOutcome(context.Background(), &pb.SleepOutcomeRequest{Tag: o.tag, WaitMs: uint32(o.ms)})
	step("outcome", err, map[string]interface{}{"found": out.GetFound(), "finished": out.GetFinished(), "cancelled": out.GetCancelled(), "reason": out.GetReason()})
}

// The detail sent with every failure: Any{type.googleapis.com/ttrpc.interop.v1.EchoPayload, EchoPayload{seq: code, msg: "detail"}}.
func detailFor(code int32) (string, []byte) {
	b, _ := proto.Marshal(&pb.EchoPayload{Seq: uint32(code), Msg: "detail"})
	return "type.googleapis.com/ttrpc.interop.v1.EchoPayload", b
}

func caseErrors(c *ttrpc.Client, _ *clientOpts) {
	ic := pb.NewInteropClient(c)
	ctx := context.Background()
	for code := int32(1); code <= 16; code++ {
		url, value := detailFor(code)
		msg := fmt.Sprintf("failure %d: ünïcödé ✓", code)
		_, err := ic.Fail(ctx, &pb.FailRequest{Code: code, Message: msg, DetailTypeUrl: url, DetailValue: value})
		step("fail", err, map[string]interface{}{"sentCode": code, "sentMessage": msg, "sentDetail": map[string]interface{}{"typeUrl": url, "valueHex": hex.EncodeToString(value)}})
	}
	_, err := ic.Fail(ctx, &pb.FailRequest{Code: 5, Message: "no detail"})
	step("fail_no_detail", err, map[string]interface{}{"sentCode": 5})

	err = c.Call(ctx, "no.such.Service", "Echo", &emptypb.Empty{}, &emptypb.Empty{})
	step("unknown_service", err, nil)
	err = c.Call(ctx, "ttrpc.interop.v1.Interop", "NoSuchMethod", &emptypb.Empty{}, &emptypb.Empty{})
	step("unknown_method", err, nil)
	for _, target := range [][2]string{{"no.such.Service", "Stream"}, {"ttrpc.interop.v1.Streaming", "NoSuchStream"}} {
		s, err := c.NewStream(ctx, &ttrpc.StreamDesc{StreamingClient: true, StreamingServer: true}, target[0], target[1], nil)
		if err == nil {
			err = s.RecvMsg(&emptypb.Empty{})
		}
		step("unknown_stream", err, map[string]interface{}{"service": target[0], "method": target[1]})
	}
}

func caseFailStream(c *ttrpc.Client, _ *clientOpts) {
	url, value := detailFor(9)
	s, err := pb.NewInteropClient(c).FailStream(context.Background())
	if err == nil {
		err = s.Send(&pb.FailRequest{Code: 9, Message: "stream failure", DetailTypeUrl: url, DetailValue: value})
		if err == nil {
			_, err = s.Recv()
		}
	}
	step("fail_stream", err, map[string]interface{}{"sentCode": 9})
}

func caseConcurrency(c *ttrpc.Client, o *clientOpts) {
	ic := pb.NewInteropClient(c)
	sc := pb.NewStreamingClient(c)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n := o.count
	if n <= 0 {
		n = 1000
	}
	half := n / 2
	var (
		mu         sync.Mutex
		ok         int
		mismatched int
		failed     int
		firstErr   string
		order      []int
		wg         sync.WaitGroup
	)
	// Calls 0..half-1 are SleepOutcome(tag i), which the server can only answer once the later
	// call half+i, Sleep(tag i), has run: a server answering in order would never finish.
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var (
				r   *pb.SleepResponse
				err error
				tag string
			)
			if i < half {
				tag = fmt.Sprintf("%s-%d", o.tag, i)
				r, err = ic.SleepOutcome(ctx, &pb.SleepOutcomeRequest{Tag: tag, WaitMs: 30000})
			} else {
				tag = fmt.Sprintf("%s-%d", o.tag, i-half)
				r, err = ic.Sleep(ctx, &pb.SleepRequest{Ms: uint32((i * 7) % 20), Tag: tag})
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				failed++
				if firstErr == "" {
					firstErr = err.Error()
				}
			case r.Tag != tag || r.Cancelled || !r.Found || !r.Finished:
				mismatched++
			default:
				ok++
			}
			order = append(order, i)
		}(i)
	}
	wg.Wait()
	inversions := 0
	for k := 1; k < len(order); k++ {
		if order[k] < order[k-1] {
			inversions++
		}
	}
	emit(map[string]interface{}{"step": "unary", "total": n, "ok": ok == n, "answered": ok, "mismatched": mismatched, "failed": failed, "firstError": firstErr, "inversions": inversions})

	ok, mismatched, failed, firstErr = 0, 0, 0, ""
	const perStream = 20
	for i := 0; i < o.streams; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			good, bad := 0, 0
			s, err := sc.EchoStream(ctx)
			for j := 0; j < perStream && err == nil; j++ {
				msg := fmt.Sprintf("stream %d message %d", i, j)
				if err = s.Send(&pb.EchoPayload{Seq: uint32(i*1000 + j), Msg: msg}); err == nil {
					var r *pb.EchoPayload
					if r, err = s.Recv(); err == nil {
						if r.Seq == uint32(i*1000+j+1) && r.Msg == msg {
							good++
						} else {
							bad++
						}
					}
				}
			}
			if err == nil {
				if err = s.CloseSend(); err == nil {
					if _, rerr := s.Recv(); rerr != io.EOF {
						err = fmt.Errorf("expected io.EOF, got %v", rerr)
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			ok += good
			mismatched += bad
			if err != nil {
				failed++
				if firstErr == "" {
					firstErr = err.Error()
				}
			}
		}(i)
	}
	wg.Wait()
	emit(map[string]interface{}{"step": "streams", "streams": o.streams, "messages": o.streams * perStream, "ok": ok == o.streams*perStream && failed == 0, "answered": ok, "mismatched": mismatched, "failed": failed, "firstError": firstErr})
}

func caseHold(c *ttrpc.Client, o *clientOpts) {
	ic := pb.NewInteropClient(c)
	n := o.count
	if n <= 0 {
		n = 2
	}
	type result struct {
		tag string
		err error
		r   *pb.SleepResponse
	}
	results := make(chan result, n)
	for i := 0; i < n; i++ {
		tag := fmt.Sprintf("%s-%d", o.tag, i)
		go func() {
			r, err := ic.Sleep(context.Background(), &pb.SleepRequest{Ms: uint32(o.ms), Tag: tag})
			results <- result{tag, err, r}
		}()
	}
	emit(map[string]interface{}{"event": "sent", "count": n})
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "close" {
				c.Close()
				emit(map[string]interface{}{"event": "closed"})
			}
		}
	}()
	all := make([]result, 0, n)
	for i := 0; i < n; i++ {
		all = append(all, <-results)
	}
	sort.Slice(all, func(a, b int) bool { return all[a].tag < all[b].tag })
	for _, r := range all {
		step("call", r.err, map[string]interface{}{"tag": r.tag, "cancelled": r.r.GetCancelled()})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := pb.NewStreamingClient(c).Echo(ctx, &pb.EchoPayload{Seq: 1, Msg: "after"})
	step("after", err, map[string]interface{}{"seq": r.GetSeq()})
}
