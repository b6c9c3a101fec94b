package contract

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Abuse control (docs/abuse-control.md): user revocation and per-user
// storage quotas. The stack (infra.NewAbuseControl) creates two DynamoDB
// tables and names them to the token vendor and the metering function in
// these variables; the s3vend CLI finds them in the stack's outputs.
const (
	// EnvRevocationsTable is the revocation table; the vendor refuses
	// revoked users. Unset: no revocation check (a stack from before it).
	EnvRevocationsTable = "S3VEND_REVOCATIONS_TABLE"
	// EnvRevocationRefresh is how often, in seconds, an instance re-reads
	// the revocation table's generation (default DefaultRevocationRefresh).
	EnvRevocationRefresh = "S3VEND_REVOCATION_REFRESH_SECONDS"
	// EnvUsageTable is the per-identity usage table the metering function
	// writes and the vendor reads. Unset: no quota.
	EnvUsageTable = "S3VEND_USAGE_TABLE"
	// EnvQuotaMaxBytes and EnvQuotaMaxObjects are the per-user quota
	// ("userQuota" in cdk.json); 0 or unset: no limit of that kind.
	EnvQuotaMaxBytes   = "S3VEND_QUOTA_MAX_BYTES"
	EnvQuotaMaxObjects = "S3VEND_QUOTA_MAX_OBJECTS"
)

// Revocation check timing. An instance serves from its own view of the
// revocation table and re-reads the table's generation item when the view
// is older than the refresh interval, so a revocation reaches every
// instance within the interval (plus one DynamoDB read). When the table
// cannot be read, an instance keeps its last good view for at most
// RevocationMaxStale, then refuses logins (fail closed): a revoked user
// must never get a fresh identity because DynamoDB was unreachable.
const (
	DefaultRevocationRefresh = 15 * time.Second
	MinRevocationRefresh     = time.Second
	MaxRevocationRefresh     = 60 * time.Second
	RevocationMaxStale       = 5 * time.Minute
)

// Metrics of abuse control (namespace MetricNamespace, dimension Stack).
const (
	// MetricRevocations is 1 per `s3vend admin revoke` (and 0 per unrevoke,
	// so the metric exists), emitted by the CLI.
	MetricRevocations = "Revocations"
	// MetricMeteredEvents is 1 per S3 event the metering function applied;
	// MetricStaleEvents 1 per event it dropped as a duplicate or out of
	// order (an older sequencer than the one recorded).
	MetricMeteredEvents = "MeteredEvents"
	MetricStaleEvents   = "StaleEvents"
)

// The metering function's per-identity log line (JSON, one per identity
// whose totals a batch moved), which the dashboard's "Top identities"
// Logs Insights query ranks: message MeteringUsageLog with these fields.
const (
	MeteringUsageLog     = "usage"
	LogFieldIdentityID   = "identityId"
	LogFieldDeltaBytes   = "deltaBytes"
	LogFieldDeltaObjects = "deltaObjects"
)

// Key layout of the two tables: a string partition key "pk" and a string
// sort key "sk" (both tables; docs/abuse-control.md, "Tables").
const (
	AttrPK = "pk"
	AttrSK = "sk"
	// AttrTTL is the tables' TimeToLive attribute (epoch seconds): usage
	// tombstones and pruned revocation deny windows.
	AttrTTL = "ttl"
)

// RevocationPolicyPath is the IAM path of the customer managed policies
// that `s3vend admin revoke` creates, outside CloudFormation, to deny
// revoked identities' credentials (docs/abuse-control.md, "Where the deny
// lives"); a stack's policies are under RevocationPolicyPath + <stack>/.
// The stack's operator policy grants IAM actions on that path only, so the
// CLI and the stack must name the same one.
const RevocationPolicyPath = "/s3vend-revocations/"

// Stack outputs of a userQuota environment that `s3vend admin usage` shows
// beside each identity's usage (absent or "0": no such limit).
const (
	OutputUserQuotaMaxBytes   = "UserQuotaMaxBytes"
	OutputUserQuotaMaxObjects = "UserQuotaMaxObjects"
)

