package main

import (
	"context"
	"encoding/hex"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// jsonExporter prints each finished span as one JSON line: the fields the tests compare.
type jsonExporter struct{}

func (jsonExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	for _, s := range spans {
		parent := ""
		if s.Parent().IsValid() {
			sid := s.Parent().SpanID()
			parent = hex.EncodeToString(sid[:])
		}
		events := []interface{}{}
		for _, e := range s.Events() {
			events = append(events, map[string]interface{}{"name": e.Name, "attributes": attrs(e.Attributes)})
		}
		tid := s.SpanContext().TraceID()
		sid := s.SpanContext().SpanID()
		emit(map[string]interface{}{"span": map[string]interface{}{
			"name":         s.Name(),
			"kind":         s.SpanKind().String(),
			"traceId":      hex.EncodeToString(tid[:]),
			"spanId":       hex.EncodeToString(sid[:]),
			"parentSpanId": parent,
			"parentRemote": s.Parent().IsRemote(),
			"status":       map[string]interface{}{"code": s.Status().Code.String(), "description": s.Status().Description},
			"attributes":   attrs(s.Attributes()),
			"events":       events,
			"scope":        s.InstrumentationScope().Name,
		}})
	}
	return nil
}

func (jsonExporter) Shutdown(context.Context) error { return nil }

// attrs turns attributes into a JSON object; ints stay numbers, as the tests compare types too.
func attrs(kvs []attribute.KeyValue) map[string]interface{} {
	out := map[string]interface{}{}
	for _, kv := range kvs {
		out[string(kv.Key)] = kv.Value.AsInterface()
	}
	return out
}

// setupTelemetry installs the global providers and containerd's propagator; spans are exported
// as they end, and the reader collects the metrics on demand.
func setupTelemetry() (*sdktrace.TracerProvider, *sdkmetric.ManualReader) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(jsonExporter{}))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	otel.SetTracerProvider(tp)
	otel.SetMeterProvider(mp)
	// What containerd's tracing plugin sets (pkg/tracing/plugin/otlp.go).
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return tp, reader
}

// emitMetrics prints every histogram data point the reader holds.
func emitMetrics(reader *sdkmetric.ManualReader) {
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		fatalf("collect metrics: %v", err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			h, ok := m.Data.(metricdata.Histogram[int64])
			if !ok {
				continue
			}
			for _, dp := range h.DataPoints {
				emit(map[string]interface{}{"metric": map[string]interface{}{
					"name": m.Name, "unit": m.Unit, "scope": sm.Scope.Name,
					"count": dp.Count, "sum": dp.Sum, "attributes": attrs(dp.Attributes.ToSlice()),
				}})
			}
		}
	}
}
