// Package usage meters what each signed-in identity stores in the content
// bucket, exactly, from S3 event notifications, into DynamoDB (the usage
// table), and answers the vendor's and the CLI's questions about it.
//
// S3 delivers event notifications at least once and in no guaranteed
// order. What makes the totals exact anyway (S3 User Guide, "Event message
// structure",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html):
// "The sequencer key provides a way to determine the sequence of events.
// Event notifications aren't guaranteed to arrive in the same order that
// the events occurred. However, notifications from events that create
// objects (PUTs) and delete objects contain a sequencer. It can be used to
// determine the order of events for a given object key. [...] If you're
// using event notifications to maintain a separate database or index of
// your Amazon S3 objects, we recommend that you compare and store the
// sequencer values as you process each event notification. [...] You can't
// use the sequencer to determine order for events on different object
// keys. The sequencers can be of different lengths. So, to compare these
// values, first left pad the shorter value with zeros, and then do a
// lexicographical comparison." The same page: "The object key name value
// is URL encoded."
//
// So the table keeps, per object key, the state of the newest event seen
// (its sequencer, whether the object exists, its size), deletions included
// (a tombstone), and per identity the totals. An event changes both in
// one DynamoDB transaction, conditioned on the object item still holding
// the sequencer that was read (optimistic concurrency): a duplicate or an
// older event changes nothing, an overwrite replaces the old size, a
// delete subtracts what was there, whatever order they arrive in.
package usage

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/s3vend/s3vend/contract"
)

// Notification is an S3 event notification message (the SQS message body).
// A configuration test message ("Event": "s3:TestEvent") has no Records.
type Notification struct {
	Records []Record `json:"Records"`
	Event   string   `json:"Event,omitempty"`
}

// Record is one S3 event record, as far as metering reads it.
type Record struct {
	EventSource string `json:"eventSource"`
	EventName   string `json:"eventName"`
	S3          struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key       string `json:"key"`
			Size      int64  `json:"size"`
			VersionID string `json:"versionId,omitempty"`
			Sequencer string `json:"sequencer"`
		} `json:"object"`
	} `json:"s3"`
}

// Change is one event reduced to what metering needs: after the event
// with this sequencer, the object key exists with Size bytes (Present) or
// does not.
type Change struct {
	// IdentityID is the identity whose quota the key counts against. A key
	// of a rule keyed by {userId} names a user instead (UserID, the
	// segment's UserTagValue); the metering function resolves it to the
	// user's identity (Store.IdentitiesOf) before Apply.
	IdentityID string
	UserID     string
	Key        string // the object key, decoded
	Sequencer  string
	Present    bool
	Size       int64
	VersionID  string
	// VersionDelete is a permanent deletion of one version (a versioned
	// bucket's DeleteObject with a versionId, which only the bucket owner
	// can do: users are not granted s3:DeleteObjectVersion). It ends the
	// object only if VersionID is the current version on record.
	VersionDelete bool
}

// ParseNotification decodes an SQS message body from S3.
func ParseNotification(body []byte) (Notification, error) {
	var n Notification
	if err := json.Unmarshal(body, &n); err != nil {
		return Notification{}, fmt.Errorf("usage: not an S3 event notification: %w", err)
	}
	return n, nil
}

// ChangeOf reduces a record to a Change, under the metered rules
// (contract.Rules.MeteredRules; nil: the default layout's, private/<id>/
// and protected/<id>/). ok is false for a record that no quota counts: a key
// under no metered rule, or an event other than ObjectCreated:* and
// ObjectRemoved:*. An error is a malformed record (no sequencer, an
// undecodable key).
func ChangeOf(r Record, rules []contract.UploadRule) (c Change, ok bool, err error) {
	if r.EventSource != "" && r.EventSource != "aws:s3" {
		return Change{}, false, nil
	}
	key, err := url.QueryUnescape(r.S3.Object.Key)
	if err != nil {
		return Change{}, false, fmt.Errorf("usage: object key is not URL encoded: %w", err)
	}
	if rules == nil {
		rules = contract.DefaultRules().MeteredRules()
	}
	id, user, counted := contract.OwnerOf(rules, key)
	if !counted {
		return Change{}, false, nil
	}
	if user != "" {
		if _, _, err := contract.ParseUserTagValue(user); err != nil {
			// No user's: IAM lets a user write only at its own tag value,
			// so the bucket owner wrote this key, and no quota counts it.
			return Change{}, false, nil
		}
	}
	c = Change{IdentityID: id, UserID: user, Key: key, Sequencer: r.S3.Object.Sequencer, VersionID: r.S3.Object.VersionID}
	switch {
	case strings.HasPrefix(r.EventName, "ObjectCreated:"):
		c.Present, c.Size = true, r.S3.Object.Size
		if c.Size < 0 {
			return Change{}, false, fmt.Errorf("usage: negative object size")
		}
	case r.EventName == "ObjectRemoved:DeleteMarkerCreated":
		// Versioned bucket, simple DELETE: the current version becomes
		// noncurrent; noncurrent versions are not counted.
	case r.EventName == "ObjectRemoved:Delete":
		c.VersionDelete = c.VersionID != ""
	default:
		return Change{}, false, nil
	}
	if !validSequencer(c.Sequencer) {
		return Change{}, false, fmt.Errorf("usage: event %s without a hexadecimal sequencer", r.EventName)
	}
	return c, true, nil
}

func validSequencer(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

// CompareSequencers orders two sequencers of the same key as S3 documents:
// left-pad the shorter with zeros, then compare lexicographically (case
// folded: they are hexadecimal). It returns -1, 0 or +1.
func CompareSequencers(a, b string) int {
	a, b = strings.ToUpper(a), strings.ToUpper(b)
	if n := len(b) - len(a); n > 0 {
		a = strings.Repeat("0", n) + a
	} else if n < 0 {
		b = strings.Repeat("0", -n) + b
	}
	return strings.Compare(a, b)
}
