"""boto3 against the s3vend stand-ins with a credential_process profile.

Run by test/e2e (TestBoto3) with Debian's /usr/bin/python3 and python3-boto3.
Argv: profile bucket key expect ("ok" or an S3 error code such as AccessDenied).
The endpoint and CA come from the environment (S3VEND_TEST_S3_URL, AWS_CA_BUNDLE):
boto3 1.26 predates AWS_ENDPOINT_URL_<SERVICE> (botocore 1.31+), so it is passed
explicitly as endpoint_url.
"""
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

profile, bucket, key, expect = sys.argv[1:5]
session = boto3.Session(profile_name=profile)
s3 = session.client(
    "s3",
    endpoint_url=os.environ["S3VEND_TEST_S3_URL"],
    config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
)
body = b"written by boto3 through an s3vend credential_process profile\n"
try:
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/plain")
    got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
except ClientError as e:
    code = e.response["Error"]["Code"]
    if expect == code:
        print("refused as expected:", code)
        sys.exit(0)
    print("unexpected error:", code, file=sys.stderr)
    sys.exit(1)
if expect != "ok":
    print("succeeded, but expected", expect, file=sys.stderr)
    sys.exit(1)
if got != body:
    print("read back different bytes", file=sys.stderr)
    sys.exit(1)
print("ok", key)
