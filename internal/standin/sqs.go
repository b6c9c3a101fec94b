package standin

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/s3vend/s3vend/internal/accessmatrix"
)

// SQS facts this stand-in follows (Amazon SQS API reference,
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/):
//   - AWS JSON 1.0: POST /, X-Amz-Target: AmazonSQS.<Operation>, errors as
//     {"__type": "com.amazonaws.sqs#<Code>", "message": ...} (the Go SDK
//     has spoken JSON to SQS since service/sqs v1.30).
//   - ReceiveMessage: MaxNumberOfMessages 1..10 (default 1); a received
//     message is invisible for the queue's visibility timeout (or the
//     request's VisibilityTimeout) and comes back unless deleted; standard
//     queues deliver "at least once" and "might deliver messages in a
//     different order" ("Amazon SQS standard queues"), which Reorder and
//     Duplicate make happen here on purpose.
//   - MD5OfBody is the hex MD5 of the body (the SDK checks it).
//   - a message received maxReceiveCount times moves to the dead-letter
//     queue of the queue's RedrivePolicy.
//
// Queues are the template's AWS::SQS::Queue resources, named by logical id;
// the URL of one is <endpoint>/<account>/<logical id>.
//
// Every call is authorized as IAM authorizes it (callAuthorizer): the
// caller's identity policies or the queue's AWS::SQS::QueuePolicy must allow
// the action on the queue's ARN, and S3's notifications are delivered only
// when the queue policy lets s3.amazonaws.com send from the bucket
// (aws:SourceArn). A batch call needs its single action: "the permissions
// for a batch action are the same as for the single action"
// (DeleteMessageBatch needs sqs:DeleteMessage; SQS Developer Guide,
// "Amazon SQS API permissions: Actions and resource reference"). A refusal
// is 403 AccessDenied, "Access to the resource <url> is denied.", as SQS
// answers it (AWS re:Post, "How do I troubleshoot AccessDenied errors in
// Amazon SQS API calls?").
const sqsTarget = "AmazonSQS."

// SQS is an in-memory SQS endpoint for the template's queues.
type SQS struct {
	sessions *Sessions
	region   string
	account  string
	now      func() time.Time
	// Duplicate is the chance that a received message stays visible too,
	// so it is delivered again (at least once); Reorder shuffles each
	// receive. Tests set them; both are off by default.
	Duplicate float64
	Reorder   bool

	// calls authorizes each call; nil refuses every call (the stack sets
	// it once the IAM evaluator runs: Stack.startServices).
	calls *callAuthorizer
	// policies are the queues' resolved queue policies, by queue logical
	// id; bucketARN is the source S3's notifications come from.
	policies  map[string]any
	arns      map[string]string // queue logical id -> ARN
	bucketARN string

	mu      sync.Mutex
	queues  map[string]*sqsQueue
	refused []string // notifications the queue policies refused
	rng     *rand.Rand
	nextID  int
	URL     string // the endpoint, set by the stack
}

type sqsQueue struct {
	name       string
	visibility time.Duration
	dlq        string // logical id; "" without a redrive policy
	maxReceive int
	messages   []*sqsMessage
}

type sqsMessage struct {
	id, body, receipt string
	visibleAt         time.Time
	receives          int
}

// SQSQueue declares one queue of the stand-in.
type SQSQueue struct {
	Name              string // logical id
	VisibilityTimeout time.Duration
	DeadLetterQueue   string
	MaxReceiveCount   int
}

// NewSQS returns the stand-in with queues.
func NewSQS(sessions *Sessions, region, account string, queues []SQSQueue) *SQS {
	s := &SQS{sessions: sessions, region: region, account: account, now: time.Now,
		queues: map[string]*sqsQueue{}, rng: rand.New(rand.NewPCG(1, 2))}
	for _, q := range queues {
		vis := q.VisibilityTimeout
		if vis <= 0 {
			vis = 30 * time.Second
		}
		s.queues[q.Name] = &sqsQueue{name: q.Name, visibility: vis, dlq: q.DeadLetterQueue, maxReceive: q.MaxReceiveCount}
	}
	return s
}

