package httpapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/akrylysov/algnhsa"
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// NewLambdaHandler adapts h to API Gateway HTTP API (payload v2) events with
// algnhsa. Events the adapter cannot turn into a request get a 400 in the
// API's error shape instead of a Lambda error.
func NewLambdaHandler(h http.Handler) lambda.Handler {
	return lambdaHandler{inner: algnhsa.New(h, &algnhsa.Options{RequestType: algnhsa.RequestTypeAPIGatewayV2})}
}

type lambdaHandler struct{ inner lambda.Handler }

func (l lambdaHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	out, err := l.inner.Invoke(ctx, payload)
	if err == nil {
		return out, nil
	}
	return json.Marshal(events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusBadRequest,
		Headers:    map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
		Body:       `{"error":{"code":"invalid_request","message":"The request could not be decoded."}}`,
	})
}
