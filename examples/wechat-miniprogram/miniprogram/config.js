// The stack's outputs (make deploy writes them to .build/outputs/<stack>.json;
// cdk deploy prints them). Replace every REPLACE-ME before running.
module.exports = {
  // TokenEndpoint without /v1/token (or the API's custom domain).
  endpoint: 'https://REPLACE-ME.execute-api.cn-north-1.amazonaws.com.cn',
  // The WeChat verifier's name in cdk.json ("verifiers": {"wechat": {"name": ...}}).
  provider: 'wechat',
  bucket: 'REPLACE-ME',
  region: 'cn-north-1'
  // s3Endpoint: 'https://s3.cn-north-1.amazonaws.com.cn' // path-style, when the bucket's own host cannot be whitelisted
}
