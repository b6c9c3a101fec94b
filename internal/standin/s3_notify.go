package standin

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// S3 event notifications, as the template configures them (CDK writes the
// bucket's NotificationConfiguration into a Custom::S3BucketNotifications
// resource, which its handler applies at deploy): each QueueConfiguration
// names event patterns (s3:ObjectCreated:*, s3:ObjectRemoved:*), key
// prefix and suffix filters and a queue. The stand-in sends the event
// message S3 would send ("Event message structure", version 2.1 fields,
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html):
// the key URL-encoded, size, eTag, versionId (none: the stand-in's bucket
// is unversioned) and a sequencer that grows with every change of the
// bucket, so later changes of a key have greater sequencers. Lengths vary
// (hexadecimal without padding), as S3's may.

// QueueNotification is one QueueConfiguration of the template.
type QueueNotification struct {
	Events         []string // e.g. s3:ObjectCreated:*
	Prefix, Suffix string
	Queue          string // the queue's logical id
}

// S3NotificationsFromTemplate reads the bucket's queue notifications.
func S3NotificationsFromTemplate(tpl map[string]any, bucketLogicalID string) []QueueNotification {
	var out []QueueNotification
	for _, props := range templateResources(tpl, "Custom::S3BucketNotifications") {
		if refTarget(props["BucketName"]) != bucketLogicalID {
			continue
		}
		cfg, _ := props["NotificationConfiguration"].(map[string]any)
		qcs, _ := cfg["QueueConfigurations"].([]any)
		for _, qc := range qcs {
			q, _ := qc.(map[string]any)
			n := QueueNotification{Queue: refTarget(q["QueueArn"])}
			evs, _ := q["Events"].([]any)
			for _, e := range evs {
				if s, ok := e.(string); ok {
					n.Events = append(n.Events, s)
				}
			}
			filter, _ := q["Filter"].(map[string]any)
			key, _ := filter["Key"].(map[string]any)
			rules, _ := key["FilterRules"].([]any)
			for _, fr := range rules {
				f, _ := fr.(map[string]any)
				v, _ := f["Value"].(string)
				switch strings.ToLower(fmt.Sprint(f["Name"])) {
				case "prefix":
					n.Prefix = v
				case "suffix":
					n.Suffix = v
				}
			}
			out = append(out, n)
		}
	}
	return out
}

func (n QueueNotification) matches(eventName, key string) bool {
	if !strings.HasPrefix(key, n.Prefix) || !strings.HasSuffix(key, n.Suffix) {
		return false
	}
	for _, e := range n.Events {
		if ok, _ := path.Match(e, "s3:"+eventName); ok {
			return true
		}
	}
	return false
}

// s3Change is one change of the bucket, for notifications.
type s3Change struct {
	eventName string // ObjectCreated:Put, ObjectRemoved:Delete, ...
	key       string
	size      int64
	etag      string
	sequencer string
}

// notify sends c to every matching queue configuration. The message is
// sent synchronously; the queue, not the sending order, makes delivery
// at-least-once and unordered (SQS.Duplicate, SQS.Reorder).
func (s *S3) notify(c s3Change) {
	if s.sendEvent == nil {
		return
	}
	for _, n := range s.notifications {
		if !n.matches(c.eventName, c.key) {
			continue
		}
		rec := map[string]any{
			"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": s.model.Region(),
			"eventTime": s.now().UTC().Format("2006-01-02T15:04:05.000Z"), "eventName": c.eventName,
			"s3": map[string]any{
				"s3SchemaVersion": "1.0",
				"bucket":          map[string]any{"name": s.model.BucketName(), "arn": s.model.BucketARN()},
				"object": map[string]any{
					"key": url.QueryEscape(c.key), "size": c.size, "eTag": strings.Trim(c.etag, `"`), "sequencer": c.sequencer,
				},
			},
		}
		body, _ := json.Marshal(map[string]any{"Records": []any{rec}})
		_ = s.sendEvent(n.Queue, body)
	}
}

// nextSequencerLocked returns the bucket's next sequencer; s.mu is held.
func (s *S3) nextSequencerLocked() string {
	s.seq++
	return fmt.Sprintf("%X", 0xF0+s.seq)
}