// SQSQueuesFromTemplate lists the template's queues with their visibility
// timeouts and redrive policies.
func SQSQueuesFromTemplate(tpl map[string]any) []SQSQueue {
	var out []SQSQueue
	for id, props := range templateResources(tpl, "AWS::SQS::Queue") {
		q := SQSQueue{Name: id}
		if v, ok := props["VisibilityTimeout"].(float64); ok {
			q.VisibilityTimeout = time.Duration(v) * time.Second
		}
		if rp, ok := props["RedrivePolicy"].(map[string]any); ok {
			q.DeadLetterQueue = refTarget(rp["deadLetterTargetArn"])
			if n, ok := rp["maxReceiveCount"].(float64); ok {
				q.MaxReceiveCount = int(n)
			}
		}
		out = append(out, q)
	}
	return out
}

// refTarget is the logical id of {"Ref": id} or {"Fn::GetAtt": [id, attr]}.
func refTarget(v any) string {
	m, _ := v.(map[string]any)
	if id, ok := m["Ref"].(string); ok {
		return id
	}
	if a, ok := m["Fn::GetAtt"].([]any); ok && len(a) == 2 {
		id, _ := a[0].(string)
		return id
	}
	return ""
}

// templateResources are the Properties of the template's resources of
// type typ, by logical id.
func templateResources(tpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	resources, _ := tpl["Resources"].(map[string]any)
	for id, r := range resources {
		if res, _ := r.(map[string]any); res["Type"] == typ {
			out[id], _ = res["Properties"].(map[string]any)
		}
	}
	return out
}

// authorizeWith turns on IAM authorization of every call with calls, and
// reads the queues' policies from the model's template.
func (s *SQS) authorizeWith(calls *callAuthorizer, model *accessmatrix.Model) error {
	s.policies = map[string]any{}
	for id, props := range templateResources(model.Template(), "AWS::SQS::QueuePolicy") {
		doc, err := model.Resolve(props["PolicyDocument"])
		if err != nil {
			return fmt.Errorf("standin: queue policy %s: %w", id, err)
		}
		queues, _ := props["Queues"].([]any)
		for _, q := range queues {
			s.policies[refTarget(q)] = doc
		}
	}
	// The queues' ARNs as the policies name them (the model resolves
	// Fn::GetAtt [queue, Arn]).
	s.arns = map[string]string{}
	for name := range s.queues {
		arn, err := model.Resolve(map[string]any{"Fn::GetAtt": []any{name, "Arn"}})
		if err != nil {
			return fmt.Errorf("standin: queue %s: %w", name, err)
		}
		s.arns[name], _ = arn.(string)
	}
	s.calls, s.bucketARN = calls, model.BucketARN()
	return nil
}

// sqsActions are the IAM actions of the operations served.
var sqsActions = map[string]string{
	"ReceiveMessage": "sqs:ReceiveMessage", "DeleteMessage": "sqs:DeleteMessage", "DeleteMessageBatch": "sqs:DeleteMessage",
}

