package usage

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/s3vend/s3vend/contract"
)

// Item layout of the usage table (partition key pk, sort key sk):
//
//	pk "id#<identityId>"  sk "total"          bytes N, objects N, updated S
//	pk "id#<identityId>"  sk "obj#<key>"      seq S, present BOOL, size N, ver S, ttl N (tombstones)
//
// The object item is the state of the newest event seen for that key; a
// deletion leaves a tombstone (present false) that expires after
// TombstoneTTL, long after any delayed or redriven event of the key can
// still arrive (the queue keeps messages 4 days, the dead-letter queue 14).
const (
	skTotal      = "total"
	objPrefix    = "obj#"
	attrBytes    = "bytes"
	attrObjects  = "objects"
	attrUpdated  = "updated"
	attrSeq      = "seq"
	attrPresent  = "present"
	attrSize     = "size"
	attrVersion  = "ver"
	maxTxItems   = 100 // TransactWriteItems: "up to 100 action requests"
	maxBatchGet  = 100 // BatchGetItem: up to 100 items
	maxAttempts  = 8
	TombstoneTTL = 30 * 24 * time.Hour
)

// Store is the usage table.
type Store struct {
	DB    *dynamodb.Client
	Table string
	Now   func() time.Time // default time.Now
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Totals are an identity's current usage.
type Totals struct {
	Bytes   int64
	Objects int64
}

// Over reports whether t is at or over q (no more writes allowed).
func (t Totals) Over(q contract.UserQuota) bool {
	return (q.MaxBytes > 0 && t.Bytes >= q.MaxBytes) || (q.MaxObjects > 0 && t.Objects >= q.MaxObjects)
}

// Result counts what Apply did.
type Result struct {
	Applied int // changes that moved an object's state forward
	Stale   int // duplicates and out-of-order changes (an older or equal sequencer), dropped
	Retries int // transactions retried after a concurrent writer won
	// Deltas are the changes of each identity's totals (for the
	// metering function's log, which the dashboard's top-users rule reads).
	Deltas map[string]Totals
}

func (r *Result) add(o Result) {
	r.Applied += o.Applied
	r.Stale += o.Stale
	r.Retries += o.Retries
	for id, d := range o.Deltas {
		if r.Deltas == nil {
			r.Deltas = map[string]Totals{}
		}
		t := r.Deltas[id]
		t.Bytes += d.Bytes
		t.Objects += d.Objects
		r.Deltas[id] = t
	}
}

func pk(identityID string) string { return "id#" + identityID }

func objSK(key string) string { return objPrefix + key }

// Apply records changes. Within the batch only the newest change of each
// key matters (the state after it is the state after all older ones), so
// the batch collapses to one change per key; each identity's keys then go
// in one transaction (chunks of 99 keys plus the totals) conditioned on
// the object items read. A transaction that lost a race is re-read and
// retried.
func (s *Store) Apply(ctx context.Context, changes []Change) (Result, error) {
	newest, inOrder, stale := collapse(changes)
	res := Result{Stale: stale}
	if err := s.applyGroups(ctx, groupByIdentity(newest), &res); err != nil {
		return res, err
	}
	// Version deletions, one change at a time in sequencer order.
	for _, grp := range inOrder {
		r, err := s.applyIdentity(ctx, grp[0].IdentityID, grp)
		res.add(r)
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// collapse keeps the newest change of each key, counting the older ones
// (duplicates and states superseded within the batch) as stale. The
// changes of a key with a version deletion are kept, each its own group,
// in sequencer order: whether a version deletion ends the object depends
// on the state before it, so nothing before it may be skipped.
func collapse(changes []Change) (newest map[string]Change, inOrder [][]Change, stale int) {
	newest = map[string]Change{}
	perKey := map[string][]Change{}
	for _, c := range changes {
		perKey[c.Key] = append(perKey[c.Key], c)
	}
	for key, cs := range perKey {
		slices.SortStableFunc(cs, func(a, b Change) int { return CompareSequencers(a.Sequencer, b.Sequencer) })
		if slices.ContainsFunc(cs, func(c Change) bool { return c.VersionDelete }) {
			for _, c := range cs {
				inOrder = append(inOrder, []Change{c})
			}
			continue
		}
		newest[key] = cs[len(cs)-1]
		stale += len(cs) - 1
	}
	return newest, inOrder, stale
}

// groupByIdentity groups the changes by identity (sorted by identity,
// then key) in chunks that fit one transaction with the totals update.
func groupByIdentity(newest map[string]Change) [][]Change {
	byIdentity := map[string][]Change{}
	for _, c := range newest {
		byIdentity[c.IdentityID] = append(byIdentity[c.IdentityID], c)
	}
	ids := make([]string, 0, len(byIdentity))
	for id := range byIdentity {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var groups [][]Change
	for _, id := range ids {
		cs := byIdentity[id]
		slices.SortFunc(cs, func(a, b Change) int { return strings.Compare(a.Key, b.Key) })
		for chunk := range slices.Chunk(cs, maxTxItems-1) {
			groups = append(groups, chunk)
		}
	}
	return groups
}

// applyGroups applies the groups concurrently, adding what each did to
// res. Groups touch disjoint items (one identity's keys and totals each),
// so a batch of 100 events over 100 users takes about one transaction's
// latency, not a hundred.
func (s *Store) applyGroups(ctx context.Context, groups [][]Change, res *Result) error {
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelGroups)
	for _, grp := range groups {
		g.Go(func() error {
			r, err := s.applyIdentity(gctx, grp[0].IdentityID, grp)
			mu.Lock()
			res.add(r)
			mu.Unlock()
			return err
		})
	}
	return g.Wait()
}

// parallelGroups bounds the transactions one Apply has in flight.
const parallelGroups = 16

// objState is an object item as read.
type objState struct {
	exists    bool
	seq       string
	present   bool
	size      int64
	versionID string
}

// applyIdentity applies one identity's changes in one transaction: it
// reads their object items, writes each change newer than its item,
// conditioned on the item being as read, with the totals update, and on a
// lost race re-reads and retries (maxAttempts, growing waits).
func (s *Store) applyIdentity(ctx context.Context, id string, cs []Change) (Result, error) {
	var res Result
	for attempt := 1; ; attempt++ {
		states, err := s.readObjects(ctx, id, cs)
		if err != nil {
			return res, err
		}
		tx := s.identityTx(id, cs, states, s.now())
		if len(tx.items) == 0 {
			res.Stale += tx.stale
			return res, nil
		}
		_, err = s.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx.items})
		if err == nil {
			res.Applied += tx.applied
			res.Stale += tx.stale
			if tx.delta != (Totals{}) {
				res.Deltas = map[string]Totals{id: tx.delta}
			}
			return res, nil
		}
		if !retryable(err) || attempt >= maxAttempts {
			return res, fmt.Errorf("usage: TransactWriteItems: %w", err)
		}
		res.Retries++
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(backoff(attempt)):
		}
	}
}

