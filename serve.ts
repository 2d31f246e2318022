/**
 * `batchgen serve`: config, database, recovery, app, server, shutdown. The
 * entry (main.ts) imports it only for that command, so the generator child
 * and the CLI never load the server.
 */
import { removeTempFiles } from "./lib/storage.ts";
import { createApp } from "./app.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { openDb } from "./db/client.ts";
import { spawnGenerator } from "./engine/runner.ts";
import { ActiveRuns } from "./engine/active_runs.ts";
import { createQuotaPacers } from "./engine/quota_pacer.ts";
import { SpawnGate } from "./engine/spawn_gate.ts";
import { checkKey } from "./engine/key_check.ts";
import { createLogger } from "./lib/log.ts";
import { imageStoreFor } from "./lib/image_store.ts";
import { recoverAfterCrash } from "./engine/recovery.ts";
import { startLeaseKeeper } from "./engine/lease_keeper.ts";

// Lines before the configuration is read (a bad one) use the default format.
let log = createLogger();

/** Stops the start with one readable line (like a bad configuration). */
async function cannotStart(what: string, error: unknown): Promise<never> {
  const reason = error instanceof Error ? error.message : String(error);
  await Deno.stderr.write(
    new TextEncoder().encode(`Cannot start BatchGen: ${what}: ${reason}\n`),
  );
  Deno.exit(2);
}

/** Serves BatchGen until SIGINT or SIGTERM. */
export async function serve(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    await Deno.stderr.write(new TextEncoder().encode(error.message + "\n"));
    Deno.exit(2);
  }
  log = createLogger(undefined, [], { format: config.logFormat });
  await Deno.mkdir(config.imagesDir, { recursive: true });
  await Deno.mkdir(config.referencesDir, { recursive: true });
  // The image store (data dir or S3) before recovery, which moves leftovers.
  imageStoreFor(config);
  // A reference upload cut short by a crash leaves a temp file, never a
  // half-written image under its hash.
  await removeTempFiles(config.referencesDir);
  const { db, close } = await openDb(config.databaseUrl, {
    authToken: config.databaseAuthToken,
  });
  const activeRuns = new ActiveRuns({ maxTotal: config.maxRunning });
  // Before recovery: from here on this process owns its instance id, so
  // leases in that name are a previous process's.
  const leaseKeeper = await startLeaseKeeper({ db, config, log, activeRuns })
    .catch((error) => cannotStart("cannot claim the instance id", error));
  const recovered = await recoverAfterCrash(db, config.imagesDir, config);
  if (recovered.batches > 0 || recovered.files > 0) {
    log.info("recovered after an unclean stop", { ...recovered });
  }

  const app = createApp({
    db,
    config,
    log,
    activeRuns,
    // One of each per server: every run of this process shares them.
    pacers: createQuotaPacers(),
    spawnGate: new SpawnGate(),
    spawn: spawnGenerator,
    checkKey,
  });
  const tls = config.tls && await Promise.all([
    Deno.readTextFile(config.tls.certFile),
    Deno.readTextFile(config.tls.keyFile),
  ]).then(([cert, key]) => ({ cert, key })).catch((error) =>
    cannotStart(
      "cannot read BATCHGEN_TLS_CERT_FILE / BATCHGEN_TLS_KEY_FILE",
      error,
    )
  );
  let server: Deno.HttpServer;
  try {
    server = Deno.serve(
      {
        port: config.port,
        hostname: config.host,
        ...tls,
        onListen({ hostname, port }) {
          const scheme = tls ? "https" : "http";
          const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
          log.info(`BatchGen is listening on ${scheme}://${shown}:${port}`);
        },
      },
      (request, info) =>
        app.fetch(request, { remoteAddr: info.remoteAddr, tls: Boolean(tls) }),
    );
  } catch (error) {
    return await cannotStart(
      tls
        ? "cannot serve HTTPS with BATCHGEN_TLS_CERT_FILE / BATCHGEN_TLS_KEY_FILE"
        : `cannot listen on ${config.host}:${config.port}`,
      error,
    );
  }

  const shutdown = async () => {
    log.info("shutting down");
    activeRuns.abortAll();
    await server.shutdown();
    await leaseKeeper.stop();
    close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", shutdown);
  Deno.addSignalListener("SIGTERM", shutdown);
  await server.finished;
}