// authorize decides sess calling op on the queue its body names.
func (s *SQS) authorize(sess Session, op string, raw []byte) *AWSError {
	var in struct {
		QueueURL string `json:"QueueUrl"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return &AWSError{http.StatusBadRequest, "InvalidParameterValue", "malformed JSON"}
	}
	s.mu.Lock()
	q, aerr := s.queueOf(in.QueueURL)
	s.mu.Unlock()
	if aerr != nil {
		return aerr
	}
	denied := &AWSError{http.StatusForbidden, "AccessDenied", "Access to the resource " + in.QueueURL + " is denied."}
	if s.calls == nil {
		return denied
	}
	ok, err := s.calls.allow(sess, sqsActions[op], s.arns[q.name], s.policies[q.name], nil)
	if err != nil {
		return &AWSError{http.StatusInternalServerError, "InternalError", "standin: IAM evaluation failed: " + err.Error()}
	}
	if !ok {
		return denied
	}
	return nil
}

// QueueURL is the URL of the queue with logical id name.
func (s *SQS) QueueURL(name string) string { return s.URL + "/" + s.account + "/" + name }

// Send enqueues body on queue name: S3 delivering a notification, which
// the queue's policy must allow (s3.amazonaws.com, sqs:SendMessage, with
// the bucket as aws:SourceArn and its account as aws:SourceAccount).
func (s *SQS) Send(name string, body []byte) error {
	if s.calls == nil {
		return fmt.Errorf("standin: SQS has no IAM evaluator")
	}
	ok, err := s.calls.allow(Session{Principal: "s3.amazonaws.com"}, "sqs:SendMessage", s.arns[name], s.policies[name],
		map[string]any{"aws:SourceArn": s.bucketARN, "aws:SourceAccount": s.account})
	if err != nil {
		return err
	}
	if !ok {
		err := fmt.Errorf("standin: the policy of queue %s does not let S3 send from %s", name, s.bucketARN)
		s.mu.Lock()
		s.refused = append(s.refused, err.Error())
		s.mu.Unlock()
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queues[name]
	if !ok {
		return fmt.Errorf("standin: no queue %s", name)
	}
	s.nextID++
	q.messages = append(q.messages, &sqsMessage{id: fmt.Sprintf("%08d-0000-4000-8000-%012d", s.nextID, s.nextID), body: string(body)})
	return nil
}

// Refused lists the notifications S3 could not deliver because a queue's
// policy refused them (S3 drops those; a test should fail on them).
func (s *SQS) Refused() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.refused)
}

// Depth is the number of messages in queue name, in flight or not.
func (s *SQS) Depth(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q, ok := s.queues[name]; ok {
		return len(q.messages)
	}
	return 0
}

// ServeHTTP implements ReceiveMessage, DeleteMessage and DeleteMessageBatch,
// signed (SigV4, service sqs) with credentials the stand-ins issued.
func (s *SQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), sqsTarget)
	if r.Method != http.MethodPost || !ok {
		sqsError(w, &AWSError{http.StatusBadRequest, "UnsupportedOperation", "expected POST with X-Amz-Target: AmazonSQS.<operation>"})
		return
	}
	sess, anonymous, body, aerr := VerifySigV4(r, "sqs", s.region, s.sessions, s.now())
	if aerr != nil {
		sqsError(w, aerr)
		return
	}
	if anonymous {
		sqsError(w, &AWSError{http.StatusBadRequest, "MissingAuthenticationToken", "Request must contain a signature."})
		return
	}
	raw, err := io.ReadAll(io.LimitReader(body, 1<<20))
	if err != nil {
		sqsError(w, &AWSError{http.StatusBadRequest, "InvalidParameterValue", "unreadable body"})
		return
	}
	if _, served := sqsActions[op]; !served {
		sqsError(w, &AWSError{http.StatusBadRequest, "UnsupportedOperation", "the stand-in does not implement " + op})
		return
	}
	if aerr := s.authorize(sess, op, raw); aerr != nil {
		sqsError(w, aerr)
		return
	}
	var out any
	switch op {
	case "ReceiveMessage":
		out, aerr = s.receive(raw)
	case "DeleteMessage":
		out, aerr = s.delete(raw)
	case "DeleteMessageBatch":
		out, aerr = s.deleteBatch(raw)
	default:
		aerr = &AWSError{http.StatusBadRequest, "UnsupportedOperation", "the stand-in does not implement " + op}
	}
	if aerr != nil {
		sqsError(w, aerr)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(out)
}

func sqsError(w http.ResponseWriter, e *AWSError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Query-Error", e.Code+";Sender")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + e.Code, "message": e.Message})
}

func (s *SQS) queueOf(url string) (*sqsQueue, *AWSError) {
	name := url[strings.LastIndex(url, "/")+1:]
	q, ok := s.queues[name]
	if !ok || !strings.HasPrefix(url, s.URL+"/"+s.account+"/") {
		return nil, &AWSError{http.StatusBadRequest, "QueueDoesNotExist", "The specified queue does not exist."}
	}
	return q, nil
}

func (s *SQS) receive(raw []byte) (any, *AWSError) {
	var in struct {
		QueueURL            string `json:"QueueUrl"`
		MaxNumberOfMessages int    `json:"MaxNumberOfMessages"`
		VisibilityTimeout   *int   `json:"VisibilityTimeout"`
		WaitTimeSeconds     int    `json:"WaitTimeSeconds"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, &AWSError{http.StatusBadRequest, "InvalidParameterValue", "malformed JSON"}
	}
	if in.MaxNumberOfMessages == 0 {
		in.MaxNumberOfMessages = 1
	}
	if in.MaxNumberOfMessages < 1 || in.MaxNumberOfMessages > 10 {
		return nil, &AWSError{http.StatusBadRequest, "InvalidParameterValue", "MaxNumberOfMessages must be from 1 to 10."}
	}
	deadline := s.now().Add(time.Duration(min(in.WaitTimeSeconds, 20)) * time.Second)
	for {
		msgs, aerr := s.take(in.QueueURL, in.MaxNumberOfMessages, in.VisibilityTimeout)
		if aerr != nil || len(msgs) > 0 || !s.now().Before(deadline) {
			return map[string]any{"Messages": msgs}, aerr
		}
		time.Sleep(20 * time.Millisecond) // long polling
	}
}

