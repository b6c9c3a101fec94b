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
	links  map[string]string // user tag value -> identity
	asked  [][]string
}

func (f *fakeApplier) IdentitiesOf(_ context.Context, users []string) (map[string]string, error) {
	f.asked = append(f.asked, users)
	out := map[string]string{}
	for _, u := range users {
		if id, ok := f.links[u]; ok {
			out[u] = id
		}
	}
	return out, nil
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

// avatarNote is a notification of a key of avatars/{userId}/*.
func avatarNote(user string) string {
	return `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},
"object":{"key":"avatars/` + user + `/me.jpg","size":7,"sequencer":"0C"}}}]}`
}

// In a custom layout the keys of a {userId} rule count against the user's
// identity (the vendor's login link); a message of a user not linked yet
// comes back alone, the others are applied; a key whose segment is no tag
// value (the bucket owner's) and a key of a rule the owner may not write
// (inbox) count against nobody.
func TestHandleMetersUserKeyedRules(t *testing.T) {
	rules := contract.Rules{
		{Name: "avatars", Path: "avatars/{userId}/*", Owner: []contract.Action{contract.ActionPut, contract.ActionGet}},
		{Name: "inbox", Path: "inbox/{identityId}/*", Owner: []contract.Action{contract.ActionGet}},
	}
	f := &fakeApplier{links: map[string]string{"backend:alice": "eu-west-1:aaaaaaaa-0000-4000-8000-000000000001"}}
	h := &metering.Handler{Usage: f, Rules: rules.MeteredRules(), Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	resp, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "1", Body: avatarNote("backend:alice")},
		{MessageId: "2", Body: avatarNote("backend:bob")},
		{MessageId: "3", Body: avatarNote("not a tag value")},
		{MessageId: "4", Body: strings.Replace(avatarNote("x"), "avatars/x", "inbox/eu-west-1:aaaaaaaa-0000-4000-8000-000000000001", 1)},
		{MessageId: "5", Body: notification}, // private/: not a rule of this layout
	}})
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "2" {
		t.Fatalf("failures %+v %v, want only bob's message", resp.BatchItemFailures, err)
	}
	if len(f.got) != 1 || f.got[0].IdentityID != "eu-west-1:aaaaaaaa-0000-4000-8000-000000000001" || f.got[0].Key != "avatars/backend:alice/me.jpg" || f.got[0].Size != 7 {
		t.Fatalf("changes: %+v", f.got)
	}
	if len(f.asked) != 1 || strings.Join(f.asked[0], ",") != "backend:alice,backend:bob" {
		t.Errorf("IdentitiesOf asked %v, want one call for alice and bob", f.asked)
	}
}
