/** The new-batch form: its page, its live options and estimate, and Generate. */
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppDeps, AppEnv } from "../env.ts";
import { getBatch, listItems } from "../../db/batch_queries.ts";
import { withoutKeyLines } from "../../core/batch_input.ts";
import { type BatchPlan, buildBatch } from "../../core/batch_plan.ts";
import type { Result } from "../../core/result.ts";
import { workspaceReferenceLookup } from "../../engine/reference_lookup.ts";
import { storeReferenceBytes } from "../../lib/reference_store.ts";
import { BatchPreview } from "../../views/components/batch_preview.tsx";
import {
  DEFAULT_MODEL_ID,
  findModel,
  offeredSizeOrDefault,
} from "../../core/catalog.ts";
import { estimateBatch } from "../../core/cost.ts";
import { LIMITS } from "../../core/limits.ts";
import { storeNewBatch } from "../../engine/batches.ts";
import { ACTIVITY_ID } from "../../views/layout.tsx";
import { Append } from "../../views/partial.tsx";
import { ModelOptions } from "../../views/components/model_options.tsx";
import { Estimate } from "../../views/components/estimate.tsx";
import { RunStarter } from "../../views/components/run_starter.tsx";
import { NewBatchPage } from "../../views/pages/new_batch_page.tsx";
import { BatchPage } from "../../views/pages/batch_page.tsx";
import { isHtmx, page } from "./render.tsx";
import { type BatchForm, readBatchForm } from "./batch_form.ts";
import { readKeyField } from "./key_field.ts";

