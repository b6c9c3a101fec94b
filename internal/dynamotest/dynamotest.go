// Package dynamotest runs a real DynamoDB-compatible engine for tests:
// moto's server (the CI image's Python 3.11 carries moto 5 with Flask, so
// `python3 -m moto.server` works without any install), on a loopback port,
// reached through AWS_ENDPOINT_URL_DYNAMODB with the real aws-sdk-go-v2.
//
// Why moto and not dynalite (npm): the metering function's exactness rests
// on TransactWriteItems (one object item and the identity's totals change
// together, or neither), and dynalite 4.0.0 implements no transactions
// (its actions/ directory has no transactWriteItems). moto implements
// TransactWriteItems with per-item ConditionExpression and cancellation
// reasons, checked here before relying on it.
//
// One engine per test package (Start in TestMain, Close at its end); each
// test creates its own tables with unique names.
package dynamotest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/internal/platform"
)

// Account is the engine's AWS account id: accessmatrix's test account.
const Account = "111122223333"

// Engine is a running moto server.
type Engine struct {
	// URL is the endpoint, e.g. http://127.0.0.1:41234.
	URL string
	cmd *exec.Cmd
}

// ErrUnavailable is returned by Start when python3 or moto's server is
// missing on this machine.
var ErrUnavailable = errors.New("dynamotest: python3 with moto's server (python3 -c 'import moto.server') is not available")

// Python is the interpreter that runs moto (S3VEND_PYTHON overrides it).
func Python() string {
	if p := os.Getenv("S3VEND_PYTHON"); p != "" {
		return p
	}
	return "python3"
}

// serverScript runs moto's WSGI application (what `python3 -m moto.server`
// runs) with every request served one at a time. moto's
// TransactWriteItems checks conditions and writes without a lock (it
// snapshots and restores the tables on failure), so two concurrent
// transactions could both pass their conditions, or one's rollback undo
// the other's write; DynamoDB's transactions are serializable
// ("Isolation levels for DynamoDB transactions", SERIALIZABLE between
// transactional and standard writes,
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html).
// One lock around the application restores that isolation; clients still
// connect concurrently.
//
// moto 5.2's transact_write_items also deep-copies the whole table once
// per action before it starts (its rollback snapshot), so a 100-action
// transaction on a table of 1,000 items copied 100,000 items. The patch
// below takes one cheap snapshot per table and transaction instead: a
// shallow copy of the table and of its item maps (a Put or Delete replaces
// or removes an item object, which the copied maps undo), plus deep copies
// of exactly the items the transaction's Update actions change in place.
// All snapshots are taken before the first write, so the rollback restores
// the same state as moto's own. It changes no result, only the time; the
// 10,000-event test, whose racing transactions roll back, checks it.
// (moto's update_item deep-copies an item through the same module name;
// that copy is passed through.)
const serverScript = `
import copy, threading
from collections import defaultdict
from werkzeug.serving import run_simple
from moto.server import DomainDispatcherApplication, create_backend_app
import moto.dynamodb.models as ddb
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

class _Snapshot:
    def __init__(self, items):
        self.updates = defaultdict(list)
        for item in items:
            op = item.get("Update")
            if op:
                self.updates[op["TableName"]].append(op["Key"])
        self.taken = {}
    def deepcopy(self, table, memo=None):
        if not isinstance(table, Table):
            return copy.deepcopy(table, memo)  # update_item copies an item too
        if id(table) in self.taken:
            return self.taken[id(table)]
        snap = copy.copy(table)
        snap.items = defaultdict(dict, {h: (dict(v) if isinstance(v, dict) else v) for h, v in table.items.items()})
        for key in self.updates.get(table.name, []):
            h = DynamoType(key[table.hash_key_attr])
            if table.range_key_attr:
                r = DynamoType(key[table.range_key_attr])
                if h in snap.items and r in snap.items[h]:
                    snap.items[h][r] = copy.deepcopy(snap.items[h][r])
            elif h in snap.items:
                snap.items[h] = copy.deepcopy(snap.items[h])
        self.taken[id(table)] = snap
        return snap

_transact = ddb.DynamoDBBackend.transact_write_items
def _transact_once(self, items):
    ddb.copy = _Snapshot(items)
    try:
        return _transact(self, items)
    finally:
        ddb.copy = copy
ddb.DynamoDBBackend.transact_write_items = _transact_once

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()
def serialized(environ, start_response):
    with lock:
        return list(app(environ, start_response))
run_simple("127.0.0.1", 0, serialized, threaded=True)
`

var listeningRE = regexp.MustCompile(`Running on http://127\.0\.0\.1:(\d+)`)

