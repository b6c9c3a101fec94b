package standin

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/s3vend/s3vend/contract"
)

// sqsFixture is the SQS stand-in of the dev snapshot's queues, authorizing
// with the shared S3 stand-in's IAM evaluator.
func sqsFixture(t *testing.T) (*s3Fixture, *SQS, *httptest.Server, *callAuthorizer) {
	t.Helper()
	f := s3Setup(t)
	calls := newCallAuthorizer(f.model, f.s3.az)
	q := NewSQS(f.sessions, f.model.Region(), f.model.Account(), SQSQueuesFromTemplate(f.model.Template()))
	if err := q.authorizeWith(calls, f.model); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(q)
	t.Cleanup(srv.Close)
	q.URL = srv.URL
	return f, q, srv, calls
}

func sqsClient(f *s3Fixture, srv *httptest.Server, sess Session) *sqs.Client {
	return sqs.New(sqs.Options{
		BaseEndpoint: aws.String(srv.URL), HTTPClient: srv.Client(), Region: f.model.Region(), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(sess.AccessKeyID, sess.SecretAccessKey, sess.SessionToken),
	})
}

// TestSQSAuthorizesAsIAM: the SQS stand-in grants what the template
// grants and nothing else. The metering function's role may receive and
// delete on its queue, not on the dead-letter queue; a Cognito user's
// session and static keys of no principal are refused; S3 delivers a
// notification only as the queue policy allows (s3.amazonaws.com from
// this bucket).
func TestSQSAuthorizesAsIAM(t *testing.T) {
	f, q, srv, calls := sqsFixture(t)
	_, queue, role, ok := meteringFunction(f.model.Template())
	if !ok {
		t.Fatal("the dev snapshot has no metering function")
	}
	var dlq string
	for _, d := range SQSQueuesFromTemplate(f.model.Template()) {
		if d.Name == queue {
			dlq = d.DeadLetterQueue
		}
	}
	ctx := context.Background()
	if err := q.Send(queue, []byte(`{"Records":[]}`)); err != nil {
		t.Fatalf("S3 notification refused: %v", err)
	}
	metering, err := calls.roleSession(role, "metering")
	if err != nil {
		t.Fatal(err)
	}
	metering.AccessKeyID, metering.SecretAccessKey = "AKIAMETERINGTEST0001", "metering-secret"
	f.sessions.Put(metering)
	mc := sqsClient(f, srv, metering)
	out, err := mc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.QueueURL(queue)), MaxNumberOfMessages: 10})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("the metering role's ReceiveMessage: %v %+v", err, out)
	}
	if _, err := mc.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(q.QueueURL(queue)),
		Entries: []sqstypes.DeleteMessageBatchRequestEntry{{Id: aws.String("1"), ReceiptHandle: out.Messages[0].ReceiptHandle}}}); err != nil {
		t.Fatalf("the metering role's DeleteMessageBatch (needs sqs:DeleteMessage): %v", err)
	}
	_, err = mc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.QueueURL(dlq))})
	wantCode(t, "the metering role on the dead-letter queue", err, "AccessDenied")

	developer := Session{AccessKeyID: "AKIADEVELOPERTEST001", SecretAccessKey: "developer-secret"}
	f.sessions.Put(developer)
	for name, sess := range map[string]Session{"a Cognito user": f.user(idA), "static keys of no principal": developer} {
		_, err := sqsClient(f, srv, sess).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.QueueURL(queue))})
		wantCode(t, name+"'s ReceiveMessage", err, "AccessDenied")
	}

	// The queue policy without its S3 statement, then with another bucket
	// as the source: S3's notification is not delivered.
	orig := q.policies[queue]
	defer func() { q.policies[queue] = orig }()
	doc := orig.(map[string]any)
	var denyOnly []any
	for _, st := range doc["Statement"].([]any) {
		if st.(map[string]any)["Effect"] == "Deny" {
			denyOnly = append(denyOnly, st)
		}
	}
	q.policies[queue] = map[string]any{"Version": "2012-10-17", "Statement": denyOnly}
	if err := q.Send(queue, []byte(`{}`)); err == nil || len(q.Refused()) != 1 {
		t.Errorf("a queue policy without the S3 statement delivered the notification (err %v, refused %v)", err, q.Refused())
	}
	q.policies[queue] = orig
	q.bucketARN = strings.Replace(q.bucketARN, f.model.BucketName(), "another-bucket", 1)
	if err := q.Send(queue, []byte(`{}`)); err == nil {
		t.Error("a notification from another bucket was delivered")
	}
}

// TestCloudWatchAuthorizesAsIAM: PutMetricData is allowed to the operator
// policy (the CountRevocations statement, namespace S3Vend only), not in
// another namespace, and not to a Cognito user.
func TestCloudWatchAuthorizesAsIAM(t *testing.T) {
	f, _, _, calls := sqsFixture(t)
	s := &Stack{Model: f.model, Sessions: f.sessions, Region: f.model.Region(), Partition: f.model.Partition(), calls: calls}
	op := Session{AccessKeyID: "AKIAOPERATORTEST0001", SecretAccessKey: "operator-secret"}
	if err := s.PutOperator(op); err != nil {
		t.Fatal(err)
	}
	c := &CloudWatch{stack: s}
	srv := httptest.NewTLSServer(c)
	defer srv.Close()
	put := func(sess Session, namespace string) error {
		cw := cloudwatch.New(cloudwatch.Options{
			BaseEndpoint: aws.String(srv.URL), HTTPClient: srv.Client(), Region: f.model.Region(), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(sess.AccessKeyID, sess.SecretAccessKey, sess.SessionToken),
		})
		_, err := cw.PutMetricData(context.Background(), &cloudwatch.PutMetricDataInput{Namespace: aws.String(namespace),
			MetricData: []cwtypes.MetricDatum{{MetricName: aws.String(contract.MetricRevocations), Value: aws.Float64(1), Unit: cwtypes.StandardUnitCount}}})
		return err
	}
	if err := put(op, contract.MetricNamespace); err != nil {
		t.Fatalf("the operator's PutMetricData in %s: %v", contract.MetricNamespace, err)
	}
	wantCode(t, "the operator in another namespace", put(op, "Other"), "AccessDenied")
	wantCode(t, "a Cognito user", put(f.user(idA), contract.MetricNamespace), "AccessDenied")
	if got := len(c.Data()); got != 1 {
		t.Errorf("%d datums stored, want the operator's 1", got)
	}
}
