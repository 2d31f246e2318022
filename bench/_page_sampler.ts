/**
 * A worker that times one page every `everyMs` until told to stop, then
 * posts the times (ms). Its own thread and event loop: the bench's main
 * thread (the fake Gemini, hundreds of run streams) does not delay it, so
 * the times are the server's, not the bench's backlog.
 */
/// <reference lib="deno.worker" />

let stopped = false;
self.onmessage = async (
  message: MessageEvent<
    { url: string; headers: Record<string, string>; everyMs: number } | "stop"
  >,
) => {
  if (message.data === "stop") {
    stopped = true;
    return;
  }
  const { url, headers, everyMs } = message.data;
  const times: number[] = [];
  while (!stopped) {
    const started = performance.now();
    const response = await fetch(url, { headers });
    await response.text();
    times.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  self.postMessage(times);
  self.close();
};
