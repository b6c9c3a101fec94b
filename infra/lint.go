package infra

import (
	"fmt"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

// dropRoleDependsOn removes the function's DependsOn on its own role, which
// cfn-lint reports as redundant (W3005: the function's Role property is a
// Fn::GetAtt of the role, which already orders them). lambda.Function adds
// it by depending on the whole role construct (the role and its default
// policy). The DependsOn is rendered lazily, after CDK has resolved every
// construct dependency, as all of them but the role: the default policy and
// anything added later stay.
func dropRoleDependsOn(fn awslambda.Function, role awsiam.Role) {
	cfnFn := cfnResourceOf(fn)
	rolePath := *role.Node().DefaultChild().Node().Path()
	cfnFn.AddOverride(jsii.String("DependsOn"), awscdk.Lazy_Any(&dependsOnWithout{cfnFn, rolePath}, &awscdk.LazyAnyValueOptions{OmitEmptyArray: jsii.Bool(true)}))
}

// dependsOnWithout produces the logical ids of res's dependencies, except
// the resource at path skip, sorted as CDK renders DependsOn.
type dependsOnWithout struct {
	res  awscdk.CfnResource
	skip string
}

func (d *dependsOnWithout) Produce() any {
	var ids []string
	for _, dep := range *d.res.ObtainDependencies() {
		r, ok := dep.(awscdk.CfnResource)
		if !ok || *r.Node().Path() == d.skip {
			continue
		}
		switch id := awscdk.Stack_Of(r).Resolve(r.LogicalId()).(type) {
		case string:
			ids = append(ids, id)
		case *string:
			ids = append(ids, *id)
		default:
			panic(fmt.Sprintf("infra: logical id of %s resolved to %T", *r.Node().Path(), id))
		}
	}
	sort.Strings(ids)
	return ids
}
