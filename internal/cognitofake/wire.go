package cognitofake

import (
	"encoding/json"
	"net/http"
	"time"
)

// Target is the X-Amz-Target prefix of Cognito Identity's operations (AWS
// JSON 1.1: POST /, X-Amz-Target: AWSCognitoIdentityService.<Op>).
const Target = "AWSCognitoIdentityService."

// JSONContentType is the Content-Type of AWS JSON 1.1 answers.
const JSONContentType = "application/x-amz-json-1.1"

// WriteError writes an AWS JSON 1.1 error answer: {"__type": code,
// "message": message} with the code in X-Amzn-Errortype, as the SDKs read it.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", JSONContentType)
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": message})
}

// Credentials are the AWS credentials of a GetCredentialsForIdentity answer.
type Credentials struct {
	AccessKeyID, SecretKey, SessionToken string
	Expiration                           time.Time
}

// CredentialsOutput is GetCredentialsForIdentity's answer body for
// identityID. JSON 1.1 timestamps are epoch seconds (a fraction for the
// milliseconds, none for a whole second).
func CredentialsOutput(identityID string, c Credentials) map[string]any {
	return map[string]any{
		"IdentityId": identityID,
		"Credentials": map[string]any{
			"AccessKeyId":  c.AccessKeyID,
			"SecretKey":    c.SecretKey,
			"SessionToken": c.SessionToken,
			"Expiration":   float64(c.Expiration.UnixMilli()) / 1000,
		},
	}
}
