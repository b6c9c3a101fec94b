package infra

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3notifications"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/s3vend/s3vend/config"
	"github.com/s3vend/s3vend/contract"
)

// Metering delivery: the event source mapping hands the function up to
// MeteringBatchSize messages, waiting at most MeteringBatchWindow to fill a
// batch (so quota totals lag uploads by about that much plus one
// invocation); a message that failed MeteringMaxReceives deliveries moves
// to the dead-letter queue.
const (
	MeteringBatchSize   = 100
	MeteringBatchWindow = 2 * time.Second
	MeteringMaxReceives = 5
	meteringTimeout     = 30 * time.Second
)

// bucketNotificationsHandler is the id CDK gives the stack's singleton
// handler of awss3.Bucket.AddEventNotification.
const bucketNotificationsHandler = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"

// RevocationPolicyPath is contract.RevocationPolicyPath, where the CLI
// creates the deny policies the operator policy lets it manage.
const RevocationPolicyPath = contract.RevocationPolicyPath

// AbuseControlProps configures NewAbuseControl.
type AbuseControlProps struct {
	Build  GoBuild // the metering function's build (used when Quota is on)
	Bucket awss3.Bucket
	Vendor *TokenVendor
	// Roles are the identity pool's roles (authenticated, and guest when
	// on): the operator may attach revocation policies to them.
	Roles    []awsiam.IRole
	AuthRole awsiam.IRole // denied direct writes when its session is tagged over quota
	PoolARN  *string
	Quota    contract.UserQuota // off: no usage table, queue or metering function
	// AccessRules are the bucket's layout (nil: contract.DefaultRules): the
	// operator may list and delete a revoked user's objects under its owned
	// rules (Rules.OwnedBases) and nowhere else.
	AccessRules  contract.Rules
	LogRetention time.Duration
	Retain       bool
}

func (p AbuseControlProps) validate() error {
	switch {
	case p.Bucket == nil || p.Vendor == nil || p.PoolARN == nil || len(p.Roles) == 0:
		return fmt.Errorf("AbuseControlProps: Bucket, Vendor, PoolARN and Roles are required")
	}
	if err := p.Quota.Check(); err != nil {
		return fmt.Errorf("AbuseControlProps.Quota: %w", err)
	}
	if p.Quota.Enabled() && len(p.AccessRules.MeteredRules()) == 0 {
		return fmt.Errorf("AbuseControlProps.Quota: no AccessRules rule is metered (keyed by {identityId} or {userId}, the owner may put)")
	}
	if err := config.CheckLogRetention(p.LogRetention); err != nil {
		return fmt.Errorf("AbuseControlProps.LogRetention: %w", err)
	}
	return nil
}

// AbuseControl is user revocation and per-user quotas: the revocation
// table (always), and with a quota the usage table, the metering queue
// and its dead-letter queue, the bucket's event notifications and the
// metering function; plus the operators' managed policy.
type AbuseControl struct {
	constructs.Construct
	Revocations awsdynamodb.Table
	Usage       awsdynamodb.Table    // nil without a quota
	Queue       awssqs.Queue         // nil without a quota
	DeadLetters awssqs.Queue         // nil without a quota
	Metering    awslambda.Function   // nil without a quota
	Operator    awsiam.ManagedPolicy // attach to the operators' role or group, never to CI
	// MeteringLogs is the metering function's log group (nil without a quota).
	MeteringLogs awslogs.LogGroup
}

// NewAbuseControl creates the tables, the metering chain and the grants.
func NewAbuseControl(scope constructs.Construct, id string, props AbuseControlProps) *AbuseControl {
	p := props
	if p.LogRetention == 0 {
		p.LogRetention = config.DefaultLogRetention
	}
	if p.AccessRules == nil {
		p.AccessRules = contract.DefaultRules()
	}
	if err := p.validate(); err != nil {
		panic(err)
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	a := &AbuseControl{Construct: c}
	removal := removalPolicy(p.Retain)

	a.Revocations = table(c, "Revocations", removal)
	vendor := p.Vendor.Function
	p.Vendor.AddEnvironment(contract.EnvRevocationsTable, a.Revocations.TableName())
	// The vendor reads the generation item and scans the revoked subjects.
	vendor.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadRevocations"),
		Actions:   jsii.Strings("dynamodb:GetItem", "dynamodb:Scan"),
		Resources: jsii.Strings(*a.Revocations.TableArn()),
	}))
	if p.Quota.Enabled() {
		a.Usage = table(c, "Usage", removal)
		a.vendorReadsUsage(p.Vendor, p.Quota)
		a.metering(c, p)
		if p.AuthRole != nil {
			a.quotaDeny(p.AuthRole, p.Bucket)
		}
	}
	a.operatorPolicy(c, awscdk.Stack_Of(c), p)
	acknowledge(a.acknowledgements(p.Bucket))
	return a
}

