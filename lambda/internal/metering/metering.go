// Package metering is the metering function: it receives S3 event
// notifications from the metering queue (SQS, through a Lambda event
// source mapping) and applies them to the usage table (internal/usage).
//
// Why SQS and not EventBridge: S3 writes to the queue directly (no
// EventBridge bus, rule and per-event charge in between), the event source
// mapping batches up to MeteringBatchSize messages per invocation (fewer
// invocations and, because a batch collapses to one change per key, fewer
// DynamoDB writes), failed messages are retried by SQS and end in a
// dead-letter queue that an alarm watches, and the same path exists in the
// AWS China regions. EventBridge would add filtering the function does not
// need: it reads only private/<id>/ and protected/<id>/ keys, which the
// bucket notification's prefix filters could not express as one rule
// anyway.
package metering

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/internal/usage"
	"github.com/s3vend/s3vend/lambda/internal/metrics"
)

// Applier is the usage table (usage.Store).
type Applier interface {
	Apply(ctx context.Context, changes []usage.Change) (usage.Result, error)
}

// Handler applies SQS batches of S3 notifications.
type Handler struct {
	Usage   Applier
	Logger  *slog.Logger
	Metrics *metrics.Recorder // EMF records (os.Stdout in Lambda); nil: none
}

// Handle applies every record of the batch at once. Changes are
// idempotent and order-independent, so when the table write fails the
// whole batch is reported failed and SQS delivers it again; a message
// that is not an S3 notification is logged and dropped (it would fail
// forever). The response lists failed message ids (ReportBatchItemFailures).
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var changes []usage.Change
	var ids []string
	for _, m := range ev.Records {
		ids = append(ids, m.MessageId)
		n, err := usage.ParseNotification([]byte(m.Body))
		if err != nil {
			h.Logger.Warn("dropped a message that is not an S3 notification", "message_id", m.MessageId)
			continue
		}
		for _, r := range n.Records {
			c, ok, err := usage.ChangeOf(r)
			if err != nil {
				h.Logger.Warn("dropped a malformed S3 event record", "message_id", m.MessageId, "error", err.Error())
				continue
			}
			if ok {
				changes = append(changes, c)
			}
		}
	}
	var resp events.SQSEventResponse
	if len(changes) == 0 {
		return resp, nil
	}
	res, err := h.Usage.Apply(ctx, changes)
	if err != nil {
		h.Logger.Error("usage table write failed; the batch is retried", "error", err.Error(), "changes", len(changes))
		for _, id := range ids {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
		}
		return resp, nil
	}
	// One line per identity whose totals moved: the dashboard's "Top
	// identities" Logs Insights query ranks identities by these deltas.
	for id, d := range res.Deltas {
		h.Logger.Info(contract.MeteringUsageLog, contract.LogFieldIdentityID, id,
			contract.LogFieldDeltaBytes, d.Bytes, contract.LogFieldDeltaObjects, d.Objects)
	}
	h.Metrics.Metering(res.Applied, res.Stale)
	return resp, nil
}
