package test

import (
	"slices"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/infra"
)

// TestNoStackResourceHoldsTheRevocationList: the revocation deny lives in
// policies the CLI owns (docs/abuse-control.md, "Where the deny lives"), so
// nothing CloudFormation owns may hold or shape it: no resource names the
// CLI's IAM path, no statement denies everything by identity, the pool's
// roles declare no ManagedPolicyArns or inline Policies (CloudFormation
// would then own their whole set and detach the CLI's), and the operators'
// policy is attached to nobody.
func TestNoStackResourceHoldsTheRevocationList(t *testing.T) {
	for _, stack := range allStacks(t) {
		t.Run(stack, func(t *testing.T) {
			tpl := stackTemplate(t, stack)
			for id, r := range tpl["Resources"].(map[string]any) {
				s := mustJSON(r)
				if strings.Contains(s, strings.Trim(infra.RevocationPolicyPath, "/")) && !strings.HasPrefix(id, "AbuseControlOperatorPolicy") {
					t.Errorf("%s names the CLI's revocation policy path", id)
				}
				rp, _ := r.(map[string]any)["Properties"].(map[string]any)
				if rp["PolicyDocument"] == nil {
					continue
				}
				for _, st := range statements(t, rp["PolicyDocument"]) {
					if st["Effect"] == "Deny" && mustJSON(st["Action"]) == `"*"` && strings.Contains(mustJSON(st["Condition"]), ":sub") {
						t.Errorf("%s holds a deny by identity: %s", id, mustJSON(st))
					}
				}
			}
			for id, role := range resources(tpl, "AWS::IAM::Role") {
				if !strings.HasPrefix(id, "Identity") {
					continue
				}
				if p := props(role); p["ManagedPolicyArns"] != nil || p["Policies"] != nil {
					t.Errorf("pool role %s declares ManagedPolicyArns or Policies: a deploy would own its attachments", id)
				}
			}
			_, op := only(t, tpl, "AWS::IAM::ManagedPolicy")
			for _, k := range []string{"Roles", "Users", "Groups"} {
				if props(op)[k] != nil {
					t.Errorf("the operators' policy is attached (%s): it must be attached by the team, to operators only", k)
				}
			}
		})
	}
}