// vendorReadsUsage gives the vendor the quota and the usage table: it reads
// users' totals, and links logins to identities.
func (a *AbuseControl) vendorReadsUsage(tv *TokenVendor, quota contract.UserQuota) {
	for k, v := range quota.Env() {
		tv.AddEnvironment(k, jsii.String(v))
	}
	tv.AddEnvironment(contract.EnvUsageTable, a.Usage.TableName())
	vendor := tv.Function
	vendor.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadUsage"),
		Actions:   jsii.Strings("dynamodb:GetItem"),
		Resources: jsii.Strings(*a.Usage.TableArn()),
	}))
	// The login -> identity map only (usage.Store.Link): items whose
	// partition key starts with "login#", never a usage total.
	vendor.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("LinkLogins"),
		Actions:   jsii.Strings("dynamodb:PutItem"),
		Resources: jsii.Strings(*a.Usage.TableArn()),
		Conditions: &map[string]any{"ForAllValues:StringLike": map[string]any{
			"dynamodb:LeadingKeys": []string{"login#*"},
		}},
	}))
}

// quotaDeny refuses direct writes of a user over quota: the vendor tags the
// session (contract.TagQuota) at token issue, and this deny, on the role's
// own policy, refuses s3:PutObject (which covers multipart uploads and POST
// forms) to sessions tagged over. Reads and deletes stay, so the user can
// get back under. One statement for any number of users, unlike a deny list.
func (a *AbuseControl) quotaDeny(role awsiam.IRole, bucket awss3.Bucket) {
	awsiam.NewPolicy(a.Construct, jsii.String("QuotaDeny"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{role},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("NoWritesOverQuota"),
			Effect:    awsiam.Effect_DENY,
			Actions:   jsii.Strings("s3:PutObject"),
			Resources: jsii.Strings(*bucket.ArnForObjects(jsii.String("*"))),
			Conditions: &map[string]any{"StringEquals": map[string]any{
				contract.PrincipalTagContextKey(contract.TagQuota): contract.QuotaOver,
			}},
		})},
	})
}

// table is an on-demand table with the key schema of both tables (string
// pk, sk), point-in-time recovery, encryption with the AWS managed key
// (visible in the template; DynamoDB encrypts every table at rest), and
// TTL on contract.AttrTTL; retained in protected environments.
func table(c constructs.Construct, id string, removal awscdk.RemovalPolicy) awsdynamodb.Table {
	return awsdynamodb.NewTable(c, jsii.String(id), &awsdynamodb.TableProps{
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String(contract.AttrPK), Type: awsdynamodb.AttributeType_STRING},
		SortKey:             &awsdynamodb.Attribute{Name: jsii.String(contract.AttrSK), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
		TimeToLiveAttribute: jsii.String(contract.AttrTTL),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		RemovalPolicy: removal,
	})
}

// metering is the metering queue (the bucket's object events under the
// metered rules' bases: private/ and protected/ by default) with its
// dead-letter queue, and the function that drains it.
func (a *AbuseControl) metering(c constructs.Construct, p AbuseControlProps) {
	removal := removalPolicy(p.Retain)
	a.DeadLetters = awssqs.NewQueue(c, jsii.String("MeteringDeadLetters"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		RemovalPolicy:   removal,
	})
	a.Queue = awssqs.NewQueue(c, jsii.String("MeteringQueue"), &awssqs.QueueProps{
		// SQS-managed SSE: S3 can send to it without a KMS key policy.
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(4)),
		// Lambda: at least six times the function timeout.
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(6 * meteringTimeout.Seconds())),
		DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: a.DeadLetters, MaxReceiveCount: jsii.Number(MeteringMaxReceives)},
		RemovalPolicy:     removal,
	})
	dest := awss3notifications.NewSqsDestination(a.Queue)
	// The metered rules' bases (contract.Rules.MeteredRules: private/ and
	// protected/ by default); the function keeps the keys under their paths.
	for _, prefix := range contract.MeteredBases(p.AccessRules.MeteredRules()) {
		for _, ev := range []awss3.EventType{awss3.EventType_OBJECT_CREATED, awss3.EventType_OBJECT_REMOVED} {
			p.Bucket.AddEventNotification(ev, dest, &awss3.NotificationKeyFilter{Prefix: jsii.String(prefix)})
		}
	}
	a.meteringFunction(c, p)
}

