// Evaluates a batch of IAM requests with @cloud-copilot/iam-simulate.
//
// Dev-only test tool: iam-simulate is AGPL-3.0 and is a devDependency used by
// the access-matrix test alone; it is never bundled into or shipped with s3vend.
//
// stdin:  {"policies": {name: policyDocument},
//          "simulations": [{"principal": arn | null (anonymous), "action", "resource",
//                           "resourceAccount", "identityPolicies": [name],
//                           "resourcePolicy": name | null, "resourcePolicyDocument": doc | null,
//                           "attachedPolicies": {name: doc}, "context": {key: value},
//                           "blockPublicAccess": bool}]}
// stdout: {"results": ["Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied", ...]}
//
// With --serve it stays up for many requests (the S3 stand-in's authorizer):
// JSON lines on stdin, the first {"policies": {...}}, then one simulation per
// line; one line per simulation on stdout, {"result": ...} or {"error": ...},
// in order.
//
// runUnsafeSimulation is the entry point that evaluates policy variables such as
// ${cognito-identity.amazonaws.com:sub} against the request context, but in
// 0.1.173 it loads the resource policy without a name (loadPolicy(doc) with no
// metadata) and the core engine then reads resourcePolicy.metadata().name and
// throws. So this script does what runUnsafeSimulation does, calling the core
// engine's authorize() directly, with every policy loaded under a name.
import { loadPolicy } from '@cloud-copilot/iam-policy';

// The package exports only its index; reach the internal modules by file URL.
const dist = import.meta.resolve('@cloud-copilot/iam-simulate');
const internal = (path) => import(new URL(path, dist).href);
const { authorize } = await internal('./core_engine/CoreSimulatorEngine.js');
const { AwsRequestImpl } = await internal('./request/request.js');
const { RequestContextImpl } = await internal('./requestContext.js');
const { DiscoveryContextKeyConstraints } = await internal(
  './context_keys/discoveryContextKeyConstraints.js'
);
const { anonymousPrincipal } = await internal('./simulation_engine/simulation.js');

const readline = await import('node:readline');

const loadPolicies = (policies) => {
  const loaded = new Map(
    Object.entries(policies).map(([name, doc]) => [name, loadPolicy(doc, { name })])
  );
  return (name) => {
    const p = loaded.get(name);
    if (!p) throw new Error(`unknown policy ${name}`);
    return p;
  };
};

const evaluate = (policy, s) => {
  const request = new AwsRequestImpl(
    s.principal ?? anonymousPrincipal,
    { resource: s.resource, accountId: s.resourceAccount },
    s.action,
    new RequestContextImpl(s.context)
  );
  const analysis = authorize({
    request,
    sessionPolicy: undefined,
    identityPolicies: [
      ...s.identityPolicies.map(policy),
      // Policies attached outside the template, as documents.
      ...Object.entries(s.attachedPolicies ?? {}).map(([name, doc]) => loadPolicy(doc, { name }))
    ],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: s.resourcePolicy
      ? policy(s.resourcePolicy)
      : s.resourcePolicyDocument
        ? loadPolicy(s.resourcePolicyDocument, { name: 'resource' })
        : undefined,
    permissionBoundaries: undefined,
    vpcEndpointPolicies: undefined,
    simulationParameters: {
      simulationMode: 'Strict',
      discoveryContextKeyConstraints: new DiscoveryContextKeyConstraints([])
    },
    serviceSettings: { s3: { blockPublicAccess: s.blockPublicAccess } }
  });
  return analysis.result;
};

if (process.argv.includes('--serve')) {
  let policy;
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let out;
    try {
      const msg = JSON.parse(line);
      if (!policy) {
        policy = loadPolicies(msg.policies);
        out = { result: 'Loaded' };
      } else {
        out = { result: evaluate(policy, msg) };
      }
    } catch (e) {
      out = { error: String(e?.message ?? e) };
    }
    process.stdout.write(JSON.stringify(out) + '\n');
  }
} else {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const { policies, simulations } = JSON.parse(input);
  const policy = loadPolicies(policies);
  const results = simulations.map((s) => evaluate(policy, s));
  process.stdout.write(JSON.stringify({ results }));
}
