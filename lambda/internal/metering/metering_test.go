package metering_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/internal/usage"
	"github.com/s3vend/s3vend/lambda/internal/metering"
	"github.com/s3vend/s3vend/lambda/internal/metrics"
)

type fakeApplier struct {
	got    []usage.Change
	err    error
	deltas map[string]usage.Totals
}

func (f *fakeApplier) Apply(_ context.Context, cs []usage.Change) (usage.Result, error) {
	f.got = append(f.got, cs...)
	return usage.Result{Applied: len(cs), Deltas: f.deltas}, f.err
}

const notification = `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},
"object":{"key":"private/eu-west-1%3Aaaaaaaaa-0000-4000-8000-000000000001/a+b.txt","size":5,"sequencer":"0A"}}},
{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"public/x","size":5,"sequencer":"0B"}}}]}`

func TestHandleAppliesCountedKeysAndDropsJunk(t *testing.T) {
	f := &fakeApplier{}
	var emf bytes.Buffer
	h := &metering.Handler{Usage: f, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Metrics: metrics.New(&emf, metrics.Options{Stack: "S3Vend-dev"})}
	resp, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "1", Body: notification},
		{MessageId: "2", Body: "not json"},
		{MessageId: "3", Body: `{"Service":"Amazon S3","Event":"s3:TestEvent"}`},
	}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%+v %v", resp, err)
	}
	if len(f.got) != 1 || f.got[0].Key != "private/eu-west-1:aaaaaaaa-0000-4000-8000-000000000001/a b.txt" || f.got[0].Size != 5 {
		t.Fatalf("changes: %+v", f.got)
	}
	if !strings.Contains(emf.String(), `"MeteredEvents":1`) {
		t.Errorf("EMF: %s", emf.String())
	}
}

func TestHandleReportsTheBatchWhenTheTableFails(t *testing.T) {
	f := &fakeApplier{err: errors.New("throttled")}
	h := &metering.Handler{Usage: f, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	resp, _ := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "1", Body: notification}, {MessageId: "2", Body: notification}}})
	if len(resp.BatchItemFailures) != 2 {
		t.Fatalf("every message of a failed batch is retried: %+v", resp)
	}
}

// TestUsageLogLineIsWhatTheDashboardRanks: one JSON line per identity whose
// totals moved, with the message and fields the dashboard's "Top
// identities" query (infra.Monitoring) filters and sums.
func TestUsageLogLineIsWhatTheDashboardRanks(t *testing.T) {
	id := "eu-west-1:aaaaaaaa-0000-4000-8000-000000000001"
	f := &fakeApplier{deltas: map[string]usage.Totals{id: {Bytes: 5, Objects: 1}}}
	var logs bytes.Buffer
	h := &metering.Handler{Usage: f, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	if _, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "1", Body: notification}}}); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("one JSON line: %v\n%s", err, logs.String())
	}
	if line["msg"] != contract.MeteringUsageLog || line[contract.LogFieldIdentityID] != id ||
		line[contract.LogFieldDeltaBytes] != 5.0 || line[contract.LogFieldDeltaObjects] != 1.0 {
		t.Errorf("usage line %v", line)
	}
}