// Start launches the engine on a free loopback port and waits until it
// answers. ctx bounds the start-up only.
func Start(ctx context.Context) (*Engine, error) {
	py, err := exec.LookPath(Python())
	if err != nil {
		return nil, ErrUnavailable
	}
	if err := exec.CommandContext(ctx, py, "-c", "import moto.server, flask, flask_cors").Run(); err != nil {
		return nil, ErrUnavailable
	}
	cmd := exec.Command(py, "-c", serverScript)
	// moto serves every AWS service on one endpoint; IAM resources get
	// the account of the stand-ins' test model (accessmatrix), so a policy
	// ARN the s3vend CLI builds from a role ARN is the one moto created.
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1", "MOTO_ACCOUNT_ID="+Account)
	// Its own process group (Close ends moto and anything it spawned), and
	// dead with the test binary even when that is killed hard.
	cmd.SysProcAttr = platform.DieWithParent(&syscall.SysProcAttr{Setpgid: true})
	out, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("dynamotest: starting moto: %w", err)
	}
	e := &Engine{cmd: cmd}
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case port <- m[1]:
				default:
				}
			}
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	select {
	case p := <-port:
		e.URL = "http://127.0.0.1:" + p
	case <-ctx.Done():
		e.Close()
		return nil, fmt.Errorf("dynamotest: moto did not start: %w", ctx.Err())
	}
	for {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(e.URL, "http://"), time.Second)
		if err == nil {
			c.Close()
			return e, nil
		}
		select {
		case <-ctx.Done():
			e.Close()
			return nil, fmt.Errorf("dynamotest: moto not reachable: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Env is the environment a process needs to reach the engine with the
// standard SDK settings: the endpoint and fixed test credentials (moto
// accepts any signature; the SDK still signs every request).
func (e *Engine) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": e.URL,
		"AWS_ACCESS_KEY_ID":         "AKIAMOTOTESTKEY00000",
		"AWS_SECRET_ACCESS_KEY":     "moto-test-secret",
	}
}

// Setenv sets Env in this process (TestMain, before any SDK config loads).
func (e *Engine) Setenv() {
	for k, v := range e.Env() {
		os.Setenv(k, v)
	}
}

// Close stops the engine's process group (moto and anything it spawned).
func (e *Engine) Close() {
	if e == nil || e.cmd == nil || e.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = e.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	e.cmd = nil
}

// Required reports whether a missing engine must fail the run (on CI, and
// with S3VEND_E2E=require as make test sets it) rather than skip the tests
// that need it (platform.RequireAll, as for the real clients).
func Required() bool { return platform.RequireAll(os.Getenv) }

// CreateTable creates an on-demand table with the key schema of both
// s3vend tables (string pk, string sk: contract.AttrPK, contract.AttrSK),
// as infra.NewAbuseControl declares them.
func CreateTable(ctx context.Context, db *dynamodb.Client, name string) error {
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(contract.AttrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(contract.AttrSK), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(contract.AttrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(contract.AttrSK), KeyType: types.KeyTypeRange},
		},
	})
	return err
}

// Client is a DynamoDB client of the engine, configured the standard way
// (config.LoadDefaultConfig reads AWS_ENDPOINT_URL_DYNAMODB).
func (e *Engine) Client(ctx context.Context) (*dynamodb.Client, error) {
	for k, v := range e.Env() {
		if os.Getenv(k) != v {
			return nil, fmt.Errorf("dynamotest: %s is not set to the engine's (call Setenv first)", k)
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("eu-west-1"))
	if err != nil {
		return nil, err
	}
	// moto's x-amz-crc32 header does not match some of its bodies (the SDK
	// logs "response did not match expected checksum" and retries nothing);
	// real DynamoDB's does, so only this test client skips the check.
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true }), nil
}

// Run is a TestMain body: it starts the engine once for the package, sets
// the process environment to reach it, runs the tests and stops it. When
// the engine is unavailable, *e stays nil (tests call Need) unless
// Required, which fails the run.
func Run(m interface{ Run() int }, e **Engine) int {
	eng, err := Start(context.Background())
	switch {
	case err == nil:
		eng.Setenv()
		*e = eng
		defer eng.Close()
	case Required():
		fmt.Fprintln(os.Stderr, "dynamotest:", err, "(required on CI and with S3VEND_E2E=require)")
		return 1
	default:
		fmt.Fprintln(os.Stderr, "dynamotest: tests that need DynamoDB are skipped:", err)
	}
	return m.Run()
}

// Need skips t when the engine did not start (see Run).
func Need(t interface {
	Helper()
	Skip(...any)
}, e *Engine) {
	t.Helper()
	if e == nil {
		t.Skip(ErrUnavailable.Error())
	}
}

var tables atomic.Int64

// NewTable creates a fresh table in e for one test (a unique name with
// prefix) and returns a client of the engine and the name; it skips t
// when the engine did not start (Need).
func NewTable(t interface {
	Helper()
	Skip(...any)
	Fatal(...any)
}, e *Engine, prefix string) (*dynamodb.Client, string) {
	t.Helper()
	Need(t, e)
	ctx := context.Background()
	db, err := e.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("%s-%d", prefix, tables.Add(1))
	if err := CreateTable(ctx, db, name); err != nil {
		t.Fatal(err)
	}
	return db, name
}
