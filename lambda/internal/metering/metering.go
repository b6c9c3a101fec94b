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
// need: it reads only the metered rules' keys (private/<id>/ and
// protected/<id>/ by default), which the bucket notifications' prefix
// filters select.
package metering

import (
	"context"
	"log/slog"
	"slices"

	"github.com/aws/aws-lambda-go/events"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/internal/usage"
	"github.com/s3vend/s3vend/lambda/internal/metrics"
)

// Applier is the usage table (usage.Store).
type Applier interface {
	Apply(ctx context.Context, changes []usage.Change) (usage.Result, error)
	IdentitiesOf(ctx context.Context, userTagValues []string) (map[string]string, error)
}

// Handler applies SQS batches of S3 notifications.
type Handler struct {
	Usage Applier
	// Rules are the metered rules (contract.ParseMeteredRulesEnv); nil:
	// the default layout's.
	Rules   []contract.UploadRule
	Logger  *slog.Logger
	Metrics *metrics.Recorder // EMF records (os.Stdout in Lambda); nil: none
}

// pending is one message's changes.
type pending struct {
	id      string
	changes []usage.Change
}

// Handle applies every record of the batch at once. Changes are
// idempotent and order-independent, so when the table write fails the
// whole batch is reported failed and SQS delivers it again; a message
// that is not an S3 notification is logged and dropped (it would fail
// forever). The response lists failed message ids (ReportBatchItemFailures).
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	rules := h.Rules
	if rules == nil {
		rules = contract.DefaultRules().MeteredRules()
	}
	var msgs []pending
	for _, m := range ev.Records {
		p := pending{id: m.MessageId}
		n, err := usage.ParseNotification([]byte(m.Body))
		if err != nil {
			h.Logger.Warn("dropped a message that is not an S3 notification", "message_id", m.MessageId)
			continue
		}
		for _, r := range n.Records {
			c, ok, err := usage.ChangeOf(r, rules)
			if err != nil {
				h.Logger.Warn("dropped a malformed S3 event record", "message_id", m.MessageId, "error", err.Error())
				continue
			}
			if ok {
				p.changes = append(p.changes, c)
			}
		}
		msgs = append(msgs, p)
	}
	failed := func(ids []string) (resp events.SQSEventResponse) {
		for _, id := range ids {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
		}
		return resp
	}
	all := make([]string, len(msgs))
	for i, m := range msgs {
		all[i] = m.id
	}
	changes, unresolved, err := h.resolveUsers(ctx, msgs)
	if err != nil {
		h.Logger.Error("user links could not be read; the batch is retried", "error", err.Error())
		return failed(all), nil
	}
	resp := failed(unresolved)
	if len(changes) == 0 {
		return resp, nil
	}
	res, err := h.Usage.Apply(ctx, changes)
	if err != nil {
		h.Logger.Error("usage table write failed; the batch is retried", "error", err.Error(), "changes", len(changes))
		return failed(all), nil
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

// resolveUsers gives every change keyed by a user ({userId} rules) its
// user's identity, from the links the vendor records at each vend. A
// message with a user not linked (yet) is left out and returned, to come
// back from SQS: the vendor links a user before it vends the credentials
// that wrote the key, so a missing link is a failed best-effort write that
// the user's next vend repeats; after the queue's maxReceiveCount the
// message goes to the dead-letter queue, which an alarm watches.
func (h *Handler) resolveUsers(ctx context.Context, msgs []pending) (changes []usage.Change, unresolved []string, err error) {
	var users []string
	for _, m := range msgs {
		for _, c := range m.changes {
			if c.IdentityID == "" && !slices.Contains(users, c.UserID) {
				users = append(users, c.UserID)
			}
		}
	}
	ids := map[string]string{}
	if len(users) > 0 {
		if ids, err = h.Usage.IdentitiesOf(ctx, users); err != nil {
			return nil, nil, err
		}
	}
	for _, m := range msgs {
		resolved := make([]usage.Change, 0, len(m.changes))
		for _, c := range m.changes {
			if c.IdentityID == "" {
				c.IdentityID = ids[c.UserID]
			}
			resolved = append(resolved, c)
		}
		if slices.ContainsFunc(resolved, func(c usage.Change) bool { return c.IdentityID == "" }) {
			h.Logger.Warn("a user of the batch has no identity link yet; its message is retried", "message_id", m.id)
			unresolved = append(unresolved, m.id)
			continue
		}
		changes = append(changes, resolved...)
	}
	return changes, unresolved, nil
}