// UserQuota is the "userQuota" key: how much one signed-in identity may
// keep under its own private/<id>/ and protected/<id>/ prefixes (current
// object versions; docs/abuse-control.md, "Versioned buckets"). Off when
// both limits are 0.
type UserQuota struct {
	MaxBytes   int64 // 0: no byte limit
	MaxObjects int64 // 0: no object-count limit
}

// Bounds of UserQuota.
const (
	MinQuotaBytes   int64 = 1 << 20 // 1 MiB
	MaxQuotaBytes   int64 = 1 << 50 // 1 PiB
	MaxQuotaObjects int64 = 1 << 40
)

// Enabled reports whether either limit is set.
func (q UserQuota) Enabled() bool { return q.MaxBytes > 0 || q.MaxObjects > 0 }

// Check validates q; the errors are FieldErrors of maxBytes and maxObjects.
func (q UserQuota) Check() error {
	var errs FieldErrors
	if q.MaxBytes != 0 && (q.MaxBytes < MinQuotaBytes || q.MaxBytes > MaxQuotaBytes) {
		errs.Add("maxBytes", "%d must be from %d (1 MiB) to %d bytes", q.MaxBytes, MinQuotaBytes, MaxQuotaBytes)
	}
	if q.MaxObjects < 0 || q.MaxObjects > MaxQuotaObjects {
		errs.Add("maxObjects", "%d must be from 1 to %d objects", q.MaxObjects, MaxQuotaObjects)
	}
	return errs.Err()
}

// Env returns the variables that carry q to the vendor.
func (q UserQuota) Env() map[string]string {
	return map[string]string{
		EnvQuotaMaxBytes:   strconv.FormatInt(q.MaxBytes, 10),
		EnvQuotaMaxObjects: strconv.FormatInt(q.MaxObjects, 10),
	}
}

var quotaEnvNames = map[string]string{"maxBytes": EnvQuotaMaxBytes, "maxObjects": EnvQuotaMaxObjects}

// ParseUserQuotaEnv reads S3VEND_QUOTA_MAX_BYTES and S3VEND_QUOTA_MAX_OBJECTS
// (unset or 0: no limit of that kind) and checks them; errors name the
// variable.
func ParseUserQuotaEnv(getenv func(string) string) (UserQuota, error) {
	var q UserQuota
	var errs []error
	for _, f := range []struct {
		env string
		dst *int64
	}{{EnvQuotaMaxBytes, &q.MaxBytes}, {EnvQuotaMaxObjects, &q.MaxObjects}} {
		if v := getenv(f.env); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: must be a whole number", f.env))
				continue
			}
			*f.dst = n
		}
	}
	if len(errs) > 0 {
		return UserQuota{}, errors.Join(errs...)
	}
	var fields FieldErrors
	if errors.As(q.Check(), &fields) {
		for _, f := range fields {
			errs = append(errs, fmt.Errorf("%s: %s", quotaEnvNames[f.Field], f.Message))
		}
		return UserQuota{}, errors.Join(errs...)
	}
	return q, nil
}

// ParseRevocationRefreshEnv reads S3VEND_REVOCATION_REFRESH_SECONDS (unset:
// DefaultRevocationRefresh).
func ParseRevocationRefreshEnv(getenv func(string) string) (time.Duration, error) {
	v := getenv(EnvRevocationRefresh)
	if v == "" {
		return DefaultRevocationRefresh, nil
	}
	n, err := strconv.Atoi(v)
	d := time.Duration(n) * time.Second
	if err != nil || d < MinRevocationRefresh || d > MaxRevocationRefresh {
		return 0, fmt.Errorf("%s: must be a whole number of seconds from %d to %d", EnvRevocationRefresh,
			int(MinRevocationRefresh/time.Second), int(MaxRevocationRefresh/time.Second))
	}
	return d, nil
}