// meteringEnvironment is what the metering function reads at start
// (lambda/cmd/metering); the rules only for a layout other than the
// default, which it knows.
func (a *AbuseControl) meteringEnvironment(c constructs.Construct, p AbuseControlProps) map[string]*string {
	env := map[string]*string{
		contract.EnvUsageTable:   a.Usage.TableName(),
		contract.EnvMetricsStack: awscdk.Stack_Of(c).StackName(),
	}
	if p.AccessRules.JSON() != contract.DefaultRules().JSON() {
		env[contract.EnvMeteredRules] = jsii.String(p.AccessRules.MeteredRulesEnv())
	}
	return env
}

// meteringFunction is the function that meters the queue's events into the
// usage table, its log group and role.
func (a *AbuseControl) meteringFunction(c constructs.Construct, p AbuseControlProps) {
	removal := removalPolicy(p.Retain)
	retention := logRetentionDays[int(p.LogRetention/config.Day)] // validated
	logs, role := logsAndRole(c, "MeteringLogs", "MeteringRole", "s3vend metering: S3 events into the usage table", retention, removal)
	a.MeteringLogs = logs
	// TransactWriteItems needs the permission of each action it carries
	// (PutItem, UpdateItem); the reads are BatchGetItem.
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("MeterUsage"),
		Actions:   jsii.Strings("dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
		Resources: jsii.Strings(*a.Usage.TableArn()),
	}))
	// The second Go function: the same local build and source-derived
	// asset hash as the vendor's (GoBuild.function).
	a.Metering = p.Build.function(c, "Metering", "s3vend metering: exact per-identity usage from S3 event notifications",
		role, logs, meteringTimeout, 256, a.meteringEnvironment(c, p))
	a.Metering.AddEventSource(awslambdaeventsources.NewSqsEventSource(a.Queue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(MeteringBatchSize),
		MaxBatchingWindow:       awscdk.Duration_Seconds(jsii.Number(MeteringBatchWindow.Seconds())),
		ReportBatchItemFailures: jsii.Bool(true),
	}))
}

// operatorStatements are the operator policy's grants, each on this stack's
// own resources: its outputs, the revocation (and usage) tables, the pool,
// the revocation policies under RevocationPolicyPath and the pool's roles,
// and revoked users' objects.
func (a *AbuseControl) operatorStatements(stack awscdk.Stack, p AbuseControlProps, policyArns *string, roleArns, tables *[]*string) []awsiam.PolicyStatement {
	var objects []*string
	var prefixes []string
	for _, base := range p.AccessRules.OwnedBases() {
		objects = append(objects, p.Bucket.ArnForObjects(jsii.String(base+"*")))
		prefixes = append(prefixes, base+"*")
	}
	statements := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("ReadStackOutputs"), Actions: jsii.Strings("cloudformation:DescribeStacks"),
			Resources: jsii.Strings(*stack.StackId()),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("RecordRevocations"),
			Actions:   jsii.Strings("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:Scan"),
			Resources: jsii.Strings(*a.Revocations.TableArn()),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("ReadUsage"), Actions: jsii.Strings("dynamodb:GetItem"),
			Resources: tables,
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("UnlinkAndRelinkIdentities"),
			Actions: jsii.Strings("cognito-identity:LookupDeveloperIdentity", "cognito-identity:UnlinkDeveloperIdentity",
				"cognito-identity:DeleteIdentities", "cognito-identity:GetOpenIdTokenForDeveloperIdentity"),
			Resources: jsii.Strings(*p.PoolARN),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("MaintainRevocationDenyPolicies"),
			Actions: jsii.Strings("iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:ListPolicyVersions",
				"iam:GetPolicy", "iam:GetPolicyVersion", "iam:DeletePolicy"),
			Resources: jsii.Strings(*policyArns),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("AttachOnlyRevocationPolicies"), Actions: jsii.Strings("iam:AttachRolePolicy", "iam:DetachRolePolicy"),
			Resources:  roleArns,
			Conditions: &map[string]any{"ArnLike": map[string]any{"iam:PolicyARN": *policyArns}},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("SeeRoleAttachments"), Actions: jsii.Strings("iam:ListAttachedRolePolicies"), Resources: roleArns,
		}),
	}
	count := awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("CountRevocations"), Actions: jsii.Strings("cloudwatch:PutMetricData"), Resources: jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"cloudwatch:namespace": contract.MetricNamespace}},
	})
	if len(objects) == 0 { // a layout of no owned rules: no user's objects to delete
		return append(statements, count)
	}
	return append(statements,
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("DeleteRevokedUsersObjects"), Actions: jsii.Strings("s3:DeleteObject"), Resources: &objects,
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("ListRevokedUsersObjects"), Actions: jsii.Strings("s3:ListBucket"), Resources: jsii.Strings(*p.Bucket.BucketArn()),
			// Only the prefixes --delete-objects lists: the owned rules'
			// bases (s3:prefix, "Condition keys for Amazon S3", Service
			// Authorization Reference).
			Conditions: &map[string]any{"StringLike": map[string]any{"s3:prefix": prefixes}},
		}),
		count)
}