// TestAbuseControlTables: every stack has the revocation table, on demand,
// with point-in-time recovery, encryption and TTL, retained in protected
// environments; the usage table, the queue, its dead-letter queue, the
// bucket notifications and the metering function exist exactly when
// userQuota is on.
func TestAbuseControlTables(t *testing.T) {
	for _, stack := range allStacks(t) {
		t.Run(stack, func(t *testing.T) {
			tpl := stackTemplate(t, stack)
			env := envConfig(t, strings.TrimPrefix(stack, "S3Vend-"))
			tables := resources(tpl, "AWS::DynamoDB::Table")
			want := 1
			if env.UserQuota.Enabled() {
				want = 2
			}
			if len(tables) != want {
				t.Fatalf("%d tables, want %d (userQuota %+v)", len(tables), want, env.UserQuota)
			}
			for id, tb := range tables {
				p := props(tb)
				if p["BillingMode"] != "PAY_PER_REQUEST" || mustJSON(p["PointInTimeRecoverySpecification"]) != `{"PointInTimeRecoveryEnabled":true}` ||
					mustJSON(p["SSESpecification"]) != `{"SSEEnabled":true}` || mustJSON(p["TimeToLiveSpecification"]) != `{"AttributeName":"ttl","Enabled":true}` {
					t.Errorf("%s: %s", id, mustJSON(p))
				}
				if keys := mustJSON(p["KeySchema"]); keys != `[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}]` {
					t.Errorf("%s key schema %s", id, keys)
				}
				if retained := tb["DeletionPolicy"] == "Retain"; retained != env.Retain {
					t.Errorf("%s retained = %v, environment retain = %v", id, retained, env.Retain)
				}
			}
			_, vendor := tokenVendorFunction(t, tpl)
			vars := props(vendor)["Environment"].(map[string]any)["Variables"].(map[string]any)
			if vars[contract.EnvRevocationsTable] == nil {
				t.Errorf("the vendor is not given the revocation table")
			}
			q, err := contract.ParseUserQuotaEnv(func(k string) string { s, _ := vars[k].(string); return s })
			if err != nil || q != env.UserQuota {
				t.Errorf("quota env reads back as %+v (%v), want %+v", q, err, env.UserQuota)
			}
			n := len(resources(tpl, "Custom::S3BucketNotifications")) + len(resources(tpl, "AWS::SQS::Queue")) + len(resources(tpl, "AWS::Lambda::EventSourceMapping"))
			if !env.UserQuota.Enabled() {
				if n != 0 {
					t.Errorf("no userQuota, but %d notification, queue or event source resources", n)
				}
				return
			}
			_, notif := only(t, tpl, "Custom::S3BucketNotifications")
			cfgs := mustJSON(props(notif)["NotificationConfiguration"])
			// One pair per metered rule's base: private/ and protected/ by
			// default, avatars/ and members/ in the rules layout.
			bases := contract.MeteredBases(env.Access.MeteredRules())
			if n := strings.Count(cfgs, `"Events"`); n != 2*len(bases) {
				t.Errorf("%d notifications, want 2 for each of %v: %s", n, bases, cfgs)
			}
			for _, prefix := range bases {
				for _, ev := range []string{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"} {
					if !strings.Contains(cfgs, `{"Events":["`+ev+`"],"Filter":{"Key":{"FilterRules":[{"Name":"prefix","Value":"`+prefix+`"}]}}`) {
						t.Errorf("no %s notification for %s: %s", ev, prefix, cfgs)
					}
				}
			}
			_, esm := only(t, tpl, "AWS::Lambda::EventSourceMapping")
			if p := props(esm); p["BatchSize"] != float64(infra.MeteringBatchSize) || mustJSON(p["FunctionResponseTypes"]) != `["ReportBatchItemFailures"]` {
				t.Errorf("event source mapping: %s", mustJSON(p))
			}
			// The metering role: its logs and exactly the usage writes.
			var actions []string
			for _, pol := range resources(tpl, "AWS::IAM::Policy") {
				if !strings.Contains(mustJSON(props(pol)["Roles"]), "AbuseControlMeteringRole") {
					continue
				}
				for _, s := range statements(t, props(pol)["PolicyDocument"]) {
					actions = append(actions, strs(s["Action"])...)
				}
			}
			slices.Sort(actions)
			wantActions := []string{"dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "logs:CreateLogStream", "logs:PutLogEvents",
				"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"}
			if !slices.Equal(actions, wantActions) {
				t.Errorf("metering role may do %v, want %v", actions, wantActions)
			}
			// The direct-path quota: a deny of PutObject on the tag, and the
			// trust allows the tag.
			deny := false
			for _, pol := range resources(tpl, "AWS::IAM::Policy") {
				for _, s := range statements(t, props(pol)["PolicyDocument"]) {
					if s["Sid"] == "NoWritesOverQuota" && s["Effect"] == "Deny" && s["Action"] == "s3:PutObject" &&
						mustJSON(s["Condition"]) == `{"StringEquals":{"aws:PrincipalTag/s3vend-quota":"over"}}` &&
						strings.Contains(mustJSON(props(pol)["Roles"]), "IdentityAuthenticatedRole") {
						deny = true
					}
				}
			}
			if !deny {
				t.Error("no NoWritesOverQuota deny on the authenticated role")
			}
			if !strings.Contains(mustJSON(vars[contract.EnvSessionTags]), contract.TagQuota) {
				t.Errorf("the vendor does not set %s: %v", contract.TagQuota, vars[contract.EnvSessionTags])
			}
		})
	}
}