/** Routes of the new-batch form. */
export function newBatchRoutes(deps: AppDeps) {
  const { db, config } = deps;
  const app = new Hono<AppEnv>();

  app.get("/", async (c) => {
    const from = c.req.query("from");
    const source = from
      ? await getBatch(db, c.get("workspaceId"), from)
      : undefined;
    const values = source
      ? {
        title: source.title,
        // One item per prompt (image 0), so prompts repeated on purpose stay.
        prompts: (await listItems(db, source.id))
          .filter((i) => i.imageIndex === 0).map((i) => i.prompt).join("\n"),
        model: source.model,
        ...source.settings,
        budgetUsd: source.budgetUsd ?? undefined,
      }
      : {};
    return page(
      c,
      "New batch",
      <NewBatchPage values={values} defaultConcurrency={config.concurrency} />,
    );
  });

  app.get("/batches/options", (c) => {
    const model = findModel(c.req.query("model") ?? "") ??
      findModel(DEFAULT_MODEL_ID)!;
    return c.html(
      <ModelOptions
        model={model}
        aspectRatio={c.req.query("aspectRatio")}
        imageSize={c.req.query("imageSize")}
      />,
    );
  });

  /** The form's batch, planned with its uploads and the workspace's references. */
  async function planForm(
    c: Context<AppEnv>,
    form: BatchForm,
  ): Promise<Result<BatchPlan>> {
    return buildBatch(form.raw, {
      defaultConcurrency: config.concurrency,
      references: await workspaceReferenceLookup(
        db,
        c.get("workspaceId"),
        form.raw,
        form.references.map((r) => r.info),
      ),
    });
  }

  app.post("/batches/estimate", async (c) => {
    const form = await readBatchForm(c);
    const fileProblem = Object.values(form.fileErrors)[0];
    const plan = fileProblem ? undefined : await planForm(c, form);
    if (plan?.ok) {
      const p = plan.value;
      const names = new Map(
        form.references.map((r) => [r.info.id, r.info.name]),
      );
      return c.html(
        <>
          <Estimate
            prompts={p.rows.length}
            imagesPerPrompt={p.settings.imagesPerPrompt}
            uniform={p.rows.every((r) =>
              r.images === p.settings.imagesPerPrompt
            )}
            {...p.estimate}
          />
          <BatchPreview
            rows={p.rows}
            estimate={p.estimate}
            referenceNames={names}
          />
        </>,
      );
    }
    // Lenient while the user types: the figure for the plain prompts, with
    // what Generate would refuse said next to it.
    const problem = fileProblem ??
      (plan && !plan.ok ? plan.problem.message : undefined);
    const model = findModel(String(form.raw.model ?? "")) ??
      findModel(DEFAULT_MODEL_ID)!;
    const prompts = (form.raw.prompts as string[] | undefined) ??
      (form.raw.rows as { prompt: string }[]).map((r) => r.prompt);
    // Lenient while the user types: out-of-range counts are estimated at
    // the nearest allowed one; Generate refuses them with a message.
    const perPrompt = Math.min(
      Math.max(Number(form.raw.imagesPerPrompt ?? 1) || 1, 1),
      LIMITS.imagesPerPrompt,
    );
    const estimate = estimateBatch({
      model: model.id,
      // The size the form shows once the model's options are in place: a
      // size the previous model offered is not this one's.
      imageSize: offeredSizeOrDefault(model, String(form.raw.imageSize ?? "")),
      prompts,
      imagesPerPrompt: perPrompt,
    });
    return c.html(
      <>
        <Estimate
          prompts={prompts.length}
          imagesPerPrompt={perPrompt}
          uniform
          {...estimate}
        />
        {problem && prompts.length > 0 && (
          <p class="field-error preview-problem">{problem}</p>
        )}
      </>,
    );
  });

  app.post("/batches", async (c) => {
    const form = await readBatchForm(c);
    // The form shown again with what to fix: never a refused key (K2), and
    // the boosted form must not push /batches, which has no page of its own.
    const refuse = (errors: Record<string, string>, status: 409 | 422) => {
      c.header("HX-Push-Url", "false");
      return page(
        c,
        "New batch",
        <NewBatchPage
          values={{
            ...form.values,
            prompts: withoutKeyLines(form.values.prompts ?? ""),
            title: withoutKeyLines(form.values.title ?? ""),
          }}
          errors={errors}
          defaultConcurrency={config.concurrency}
        />,
        status,
      );
    };
    if (Object.keys(form.fileErrors).length > 0) {
      // The files are the problem; "write at least one prompt" would only
      // repeat that a broken file gave none.
      return refuse({ ...form.fileErrors }, 422);
    }
    const parsed = await planForm(c, form);
    if (!parsed.ok) return refuse({ ...parsed.problem.fields }, 422);
    // From the page, Generate saves the batch and starts it: check the key
    // first, so no batch is saved that cannot start (K3: a check the user
    // asked for, with this request only).
    if (isHtmx(c)) {
      const key = await keyProblem(c);
      if (key) return refuse({ apiKey: key }, 422);
    }
    const workspaceId = c.get("workspaceId");
    // The uploads the batch uses: bytes first (named by content, so a
    // refused batch leaves nothing a row points at), rows with the batch.
    const used = form.references.filter((r) =>
      parsed.value.references.some((ref) => ref.id === r.info.id)
    );
    for (const r of used) {
      await storeReferenceBytes(
        config.referencesDir,
        r.facts.sha256,
        r.facts.mimeType,
        r.bytes,
      );
    }
    const createdAt = new Date();
    const stored = await storeNewBatch(
      db,
      workspaceId,
      parsed.value,
      config.quota,
      used.map((r) => ({ ...r.facts, id: r.info.id, workspaceId, createdAt })),
    );
    if (!stored.ok) return refuse({ form: stored.problem.message }, 409);
    const batch = stored.value;
    if (!isHtmx(c)) return c.redirect(`/batches/${batch.id}`, 303);
    c.header("HX-Push-Url", `/batches/${batch.id}`);
    // Above the confirm threshold (or without an estimate) the batch stays a
    // draft and the page asks before starting it (issue #5); otherwise the
    // run starts at once from the activity region.
    const confirm = batch.estimatedCostUsd === null ||
      batch.estimatedCostUsd > config.confirmAboveUsd;
    return page(
      c,
      batch.title,
      <>
        <BatchPage
          batch={batch}
          items={await listItems(db, batch.id)}
          images={[]}
          running={!confirm}
          confirm={confirm}
          references={used.map((r) => ({
            ...r.facts,
            id: r.info.id,
            workspaceId,
            createdAt,
          }))}
        />
        {!confirm && (
          <Append id={ACTIVITY_ID}>
            <RunStarter batch={batch} mode="resume" />
          </Append>
        )}
      </>,
      201,
    );
  });

  /** Why the form's key cannot start a run, or undefined when it can. */
  async function keyProblem(c: Context<AppEnv>): Promise<string | undefined> {
    const read = await readKeyField(c);
    if (!read.ok) {
      return read.problem.code === "missing_key"
        ? `${read.problem.message} Generate saves the batch only with a key to start it.`
        : read.problem.message;
    }
    const checked = await deps.checkKey(read.value.key, config.geminiBaseUrl, {
      signal: c.req.raw.signal,
    });
    // Only a key Google refuses stops the batch here; if Google cannot be
    // reached now, the run will say so.
    return !checked.ok && checked.problem.code === "key_rejected"
      ? checked.problem.message
      : undefined;
  }

  return app;
}