// txPlan is one attempt's transaction for an identity: the object puts
// and the totals update, the change of the totals, and how many changes
// it applies and found stale (not newer than their item).
type txPlan struct {
	items          []types.TransactWriteItem
	delta          Totals
	applied, stale int
}

// identityTx plans the transaction of an identity's changes against the
// object items as read (states).
func (s *Store) identityTx(id string, cs []Change, states map[string]objState, now time.Time) txPlan {
	var tx txPlan
	for _, c := range cs {
		old := states[c.Key]
		if old.exists && CompareSequencers(c.Sequencer, old.seq) <= 0 {
			tx.stale++
			continue
		}
		put, d := s.objectPut(id, c, old, now)
		tx.delta.Bytes += d.Bytes
		tx.delta.Objects += d.Objects
		tx.items = append(tx.items, types.TransactWriteItem{Put: put})
		tx.applied++
	}
	if tx.delta != (Totals{}) {
		tx.items = append(tx.items, s.totalsUpdate(id, tx.delta, now))
	}
	return tx
}

// objectPut is the put of a key's new state, conditioned on its item being
// as read (or absent), and the change of the totals it makes. A deleted
// key leaves a tombstone that expires after TombstoneTTL.
func (s *Store) objectPut(id string, c Change, old objState, now time.Time) (*types.Put, Totals) {
	present, size, ver := c.Present, c.Size, c.VersionID
	if c.VersionDelete && old.exists && old.present && old.versionID != c.VersionID {
		// A noncurrent version was deleted: the current one stays.
		present, size, ver = old.present, old.size, old.versionID
	}
	if !present {
		size = 0
	}
	var wasSize, was int64
	if old.present {
		wasSize, was = old.size, 1
	}
	item := map[string]types.AttributeValue{
		contract.AttrPK: str(pk(id)), contract.AttrSK: str(objSK(c.Key)),
		attrSeq: str(c.Sequencer), attrPresent: &types.AttributeValueMemberBOOL{Value: present},
		attrSize: num(size),
	}
	if ver != "" {
		item[attrVersion] = str(ver)
	}
	if !present {
		item[contract.AttrTTL] = num(now.Add(TombstoneTTL).Unix())
	}
	put := &types.Put{TableName: aws.String(s.Table), Item: item}
	if old.exists {
		put.ConditionExpression = aws.String("#seq = :old")
		put.ExpressionAttributeNames = map[string]string{"#seq": attrSeq}
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":old": str(old.seq)}
	} else {
		put.ConditionExpression = aws.String("attribute_not_exists(#pk)")
		put.ExpressionAttributeNames = map[string]string{"#pk": contract.AttrPK}
	}
	return put, Totals{Bytes: size - wasSize, Objects: b2i(present) - was}
}

