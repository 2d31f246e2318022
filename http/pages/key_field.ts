/** The key a page request carries in its form, only where it may travel (K7). */
import type { Context } from "hono";
import type { AppEnv } from "../env.ts";
import { parseApiKey } from "../../core/api_key.ts";
import { refuse, type Result } from "../../core/result.ts";

/** The form fields of a page request that carries the key. */
export type KeyForm = Awaited<ReturnType<Context["req"]["parseBody"]>>;

/** The pasted key and the rest of the form, after the transport rule. */
export async function readKeyField(
  c: Context<AppEnv>,
): Promise<Result<{ key: string; form: KeyForm }>> {
  const transport = c.var.transport.keyProblem;
  if (transport) return refuse("insecure_transport", transport);
  const form = await c.req.parseBody();
  const key = parseApiKey(form.apiKey);
  return key.ok ? { ok: true, value: { key: key.value, form } } : key;
}
