package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/ttrpc"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"

	"ttrpcinterop/benchpb"
	pb "ttrpcinterop/interoppb"
)

func serveMain(args []string) {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	socket := fs.String("socket", "", "unix socket path to listen on")
	events := fs.Bool("events", true, "print a line when a Sleep handler starts")
	fs.Parse(args)
	if *socket == "" {
		fatalf("serve: --socket is required")
	}
	_ = os.Remove(*socket)
	l, err := net.Listen("unix", *socket)
	if err != nil {
		fatalf("serve: listen: %v", err)
	}
	server, err := ttrpc.NewServer()
	if err != nil {
		fatalf("serve: %v", err)
	}
	pb.RegisterStreamingService(server, &streamingService{})
	pb.RegisterInteropService(server, newInteropService(*events))
	benchpb.RegisterBenchService(server, &benchService{})

	served := make(chan error, 1)
	go func() { served <- server.Serve(context.Background(), l) }()
	emit(map[string]interface{}{"ready": true, "socket": *socket, "pid": os.Getpid()})

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	select {
	case sig := <-sigs:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := server.Shutdown(ctx)
		cancel()
		if err != nil {
			server.Close()
		}
		emit(map[string]interface{}{"shutdown": true, "signal": sig.String(), "graceful": err == nil})
	case err := <-served:
		if err != nil && !errors.Is(err, ttrpc.ErrServerClosed) {
			fatalf("serve: %v", err)
		}
	}
	_ = os.Remove(*socket)
}

// ---- Streaming: the behaviour of Go ttrpc's integration/streaming suite ----

type streamingService struct{}

func (s *streamingService) Echo(_ context.Context, p *pb.EchoPayload) (*pb.EchoPayload, error) {
	return &pb.EchoPayload{Seq: p.Seq + 1, Msg: p.Msg}, nil
}

func (s *streamingService) EchoStream(_ context.Context, ss pb.Streaming_EchoStreamServer) error {
	for {
		p, err := ss.Recv()
		if err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if err := ss.Send(&pb.EchoPayload{Seq: p.Seq + 1, Msg: p.Msg}); err != nil {
			return err
		}
	}
}

func (s *streamingService) SumStream(_ context.Context, ss pb.Streaming_SumStreamServer) (*pb.Sum, error) {
	var sum pb.Sum
	for {
		part, err := ss.Recv()
		if err == io.EOF {
			return &sum, nil
		} else if err != nil {
			return nil, err
		}
		sum.Sum += part.Add
		sum.Num++
	}
}

func (s *streamingService) DivideStream(_ context.Context, sum *pb.Sum, ss pb.Streaming_DivideStreamServer) error {
	for i := int32(0); i < sum.Num; i++ {
		add := sum.Sum / sum.Num
		if i == sum.Num-1 {
			add += sum.Sum % sum.Num
		}
		if err := ss.Send(&pb.Part{Add: add}); err != nil {
			return err
		}
	}
	return nil
}

func (s *streamingService) EchoNull(_ context.Context, ss pb.Streaming_EchoNullServer) (*emptypb.Empty, error) {
	for {
		_, err := ss.Recv()
		if err == io.EOF {
			return &emptypb.Empty{}, nil
		} else if err != nil {
			return nil, err
		}
	}
}

func (s *streamingService) EchoNullStream(_ context.Context, ss pb.Streaming_EchoNullStreamServer) error {
	var wg sync.WaitGroup
	var sendErr error
	var mu sync.Mutex
	defer wg.Wait()
	for {
		_, err := ss.Recv()
		if err == io.EOF {
			wg.Wait()
			return sendErr
		} else if err != nil {
			return err
		}
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := ss.Send(&emptypb.Empty{}); err != nil {
					mu.Lock()
					sendErr = err
					mu.Unlock()
				}
			}()
		}
	}
}

func (s *streamingService) EmptyPayloadStream(_ context.Context, _ *emptypb.Empty, ss pb.Streaming_EmptyPayloadStreamServer) error {
	for seq := uint32(1); seq <= 2; seq++ {
		if err := ss.Send(&pb.EchoPayload{Seq: seq, Msg: "empty"}); err != nil {
			return err
		}
	}
	return nil
}

// ---- Interop: what the TypeScript features need ----

type sleepRecord struct {
	done     chan struct{}
	response *pb.SleepResponse
}

type interopService struct {
	mu     sync.Mutex
	sleeps map[string]*sleepRecord
	// events: print {"event":"sleep-started","tag":...} when a Sleep handler starts.
	events bool
}

func newInteropService(events bool) *interopService {
	return &interopService{sleeps: map[string]*sleepRecord{}, events: events}
}

func metadataList(ctx context.Context) *pb.MetadataList {
	list := &pb.MetadataList{}
	md, ok := ttrpc.GetMetadata(ctx)
	if !ok {
		return list
	}
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		list.Entries = append(list.Entries, &pb.KeyValues{Key: k, Values: append([]string(nil), md[k]...)})
	}
	return list
}

