/** Starts BatchGen: config, database, recovery, app, server, shutdown. */
import { removeTempFiles } from "./lib/storage.ts";
import { createApp } from "./app.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { openDb } from "./db/client.ts";
import { spawnGenerator } from "./engine/runner.ts";
import { ActiveRuns } from "./engine/active_runs.ts";
import { checkKey } from "./engine/key_check.ts";
import { createLogger } from "./lib/log.ts";
import { recoverAfterCrash } from "./engine/recovery.ts";

const log = createLogger();

/** Stops the start with one readable line (like a bad configuration). */
async function cannotStart(what: string, error: unknown): Promise<never> {
  const reason = error instanceof Error ? error.message : String(error);
  await Deno.stderr.write(
    new TextEncoder().encode(`Cannot start BatchGen: ${what}: ${reason}\n`),
  );
  Deno.exit(2);
}

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    await Deno.stderr.write(new TextEncoder().encode(error.message + "\n"));
    Deno.exit(2);
  }
  await Deno.mkdir(config.imagesDir, { recursive: true });
  await Deno.mkdir(config.referencesDir, { recursive: true });
  // A reference upload cut short by a crash leaves a temp file, never a
  // half-written image under its hash.
  await removeTempFiles(config.referencesDir);
  const { db, close } = await openDb(config.databaseUrl);
  const recovered = await recoverAfterCrash(db, config.imagesDir);
  if (recovered.batches > 0 || recovered.files > 0) {
    log.info("recovered after an unclean stop", { ...recovered });
  }

  const activeRuns = new ActiveRuns({ maxTotal: config.maxRunning });
  const app = createApp({
    db,
    config,
    log,
    activeRuns,
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
    close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", shutdown);
  Deno.addSignalListener("SIGTERM", shutdown);
  await server.finished;
}

if (import.meta.main) await main();