// totalsUpdate adds delta to an identity's totals item and stamps it.
func (s *Store) totalsUpdate(id string, delta Totals, now time.Time) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                aws.String(s.Table),
		Key:                      map[string]types.AttributeValue{contract.AttrPK: str(pk(id)), contract.AttrSK: str(skTotal)},
		UpdateExpression:         aws.String("ADD #b :db, #o :do SET #u = :now"),
		ExpressionAttributeNames: map[string]string{"#b": attrBytes, "#o": attrObjects, "#u": attrUpdated},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":db": num(delta.Bytes), ":do": num(delta.Objects), ":now": str(now.UTC().Format(time.RFC3339)),
		},
	}}
}

// backoff is the wait before retry attempt+1: "full jitter", a uniform
// random wait up to a cap that grows with the attempt (5 ms × attempt²).
// Without jitter, writers that lost the same race wait the same time and
// collide again (AWS Architecture Blog, "Exponential Backoff And Jitter",
// https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
func backoff(attempt int) time.Duration {
	ceiling := time.Duration(attempt*attempt) * 5 * time.Millisecond
	return time.Millisecond + rand.N(ceiling)
}

// retryable: a condition failed because another writer changed an item
// between our read and our write, or DynamoDB reported a transaction
// conflict; both are retried after a fresh read.
func retryable(err error) bool {
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		for _, r := range tc.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "", "None", "ConditionalCheckFailed", "TransactionConflict":
			default:
				return false
			}
		}
		return true
	}
	var conflict *types.TransactionConflictException
	return errors.As(err, &conflict)
}

func (s *Store) readObjects(ctx context.Context, id string, cs []Change) (map[string]objState, error) {
	out := make(map[string]objState, len(cs))
	keys := make([]map[string]types.AttributeValue, 0, len(cs))
	for _, c := range cs {
		keys = append(keys, map[string]types.AttributeValue{contract.AttrPK: str(pk(id)), contract.AttrSK: str(objSK(c.Key))})
	}
	err := s.batchGet(ctx, keys, func(it map[string]types.AttributeValue) {
		sk := getS(it, contract.AttrSK)
		out[sk[len(objPrefix):]] = objState{
			exists: true, seq: getS(it, attrSeq), present: getBool(it, attrPresent),
			size: getN(it, attrSize), versionID: getS(it, attrVersion),
		}
	})
	return out, err
}

// batchGet reads keys strongly consistently, BatchGetItem's 100 at a time
// and its unprocessed keys again, calling found for each item read.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, found func(map[string]types.AttributeValue)) error {
	for chunk := range slices.Chunk(keys, maxBatchGet) {
		req := map[string]types.KeysAndAttributes{s.Table: {Keys: chunk, ConsistentRead: aws.Bool(true)}}
		for len(req) > 0 {
			r, err := s.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return fmt.Errorf("usage: BatchGetItem: %w", err)
			}
			for _, it := range r.Responses[s.Table] {
				found(it)
			}
			req = r.UnprocessedKeys
		}
	}
	return nil
}

