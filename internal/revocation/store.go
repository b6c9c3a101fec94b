// Package revocation is the record of revoked users (the revocation
// table, DynamoDB) and the token vendor's per-instance view of it.
//
// The table is the source of truth. `s3vend admin revoke` writes a
// subject's state item, an audit event and bumps the table's generation in
// one transaction; the vendor's View re-reads the generation at most every
// refresh interval and the whole list of revoked subjects only when the
// generation moved, so a healthy deployment pays one small read per
// instance per interval. The IAM deny on already-issued credentials
// (cmd/s3vend, docs/abuse-control.md) is derived from the same records.
package revocation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/s3vend/s3vend/contract"
)

// Item layout (partition key pk, sort key sk):
//
//	pk "user#<provider>:<id>" | "identity#<identityId>"  sk "state"
//	    status S (revoked|restored), identityIds SS, reason S, by S, at S,
//	    denyUntil S, restoredBy S, restoredAt S
//	pk <the same>  sk "event#<RFC 3339 time>#<action>"   (the audit trail)
//	    action S, by S, reason S, identityIds SS
//	pk "meta"      sk "generation"                        gen N
const (
	skState      = "state"
	eventPrefix  = "event#"
	pkMeta       = "meta"
	skGeneration = "generation"

	StatusRevoked  = "revoked"
	StatusRestored = "restored"
)

// Subject prefixes: a revocation names a login (the vendor's namespaced
// user id, provider:sub) or an identity id.
const (
	UserPrefix     = "user#"
	IdentityPrefix = "identity#"
)

// Record is one subject's revocation state.
type Record struct {
	Subject     string   // UserPrefix+user or IdentityPrefix+identity id
	IdentityIDs []string // the Cognito identities it had (denied on S3 until DenyUntil)
	Status      string
	Reason      string
	By          string // the operator's ARN (sts:GetCallerIdentity)
	At          time.Time
	// DenyUntil is when the IAM deny of IdentityIDs may be pruned: the
	// revocation time plus the longest a token and the credentials bought
	// with it can live.
	DenyUntil  time.Time
	RestoredBy string
	RestoredAt time.Time
}

// User is the login of a user subject ("" for an identity subject).
func (r Record) User() string {
	if u, ok := strings.CutPrefix(r.Subject, UserPrefix); ok {
		return u
	}
	return ""
}

// Store is the revocation table.
type Store struct {
	DB    *dynamodb.Client
	Table string
	Now   func() time.Time
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ErrNotRevoked is Unrevoke's answer for a subject that is not revoked.
var ErrNotRevoked = errors.New("revocation: the subject is not revoked")

// Revoke records r (status revoked) with its audit event and moves the
// generation, in one transaction.
func (s *Store) Revoke(ctx context.Context, r Record) error {
	r.Status = StatusRevoked
	if r.At.IsZero() {
		r.At = s.now()
	}
	return s.write(ctx, r, "revoke", r.Reason)
}

// Unrevoke marks subject restored (it must be revoked) and returns the
// record as it was, so the caller can undo the IAM deny and re-link its
// identities.
func (s *Store) Unrevoke(ctx context.Context, subject, by, reason string) (Record, error) {
	r, ok, err := s.Get(ctx, subject)
	if err != nil {
		return Record{}, err
	}
	if !ok || r.Status != StatusRevoked {
		return Record{}, ErrNotRevoked
	}
	restored := r
	restored.Status, restored.RestoredBy, restored.RestoredAt = StatusRestored, by, s.now()
	if err := s.write(ctx, restored, "unrevoke", reason); err != nil {
		return Record{}, err
	}
	return r, nil
}

func (s *Store) write(ctx context.Context, r Record, action, reason string) error {
	state := map[string]types.AttributeValue{
		contract.AttrPK: str(r.Subject), contract.AttrSK: str(skState),
		"status": str(r.Status), "by": str(r.By), "at": str(ts(r.At)),
		"denyUntil": str(ts(r.DenyUntil)),
	}
	if r.Reason != "" {
		state["reason"] = str(r.Reason)
	}
	if len(r.IdentityIDs) > 0 {
		state["identityIds"] = &types.AttributeValueMemberSS{Value: r.IdentityIDs}
	}
	if r.RestoredBy != "" {
		state["restoredBy"], state["restoredAt"] = str(r.RestoredBy), str(ts(r.RestoredAt))
	}
	// The event is the revocation's, or for an unrevoke the restoration's.
	by, when := r.By, r.At
	if action == "unrevoke" {
		by, when = r.RestoredBy, r.RestoredAt
	}
	event := map[string]types.AttributeValue{
		contract.AttrPK: str(r.Subject), contract.AttrSK: str(eventPrefix + when.UTC().Format(time.RFC3339Nano) + "#" + action),
		"action": str(action), "by": str(by),
	}
	if reason != "" {
		event["reason"] = str(reason)
	}
	if len(r.IdentityIDs) > 0 {
		event["identityIds"] = &types.AttributeValueMemberSS{Value: r.IdentityIDs}
	}
	_, err := s.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.Table), Item: state}},
		{Put: &types.Put{TableName: aws.String(s.Table), Item: event}},
		{Update: &types.Update{
			TableName:                 aws.String(s.Table),
			Key:                       map[string]types.AttributeValue{contract.AttrPK: str(pkMeta), contract.AttrSK: str(skGeneration)},
			UpdateExpression:          aws.String("ADD gen :one"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
		}},
	}})
	if err != nil {
		return fmt.Errorf("revocation: TransactWriteItems: %w", err)
	}
	return nil
}

