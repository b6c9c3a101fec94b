// A test page's script for examples/web/e2e.mjs: @s3vend/client and the S3
// client on window, for the cases the app's buttons do not make (20 S3
// clients at a cold start, a write under another identity's prefix).
import { S3Client, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { fromS3Vend, privateKey, privatePrefix } from "@s3vend/client";

Object.assign(window, { probe: { fromS3Vend, privateKey, privatePrefix, S3Client, ListObjectsV2Command, PutObjectCommand } });
document.title = "probe ready";