func (s *interopService) MetadataEcho(ctx context.Context, _ *emptypb.Empty) (*pb.MetadataList, error) {
	return metadataList(ctx), nil
}

func (s *interopService) MetadataEchoStream(ctx context.Context, req *pb.MetadataStreamRequest, ss pb.Interop_MetadataEchoStreamServer) error {
	list := metadataList(ctx)
	for i := uint32(0); i < req.Count; i++ {
		if err := ss.Send(list); err != nil {
			return err
		}
	}
	return nil
}

func (s *interopService) DeadlineEcho(ctx context.Context, _ *emptypb.Empty) (*pb.DeadlineInfo, error) {
	dl, ok := ctx.Deadline()
	if !ok {
		return &pb.DeadlineInfo{}, nil
	}
	return &pb.DeadlineInfo{HasDeadline: true, RemainingMs: time.Until(dl).Milliseconds()}, nil
}

func failStatus(req *pb.FailRequest) error {
	st := &spb.Status{Code: req.Code, Message: req.Message}
	if req.DetailTypeUrl != "" {
		st.Details = []*anypb.Any{{TypeUrl: req.DetailTypeUrl, Value: req.DetailValue}}
	}
	return status.ErrorProto(st)
}

func (s *interopService) Fail(_ context.Context, req *pb.FailRequest) (*emptypb.Empty, error) {
	if err := failStatus(req); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

func (s *interopService) FailStream(_ context.Context, ss pb.Interop_FailStreamServer) error {
	req, err := ss.Recv()
	if err != nil {
		return err
	}
	return failStatus(req)
}

func (s *interopService) record(tag string) *sleepRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.sleeps[tag]
	if !ok {
		r = &sleepRecord{done: make(chan struct{})}
		s.sleeps[tag] = r
	}
	return r
}

func (s *interopService) Sleep(ctx context.Context, req *pb.SleepRequest) (*pb.SleepResponse, error) {
	r := s.record(req.Tag)
	if s.events {
		emit(map[string]interface{}{"event": "sleep-started", "tag": req.Tag})
	}
	resp := &pb.SleepResponse{Tag: req.Tag, Found: true, Finished: true}
	timer := time.NewTimer(time.Duration(req.Ms) * time.Millisecond)
	defer timer.Stop()
	var err error
	select {
	case <-timer.C:
	case <-ctx.Done():
		err = ctx.Err()
		resp.Cancelled = true
		if errors.Is(err, context.DeadlineExceeded) {
			resp.Reason = "deadline"
		} else {
			resp.Reason = "canceled"
		}
	}
	s.mu.Lock()
	if r.response == nil && req.Tag != "" {
		r.response = resp
		close(r.done)
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func (s *interopService) SleepOutcome(ctx context.Context, req *pb.SleepOutcomeRequest) (*pb.SleepResponse, error) {
	r := s.record(req.Tag)
	timer := time.NewTimer(time.Duration(req.WaitMs) * time.Millisecond)
	defer timer.Stop()
	select {
	case <-r.done:
	case <-timer.C:
	case <-ctx.Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.response != nil {
		return r.response, nil
	}
	return &pb.SleepResponse{Tag: req.Tag}, nil
}

func pattern(size int) []byte {
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i % 251)
	}
	return data
}

func (s *interopService) Payload(_ context.Context, req *pb.PayloadRequest) (*pb.PayloadResponse, error) {
	return &pb.PayloadResponse{Data: pattern(int(req.Size))}, nil
}

func (s *interopService) Size(_ context.Context, req *pb.SizeRequest) (*pb.SizeResponse, error) {
	return &pb.SizeResponse{Size: uint32(len(req.Data))}, nil
}

// ---- Bench ----

type benchService struct{}

func (b *benchService) Unary(_ context.Context, m *benchpb.BenchMessage) (*benchpb.BenchMessage, error) {
	return &benchpb.BenchMessage{Payload: m.Payload}, nil
}

func (b *benchService) ServerStream(_ context.Context, req *benchpb.StreamRequest, ss benchpb.Bench_ServerStreamServer) error {
	msg := &benchpb.BenchMessage{Payload: make([]byte, req.Size)}
	for i := uint32(0); i < req.Count; i++ {
		if err := ss.Send(msg); err != nil {
			return err
		}
	}
	return nil
}

func (b *benchService) ClientStream(_ context.Context, ss benchpb.Bench_ClientStreamServer) (*benchpb.BenchMessage, error) {
	for {
		_, err := ss.Recv()
		if err == io.EOF {
			return &benchpb.BenchMessage{}, nil
		} else if err != nil {
			return nil, err
		}
	}
}

func (b *benchService) Bidi(_ context.Context, ss benchpb.Bench_BidiServer) error {
	for {
		m, err := ss.Recv()
		if err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if err := ss.Send(m); err != nil {
			return err
		}
	}
}
