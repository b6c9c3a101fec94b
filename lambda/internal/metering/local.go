package metering

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// EnvQueueURL names the queue the function polls in local mode (outside
// Lambda, where an event source mapping does the polling).
const EnvQueueURL = "S3VEND_METERING_QUEUE_URL"

// Poll is the local stand-in of the Lambda event source mapping: it
// receives up to 10 messages at a time from queueURL (long polling), hands
// them to Handle as one SQS event, and deletes the messages the handler
// did not report failed; failed ones come back after the visibility
// timeout, as with ReportBatchItemFailures. It returns when ctx ends.
func (h *Handler) Poll(ctx context.Context, client *sqs.Client, queueURL string) error {
	for ctx.Err() == nil {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			h.Logger.Warn("ReceiveMessage failed", "error", err.Error())
			time.Sleep(200 * time.Millisecond)
			continue
		}
		if len(out.Messages) == 0 {
			continue
		}
		ev := events.SQSEvent{}
		receipts := map[string]string{}
		for _, m := range out.Messages {
			id := aws.ToString(m.MessageId)
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: id, Body: aws.ToString(m.Body), EventSource: "aws:sqs"})
			receipts[id] = aws.ToString(m.ReceiptHandle)
		}
		resp, _ := h.Handle(ctx, ev)
		for _, f := range resp.BatchItemFailures {
			delete(receipts, f.ItemIdentifier)
		}
		var entries []sqstypes.DeleteMessageBatchRequestEntry
		for id, rh := range receipts {
			entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(id), ReceiptHandle: aws.String(rh)})
		}
		if len(entries) > 0 {
			if _, err := client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries}); err != nil && ctx.Err() == nil {
				h.Logger.Warn("DeleteMessageBatch failed; the messages come back and are applied again (idempotent)", "error", err.Error())
			}
		}
	}
	return nil
}
