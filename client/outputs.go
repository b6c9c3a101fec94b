package client

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/s3vend/s3vend/contract"
)

// Outputs are the outputs of one S3Vend-<env> stack, as written by
// `cdk deploy --outputs-file`.
type Outputs struct {
	Stack                 string
	Region                string
	BucketName            string
	TokenEndpoint         string
	IdentityPoolID        string
	LoginKey              string
	DeveloperProviderName string
	// AccessRules is the AccessRules output: the layout's rules as JSON
	// (Rules decodes it); "" for a stack from before access rules.
	AccessRules string
	// All holds every output of the stack by name.
	All map[string]string
}

// Rules are the stack's access rules (the AccessRules output), for Key; a
// stack from before access rules has the default layout.
func (o Outputs) Rules() (contract.Rules, error) {
	if o.AccessRules == "" {
		return contract.DefaultRules(), nil
	}
	rules, err := contract.ParseRules([]byte(o.AccessRules))
	if err != nil {
		return nil, fmt.Errorf("outputs of %s: %s: %w", o.Stack, contract.OutputAccessRules, err)
	}
	return rules, nil
}

// LoadOutputs reads a `cdk deploy --outputs-file` JSON document
// ({"S3Vend-dev": {"Region": ..., "TokenEndpoint": ...}, ...}) and returns
// the outputs of stack; an empty stack selects the only stack in the file.
func LoadOutputs(path, stack string) (Outputs, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Outputs{}, fmt.Errorf("outputs file: %w", err)
	}
	var doc map[string]map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return Outputs{}, fmt.Errorf("outputs file %s: not a cdk --outputs-file document: %w", path, err)
	}
	names := make([]string, 0, len(doc))
	for name := range doc {
		names = append(names, name)
	}
	slices.Sort(names)
	if stack == "" {
		if len(names) != 1 {
			return Outputs{}, fmt.Errorf("outputs file %s: has stacks [%s]; choose one with --stack", path, strings.Join(names, ", "))
		}
		stack = names[0]
	}
	raw, ok := doc[stack]
	if !ok {
		return Outputs{}, fmt.Errorf("outputs file %s: no stack %q (has [%s])", path, stack, strings.Join(names, ", "))
	}
	all := make(map[string]string, len(raw))
	for k, v := range raw {
		if s, ok := v.(string); ok {
			all[k] = s
		} else {
			all[k] = fmt.Sprint(v)
		}
	}
	o, err := OutputsFrom(stack, all)
	if err != nil {
		return Outputs{}, fmt.Errorf("outputs file %s: %w", path, err)
	}
	return o, nil
}

// OutputsFrom maps one stack's outputs by name (an outputs file's entry, or
// CloudFormation DescribeStacks' Outputs) to Outputs, checking what a client
// cannot do without: the TokenEndpoint output and well-formed access rules.
func OutputsFrom(stack string, all map[string]string) (Outputs, error) {
	o := Outputs{
		Stack:                 stack,
		Region:                all["Region"],
		BucketName:            all["BucketName"],
		TokenEndpoint:         all["TokenEndpoint"],
		IdentityPoolID:        all["IdentityPoolId"],
		LoginKey:              all["LoginKey"],
		DeveloperProviderName: all["DeveloperProviderName"],
		AccessRules:           all[contract.OutputAccessRules],
		All:                   all,
	}
	if o.TokenEndpoint == "" {
		return Outputs{}, fmt.Errorf("stack %s has no TokenEndpoint output", stack)
	}
	if _, err := o.Rules(); err != nil {
		return Outputs{}, err
	}
	return o, nil
}
