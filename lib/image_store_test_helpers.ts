/**
 * Tests only: an s3rver (npm, a fake S3 server) on 127.0.0.1 with a temp
 * folder and one bucket, and the environment that points BatchGen at it.
 */
import S3rver from "s3rver";
// s3rver checks SigV4 signatures against its registry of key pairs; a key
// of our own (not its built-in one) shows the secret never leaves the signer.
import { DUMMY_ACCOUNT } from "s3rver/lib/models/account.js";

export const S3_TEST_ACCESS_KEY_ID = "AKIABATCHGENTEST0001";
export const S3_TEST_SECRET = "bgS3SecretCanary/0123456789abcdefghijKLMNOPqr";

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** The folder s3rver keeps the bucket in. */
  directory: string;
  /** BATCHGEN_* and AWS_* variables for `loadConfig` (`prefix`, another bucket). */
  env(prefix?: string, bucket?: string): Record<string, string>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts s3rver on a loopback port (default: a free one) with `bucket` created. */
export async function startS3rver(
  bucket = "batchgen-test",
  { port = 0 }: { port?: number } = {},
): Promise<TestS3> {
  const directory = await Deno.makeTempDir({ prefix: "batchgen-s3rver-" });
  (DUMMY_ACCOUNT as {
    createKeyPair(id: string, secret: string): void;
  }).createKeyPair(S3_TEST_ACCESS_KEY_ID, S3_TEST_SECRET);
  const server = new S3rver({
    address: "127.0.0.1",
    port,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const address = await server.run() as { port: number };
  const endpoint = `http://127.0.0.1:${address.port}`;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    // Idle keep-alive connections from the instances' fetch pools would
    // hold close() open until they time out.
    (server as { httpServer?: { closeAllConnections?(): void } }).httpServer
      ?.closeAllConnections?.();
    await server.close();
    await Deno.remove(directory, { recursive: true }).catch(() => {});
  };
  return {
    endpoint,
    bucket,
    directory,
    env: (prefix = "", name = bucket) => ({
      BATCHGEN_STORAGE_URL: `s3://${name}${prefix ? `/${prefix}` : ""}`,
      BATCHGEN_S3_ENDPOINT: endpoint,
      BATCHGEN_S3_REGION: "us-east-1",
      BATCHGEN_S3_FORCE_PATH_STYLE: "1",
      AWS_ACCESS_KEY_ID: S3_TEST_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: S3_TEST_SECRET,
    }),
    close,
    [Symbol.asyncDispose]: close,
  };
}