// Usage returns an identity's totals (zero when it has never stored
// anything). consistent asks for a strongly consistent read.
func (s *Store) Usage(ctx context.Context, identityID string, consistent bool) (Totals, error) {
	r, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table),
		Key:            map[string]types.AttributeValue{contract.AttrPK: str(pk(identityID)), contract.AttrSK: str(skTotal)},
		ConsistentRead: aws.Bool(consistent),
	})
	if err != nil {
		return Totals{}, fmt.Errorf("usage: GetItem: %w", err)
	}
	return Totals{Bytes: getN(r.Item, attrBytes), Objects: getN(r.Item, attrObjects)}, nil
}

// Object returns the recorded size of one key of an identity, and whether
// it exists (the upload route subtracts an object that a form replaces).
func (s *Store) Object(ctx context.Context, identityID, key string) (size int64, present bool, err error) {
	r, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.Table),
		Key:       map[string]types.AttributeValue{contract.AttrPK: str(pk(identityID)), contract.AttrSK: str(objSK(key))},
	})
	if err != nil {
		return 0, false, fmt.Errorf("usage: GetItem: %w", err)
	}
	return getN(r.Item, attrSize), getBool(r.Item, attrPresent), nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func getS(it map[string]types.AttributeValue, k string) string {
	if v, ok := it[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(it map[string]types.AttributeValue, k string) int64 {
	if v, ok := it[k].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

func getBool(it map[string]types.AttributeValue, k string) bool {
	if v, ok := it[k].(*types.AttributeValueMemberBOOL); ok {
		return v.Value
	}
	return false
}

// The login -> identity map (pk "login#<user>", sk "identity", attribute
// id): the vendor writes it after a vend so that the next vend can tag the
// session with the quota state before Cognito names the identity.
const (
	loginPrefix = "login#"
	skIdentity  = "identity"
	attrID      = "id"
)

// IdentityOf returns the identity user had at its last recorded vend.
func (s *Store) IdentityOf(ctx context.Context, user string) (string, bool, error) {
	r, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.Table),
		Key:       map[string]types.AttributeValue{contract.AttrPK: str(loginPrefix + user), contract.AttrSK: str(skIdentity)},
	})
	if err != nil {
		return "", false, fmt.Errorf("usage: GetItem: %w", err)
	}
	id := getS(r.Item, attrID)
	return id, id != "", nil
}

// IdentitiesOf maps users' {userId} tag values (contract.UserTagValue, as
// in a key of a rule keyed by {userId}) to their identities, from the
// links the vendor records at each vend (Link): one BatchGetItem per 100
// users, strongly consistent. A user without a link is absent from the
// result; a value that is no tag value is an error.
func (s *Store) IdentitiesOf(ctx context.Context, tagValues []string) (map[string]string, error) {
	byLogin := map[string]string{} // login (vend.UserID) -> tag value
	var keys []map[string]types.AttributeValue
	for _, v := range tagValues {
		verifier, id, err := contract.ParseUserTagValue(v)
		if err != nil {
			return nil, fmt.Errorf("usage: %w", err)
		}
		login := verifier + ":" + id
		if _, dup := byLogin[login]; dup {
			continue
		}
		byLogin[login] = v
		keys = append(keys, map[string]types.AttributeValue{contract.AttrPK: str(loginPrefix + login), contract.AttrSK: str(skIdentity)})
	}
	out := map[string]string{}
	err := s.batchGet(ctx, keys, func(it map[string]types.AttributeValue) {
		if id := getS(it, attrID); id != "" {
			out[byLogin[strings.TrimPrefix(getS(it, contract.AttrPK), loginPrefix)]] = id
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Link records user -> identityID.
func (s *Store) Link(ctx context.Context, user, identityID string) error {
	_, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.Table),
		Item: map[string]types.AttributeValue{
			contract.AttrPK: str(loginPrefix + user), contract.AttrSK: str(skIdentity), attrID: str(identityID),
		},
	})
	if err != nil {
		return fmt.Errorf("usage: PutItem: %w", err)
	}
	return nil
}