func (s *SQS) take(url string, n int, visibility *int) ([]map[string]any, *AWSError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, aerr := s.queueOf(url)
	if aerr != nil {
		return nil, aerr
	}
	now := s.now()
	vis := q.visibility
	if visibility != nil {
		vis = time.Duration(*visibility) * time.Second
	}
	var visible []*sqsMessage
	kept := q.messages[:0]
	for _, m := range q.messages {
		if q.dlq != "" && q.maxReceive > 0 && m.receives >= q.maxReceive && !now.Before(m.visibleAt) {
			if d, ok := s.queues[q.dlq]; ok {
				m.receives, m.visibleAt = 0, time.Time{}
				d.messages = append(d.messages, m)
				continue
			}
		}
		kept = append(kept, m)
		if !now.Before(m.visibleAt) {
			visible = append(visible, m)
		}
	}
	q.messages = kept
	if s.Reorder {
		s.rng.Shuffle(len(visible), func(i, j int) { visible[i], visible[j] = visible[j], visible[i] })
	}
	var out []map[string]any
	for _, m := range visible[:min(n, len(visible))] {
		m.receives++
		m.receipt = randomHex(16)
		if s.rng.Float64() >= s.Duplicate {
			m.visibleAt = now.Add(vis)
		}
		sum := md5.Sum([]byte(m.body))
		out = append(out, map[string]any{
			"MessageId": m.id, "ReceiptHandle": m.receipt, "MD5OfBody": hex.EncodeToString(sum[:]), "Body": m.body,
			"Attributes": map[string]string{"ApproximateReceiveCount": fmt.Sprint(m.receives)},
		})
	}
	return out, nil
}

func (s *SQS) deleteReceipt(url, receipt string) *AWSError {
	q, aerr := s.queueOf(url)
	if aerr != nil {
		return aerr
	}
	for i, m := range q.messages {
		if m.receipt == receipt && receipt != "" {
			q.messages = append(q.messages[:i], q.messages[i+1:]...)
			return nil
		}
	}
	// A stale receipt of a redelivered message: SQS accepts and ignores
	// a receipt handle of a message it deleted or re-sent.
	return nil
}

func (s *SQS) delete(raw []byte) (any, *AWSError) {
	var in struct {
		QueueURL      string `json:"QueueUrl"`
		ReceiptHandle string `json:"ReceiptHandle"`
	}
	if err := json.Unmarshal(raw, &in); err != nil || in.ReceiptHandle == "" {
		return nil, &AWSError{http.StatusBadRequest, "InvalidParameterValue", "QueueUrl and ReceiptHandle are required"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return map[string]any{}, s.deleteReceipt(in.QueueURL, in.ReceiptHandle)
}

func (s *SQS) deleteBatch(raw []byte) (any, *AWSError) {
	var in struct {
		QueueURL string `json:"QueueUrl"`
		Entries  []struct {
			ID            string `json:"Id"`
			ReceiptHandle string `json:"ReceiptHandle"`
		} `json:"Entries"`
	}
	if err := json.Unmarshal(raw, &in); err != nil || len(in.Entries) == 0 || len(in.Entries) > 10 {
		return nil, &AWSError{http.StatusBadRequest, "InvalidParameterValue", "QueueUrl and 1 to 10 Entries are required"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var ok []map[string]string
	for _, e := range in.Entries {
		if aerr := s.deleteReceipt(in.QueueURL, e.ReceiptHandle); aerr != nil {
			return nil, aerr
		}
		ok = append(ok, map[string]string{"Id": e.ID})
	}
	return map[string]any{"Successful": ok, "Failed": []any{}}, nil
}