// Get reads one subject's state.
func (s *Store) Get(ctx context.Context, subject string) (Record, bool, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table),
		Key:            map[string]types.AttributeValue{contract.AttrPK: str(subject), contract.AttrSK: str(skState)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Record{}, false, fmt.Errorf("revocation: GetItem: %w", err)
	}
	if out.Item == nil {
		return Record{}, false, nil
	}
	return recordOf(out.Item), true, nil
}

// Generation is the table's change counter (0 before the first revocation).
func (s *Store) Generation(ctx context.Context) (int64, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table),
		Key:            map[string]types.AttributeValue{contract.AttrPK: str(pkMeta), contract.AttrSK: str(skGeneration)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return 0, fmt.Errorf("revocation: GetItem: %w", err)
	}
	n, _ := out.Item["gen"].(*types.AttributeValueMemberN)
	if n == nil {
		return 0, nil
	}
	return strconv.ParseInt(n.Value, 10, 64)
}

// List returns every subject's state (only revoked ones unless all),
// sorted by subject.
func (s *Store) List(ctx context.Context, all bool) ([]Record, error) {
	in := &dynamodb.ScanInput{
		TableName:                aws.String(s.Table),
		ConsistentRead:           aws.Bool(true),
		FilterExpression:         aws.String("#sk = :state"),
		ExpressionAttributeNames: map[string]string{"#sk": contract.AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":state": str(skState),
		},
	}
	if !all {
		in.FilterExpression = aws.String("#sk = :state AND #st = :revoked")
		in.ExpressionAttributeNames["#st"] = "status"
		in.ExpressionAttributeValues[":revoked"] = str(StatusRevoked)
	}
	var out []Record
	p := dynamodb.NewScanPaginator(s.DB, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("revocation: Scan: %w", err)
		}
		for _, it := range page.Items {
			out = append(out, recordOf(it))
		}
	}
	slices.SortFunc(out, func(a, b Record) int { return strings.Compare(a.Subject, b.Subject) })
	return out, nil
}

// Events returns a subject's audit trail, oldest first.
func (s *Store) Events(ctx context.Context, subject string) ([]map[string]string, error) {
	out, err := s.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:                aws.String(s.Table),
		KeyConditionExpression:   aws.String("#pk = :s AND begins_with(#sk, :e)"),
		ExpressionAttributeNames: map[string]string{"#pk": contract.AttrPK, "#sk": contract.AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":s": str(subject), ":e": str(eventPrefix),
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("revocation: Query: %w", err)
	}
	var events []map[string]string
	for _, it := range out.Items {
		e := map[string]string{}
		for k, v := range it {
			if sv, ok := v.(*types.AttributeValueMemberS); ok {
				e[k] = sv.Value
			}
		}
		events = append(events, e)
	}
	return events, nil
}

func recordOf(it map[string]types.AttributeValue) Record {
	r := Record{
		Subject: getS(it, contract.AttrPK), Status: getS(it, "status"), Reason: getS(it, "reason"),
		By: getS(it, "by"), At: parseTS(getS(it, "at")), DenyUntil: parseTS(getS(it, "denyUntil")),
		RestoredBy: getS(it, "restoredBy"), RestoredAt: parseTS(getS(it, "restoredAt")),
	}
	if ss, ok := it["identityIds"].(*types.AttributeValueMemberSS); ok {
		r.IdentityIDs = slices.Sorted(slices.Values(ss.Value))
	}
	return r
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func getS(it map[string]types.AttributeValue, k string) string {
	if v, ok := it[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func parseTS(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}
