package metering_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/s3vend/s3vend/internal/usage"
	"github.com/s3vend/s3vend/lambda/internal/metering"
)

type fakeApplier struct {
	got []usage.Change
	err error
}

func (f *fakeApplier) Apply(_ context.Context, cs []usage.Change) (usage.Result, error) {
	f.got = append(f.got, cs...)
	return usage.Result{Applied: len(cs)}, f.err
}

const notification = `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},
"object":{"key":"private/eu-west-1%3Aaaaaaaaa-0000-4000-8000-000000000001/a+b.txt","size":5,"sequencer":"0A"}}},
{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"public/x","size":5,"sequencer":"0B"}}}]}`

func TestHandleAppliesCountedKeysAndDropsJunk(t *testing.T) {
	f := &fakeApplier{}
	var emf bytes.Buffer
	h := &metering.Handler{Usage: f, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Metrics: &emf, Stack: "S3Vend-dev"}
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