// acknowledgements are the accepted findings of abuse control: its own
// resources, and the two that CDK adds to the bucket and the stack for the
// bucket's event notifications.
func (a *AbuseControl) acknowledgements(bucket awss3.Bucket) []ack {
	rows := []ack{nagAck(a.Operator, "AwsSolutions-IAM5", "Scoped wildcards only: the revocation policies under this stack's own IAM path, users' objects under "+
		"the owned access rules' prefixes (private/ and protected/ by default; deleted only with --delete-objects), and PutMetricData, which has no resource, limited to the S3Vend namespace.")}
	if a.Metering == nil {
		return rows
	}
	rows = append(rows,
		guardAck(a.DeadLetters, "sqs_dlq_check", "This is the metering queue's dead-letter queue: a message that failed metering five times waits here (14 days, alarm MeteringDeadLetters) to be redriven; a queue behind it would only hide it."),
		nagAck(a.DeadLetters, "AwsSolutions-SQS3", "This is the metering queue's dead-letter queue."),
		guardAck(a.MeteringLogs, "cloudwatch_log_group_retention_period_check", "Retention is the environment's logRetention setting (default 30 days) to bound cost."),
		guardAck(a.MeteringLogs, "cloudwatch_log_group_encrypted_check", "CloudWatch Logs encrypts at rest with service keys; the log holds identity ids and byte counts, no credentials."),
		guardAck(a.Metering, "lambda_inside_vpc_check", "The function reaches only DynamoDB's public endpoint; a VPC would add NAT or endpoint cost and no isolation."),
	)
	if n := bucket.Node().TryFindChild(jsii.String("Notifications")); n != nil {
		rows = append(rows, lintAck(n, "W3005", "CDK's BucketNotifications depends on the queue and its policy explicitly; the queue dependency is also a QueueArn GetAtt, the policy one is needed (S3 validates the destination against the queue policy)."))
	}
	// CDK writes the bucket's notification configuration with its
	// BucketNotificationsHandler (a singleton Lambda of the stack): the
	// bucket and the queue policy would otherwise reference each other.
	h := awscdk.Stack_Of(a.Construct).Node().TryFindChild(jsii.String(bucketNotificationsHandler))
	if h == nil {
		return rows
	}
	rows = append(rows, nagAck(h, "AwsSolutions-IAM4", "CDK's own BucketNotificationsHandler (it sets the bucket's notification configuration at deploy) "+
		"uses AWSLambdaBasicExecutionRole for its logs; it runs only during deployments.").
		only(jsii.String("Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")).withChildren())
	if h.Node().DefaultChild() != nil {
		rows = append(rows,
			lintAck(h, "W3005", "CDK's own BucketNotificationsHandler function depends on its role explicitly as well as through the Role GetAtt; the redundant ordering is CDK's, harmless, and not ours to rewrite."),
			guardAck(h, "lambda_inside_vpc_check", "CDK's deploy-time BucketNotificationsHandler calls only S3's public API (PutBucketNotificationConfiguration); a VPC would add NAT cost and no isolation."),
		)
	}
	return rows
}

// operatorPolicy is the least privilege of `s3vend admin` (docs/abuse-control.md,
// "Operators"): a managed policy the stack creates but attaches to nobody;
// the team attaches it to its operators' role or group. The CI deploy roles
// (NewGitHubDeployRoles) never get it.
func (a *AbuseControl) operatorPolicy(c constructs.Construct, stack awscdk.Stack, p AbuseControlProps) {
	policyArns := stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("iam"), Region: jsii.String(""), Resource: jsii.String("policy"),
		ResourceName: jsii.String(RevocationPolicyPath[1:] + *stack.StackName() + "/*"),
		ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})
	roleArns := make([]*string, len(p.Roles))
	for i, r := range p.Roles {
		roleArns[i] = r.RoleArn()
	}
	tables := []*string{a.Revocations.TableArn()}
	if a.Usage != nil {
		tables = append(tables, a.Usage.TableArn())
	}
	statements := a.operatorStatements(stack, p, policyArns, &roleArns, &tables)
	a.Operator = awsiam.NewManagedPolicy(c, jsii.String("OperatorPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("s3vend admin (revoke, unrevoke, revoked, usage) for " + *stack.StackName() + ": attach to operators, not to CI"),
		Statements:  &statements,
	})
}
