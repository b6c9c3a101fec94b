package standin

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// CloudWatch stands for CloudWatch's PutMetricData, the one CloudWatch
// call `s3vend admin` makes (the Revocations metric). aws-sdk-go-v2's
// CloudWatch client speaks Smithy RPC v2 CBOR (service/cloudwatch
// api_client.go: rpcv2.NewCBOR(GraniteServiceVersion20100801)), which
// moto's server does not: a POST to
// /service/GraniteServiceVersion20100801/operation/<Operation> with
// Smithy-Protocol: rpc-v2-cbor and a CBOR body ("Smithy RPC v2 CBOR
// protocol", https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html).
// Requests must be SigV4-signed for "monitoring" in the stack's region by
// a known session whose policies allow cloudwatch:PutMetricData in the
// request's namespace (IAM, callAuthorizer: the operator policy's
// CountRevocations statement); other operations are refused.
type CloudWatch struct {
	URL string

	stack *Stack
	srv   *Server
	mu    sync.Mutex
	data  []MetricDatum
}

// MetricDatum is one datum PutMetricData received.
type MetricDatum struct {
	Namespace, Name, Unit string
	Value                 float64
	Dimensions            map[string]string
}

const cloudWatchService = "/service/GraniteServiceVersion20100801/operation/"

// StartCloudWatch serves PutMetricData for the stack's sessions.
func (s *Stack) StartCloudWatch() (*CloudWatch, error) {
	c := &CloudWatch{stack: s}
	srv, err := ServeTLS(c, s.ca)
	if err != nil {
		return nil, err
	}
	c.srv, c.URL = srv, srv.URL
	return c, nil
}

// Close stops the server.
func (c *CloudWatch) Close() error { return c.srv.Close() }

// Data lists the datums received so far.
func (c *CloudWatch) Data() []MetricDatum {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]MetricDatum(nil), c.data...)
}

func (c *CloudWatch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("X-Amzn-Requestid", requestIDString())
	sess, anonymous, body, e := VerifySigV4(r, "monitoring", c.stack.Region, c.stack.Sessions, time.Now())
	if e == nil && anonymous {
		e = &AWSError{http.StatusBadRequest, "MissingAuthenticationToken", "Request is missing Authentication Token"}
	}
	if e != nil {
		writeCBORError(w, e)
		return
	}
	defer body.Close()
	if r.Method != http.MethodPost || r.URL.Path != cloudWatchService+"PutMetricData" || r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
		writeCBORError(w, &AWSError{http.StatusBadRequest, "UnknownOperationException", "the stand-in implements only PutMetricData over rpc-v2-cbor, not " + r.Method + " " + r.URL.Path})
		return
	}
	var in io.Reader = body
	// PutMetricData accepts gzip request bodies, and the SDK compresses
	// them: aws-sdk-go-v2 service/cloudwatch adds request compression to
	// PutMetricData unless DisableRequestCompression (api_client.go),
	// for bodies of at least RequestMinCompressSizeBytes, which
	// config.LoadDefaultConfig sets to 10240 (config/env_config.go) and a
	// client made with cloudwatch.New and no config leaves at 0: every
	// body. The signature covers the compressed bytes.
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			writeCBORError(w, &AWSError{http.StatusBadRequest, "SerializationException", "Content-Encoding gzip, but the body is not gzip"})
			return
		}
		in = zr
	}
	b, err := io.ReadAll(io.LimitReader(in, maxJSONBody))
	if err != nil {
		writeCBORError(w, &AWSError{http.StatusBadRequest, "SerializationException", "the request body could not be read"})
		return
	}
	data, err := putMetricData(b)
	if err != nil {
		writeCBORError(w, &AWSError{http.StatusBadRequest, "InvalidParameterValue", err.Error()})
		return
	}
	// PutMetricData has no resource types; its one condition key is the
	// request's namespace (Service Authorization Reference, Amazon
	// CloudWatch: cloudwatch:namespace), which the operator policy names.
	ok, err := c.stack.calls.allow(sess, "cloudwatch:PutMetricData", "*", nil, map[string]any{"cloudwatch:namespace": data[0].Namespace})
	if err != nil {
		writeCBORError(w, &AWSError{http.StatusInternalServerError, "InternalFailure", "standin: IAM evaluation failed: " + err.Error()})
		return
	}
	if !ok {
		writeCBORError(w, &AWSError{http.StatusForbidden, "AccessDenied", "not authorized to perform: cloudwatch:PutMetricData in namespace " + data[0].Namespace})
		return
	}
	c.mu.Lock()
	c.data = append(c.data, data...)
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/cbor")
	_, _ = w.Write(cbor.Encode(cbor.Map{}))
}

// putMetricData decodes PutMetricData's input: Namespace and MetricData
// (MetricName, Value, Unit, Dimensions of Name and Value), each required.
func putMetricData(b []byte) ([]MetricDatum, error) {
	v, err := cbor.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("the body is not CBOR: %v", err)
	}
	in, _ := v.(cbor.Map)
	ns, _ := in["Namespace"].(cbor.String)
	list, _ := in["MetricData"].(cbor.List)
	if ns == "" || len(list) == 0 {
		return nil, fmt.Errorf("PutMetricData needs Namespace and MetricData")
	}
	var out []MetricDatum
	for _, item := range list {
		m, _ := item.(cbor.Map)
		d := MetricDatum{Namespace: string(ns), Dimensions: map[string]string{}}
		name, _ := m["MetricName"].(cbor.String)
		unit, _ := m["Unit"].(cbor.String)
		d.Name, d.Unit = string(name), string(unit)
		if d.Value, err = cbor.AsFloat64(m["Value"]); err != nil || d.Name == "" {
			return nil, fmt.Errorf("a datum needs MetricName and Value")
		}
		dims, _ := m["Dimensions"].(cbor.List)
		for _, dim := range dims {
			dm, _ := dim.(cbor.Map)
			k, _ := dm["Name"].(cbor.String)
			val, _ := dm["Value"].(cbor.String)
			if k == "" || val == "" {
				return nil, fmt.Errorf("a dimension needs Name and Value")
			}
			d.Dimensions[string(k)] = string(val)
		}
		out = append(out, d)
	}
	return out, nil
}

// writeCBORError answers an RPC v2 CBOR error: the status and a map with
// __type and message.
func writeCBORError(w http.ResponseWriter, e *AWSError) {
	w.Header().Set("Content-Type", "application/cbor")
	w.WriteHeader(e.Status)
	_, _ = w.Write(cbor.Encode(cbor.Map{"__type": cbor.String(e.Code), "message": cbor.String(e.Message)}))
}
