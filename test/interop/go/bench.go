package main

import (
	"context"
	"flag"
	"io"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/containerd/ttrpc"

	"ttrpcinterop/benchpb"
)

// bench-client: a Go ttrpc client load generator against ttrpc.bench.v1.Bench.
// One connection, --concurrency goroutines, for --duration-ms after --warmup-ms.
//
//	unary:         ops = calls; latency = one call
//	server_stream: ops = messages received; streams of --stream-messages; latency = time between messages
//	client_stream: ops = messages sent; streams of --stream-messages; latency = one SendMsg (the last includes CloseAndRecv)
//	bidi:          ops = messages echoed; --bidi-mode pingpong (default): one long stream per goroutine,
//	               one message in flight, latency = one round trip; --bidi-mode pipeline: streams of
//	               --stream-messages sent by one goroutine while another receives, latency = time
//	               between echoes
func benchMain(args []string) {
	fs := flag.NewFlagSet("bench-client", flag.ExitOnError)
	socket := fs.String("socket", "", "unix socket path of the server")
	workload := fs.String("workload", "unary", "unary|server_stream|client_stream|bidi")
	size := fs.Int("size", 64, "payload size in bytes")
	concurrency := fs.Int("concurrency", 1, "concurrent callers on the one connection")
	durationMs := fs.Int("duration-ms", 2000, "measured duration")
	warmupMs := fs.Int("warmup-ms", 0, "unmeasured warm-up before the measured duration")
	perStream := fs.Int("stream-messages", 100, "messages per stream (server_stream, client_stream, bidi pipeline)")
	bidiMode := fs.String("bidi-mode", "pingpong", "bidi: pingpong|pipeline")
	fs.Parse(args)
	if *bidiMode != "pingpong" && *bidiMode != "pipeline" {
		fatalf("bench-client: unknown --bidi-mode %q", *bidiMode)
	}
	pipeline := *bidiMode == "pipeline"
	if *socket == "" {
		fatalf("bench-client: --socket is required")
	}
	switch *workload {
	case "unary", "server_stream", "client_stream", "bidi":
	default:
		fatalf("bench-client: unknown --workload %q", *workload)
	}
	conn, err := net.Dial("unix", *socket)
	if err != nil {
		fatalf("bench-client: dial: %v", err)
	}
	client := ttrpc.NewClient(conn)
	defer client.Close()
	bc := benchpb.NewBenchClient(client)

	if *warmupMs > 0 {
		runBench(bc, *workload, *size, *concurrency, *perStream, pipeline, time.Duration(*warmupMs)*time.Millisecond)
	}
	r := runBench(bc, *workload, *size, *concurrency, *perStream, pipeline, time.Duration(*durationMs)*time.Millisecond)
	lat := r.latencies
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		i := int(p * float64(len(lat)-1))
		return float64(lat[i].Nanoseconds()) / 1e3
	}
	out := map[string]interface{}{
		"client":      "go-ttrpc-1.2.4",
		"workload":    *workload,
		"bidiMode":    *bidiMode,
		"size":        *size,
		"concurrency": *concurrency,
		"ops":         r.ops,
		"seconds":     r.elapsed.Seconds(),
		"opsPerSec":   float64(r.ops) / r.elapsed.Seconds(),
		"p50us":       pct(0.50),
		"p99us":       pct(0.99),
		"errors":      r.errors,
	}
	if r.firstErr != nil {
		out["firstError"] = r.firstErr.Error()
	}
	emit(out)
}

type benchResult struct {
	ops       int
	errors    int
	firstErr  error
	elapsed   time.Duration
	latencies []time.Duration
}

func runBench(bc benchpb.BenchClient, workload string, size, concurrency, perStream int, pipeline bool, d time.Duration) benchResult {
	payload := make([]byte, size)
	start := time.Now()
	deadline := start.Add(d)
	ctx := context.Background()
	var (
		mu  sync.Mutex
		res benchResult
		wg  sync.WaitGroup
	)
	for g := 0; g < concurrency; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1024)
			ops, errs := 0, 0
			var firstErr error
			fail := func(err error) {
				errs++
				if firstErr == nil {
					firstErr = err
				}
			}
			switch workload {
			case "unary":
				for time.Now().Before(deadline) {
					t0 := time.Now()
					if _, err := bc.Unary(ctx, &benchpb.BenchMessage{Payload: payload}); err != nil {
						fail(err)
						continue
					}
					lat = append(lat, time.Since(t0))
					ops++
				}
			case "server_stream":
				for time.Now().Before(deadline) {
					t0 := time.Now()
					s, err := bc.ServerStream(ctx, &benchpb.StreamRequest{Count: uint32(perStream), Size: uint32(size)})
					if err != nil {
						fail(err)
						continue
					}
					for {
						if _, err := s.Recv(); err != nil {
							if err != io.EOF {
								fail(err)
							}
							break
						}
						now := time.Now()
						lat = append(lat, now.Sub(t0))
						t0 = now
						ops++
					}
				}
			case "client_stream":
				for time.Now().Before(deadline) {
					s, err := bc.ClientStream(ctx)
					if err != nil {
						fail(err)
						continue
					}
					for i := 0; i < perStream && err == nil; i++ {
						t0 := time.Now()
						if err = s.Send(&benchpb.BenchMessage{Payload: payload}); err == nil {
							if i == perStream-1 {
								_, err = s.CloseAndRecv()
							}
							lat = append(lat, time.Since(t0))
							ops++
						}
					}
					if err != nil {
						fail(err)
					}
				}
			case "bidi":
				if pipeline {
					for time.Now().Before(deadline) {
						s, err := bc.Bidi(ctx)
						if err != nil {
							fail(err)
							continue
						}
						sendErr := make(chan error, 1)
						go func() {
							var err error
							for i := 0; i < perStream && err == nil; i++ {
								err = s.Send(&benchpb.BenchMessage{Payload: payload})
							}
							if err == nil {
								err = s.CloseSend()
							}
							sendErr <- err
						}()
						t0 := time.Now()
						for {
							if _, err := s.Recv(); err != nil {
								if err != io.EOF {
									fail(err)
								}
								break
							}
							now := time.Now()
							lat = append(lat, now.Sub(t0))
							t0 = now
							ops++
						}
						if err := <-sendErr; err != nil {
							fail(err)
						}
					}
					break
				}
				s, err := bc.Bidi(ctx)
				if err != nil {
					fail(err)
					break
				}
				for time.Now().Before(deadline) {
					t0 := time.Now()
					if err = s.Send(&benchpb.BenchMessage{Payload: payload}); err == nil {
						_, err = s.Recv()
					}
					if err != nil {
						fail(err)
						break
					}
					lat = append(lat, time.Since(t0))
					ops++
				}
				if err == nil {
					if err = s.CloseSend(); err == nil {
						if _, rerr := s.Recv(); rerr != io.EOF {
							fail(rerr)
						}
					}
				}
			}
			mu.Lock()
			res.ops += ops
			res.errors += errs
			if res.firstErr == nil {
				res.firstErr = firstErr
			}
			res.latencies = append(res.latencies, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}
