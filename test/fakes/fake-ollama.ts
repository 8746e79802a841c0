/**
 * A loopback Ollama that speaks the wire format of protocols.md section C: GET/HEAD /,
 * GET /api/tags, GET /api/version and POST /api/chat (non-streamed and NDJSON-streamed), with the
 * real server's error bodies and status codes. Each chat request consumes the next scripted
 * behaviour, or the default one when the script is empty.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type FakeVerdictOverrides = {
  confidence?: number;
  reasoning?: string;
  level?: "LOW" | "MEDIUM" | "HIGH";
  factors?: string[];
};

export type FakeOllamaBehaviour =
  | ({ kind: "approve" } & FakeVerdictOverrides)
  | ({ kind: "reject" } & FakeVerdictOverrides)
  /** any message content, e.g. a hand-written verdict */
  | { kind: "content"; content: string; doneReason?: string }
  /** content that is not JSON */
  | { kind: "malformed-json" }
  /** valid JSON that does not match the verdict schema */
  | { kind: "wrong-schema" }
  /** a verdict cut at num_predict: done_reason "length", content incomplete */
  | { kind: "truncated" }
  /** waits delayMs before sending headers, then behaves as `after` (default approve) */
  | { kind: "slow"; delayMs: number; after?: FakeOllamaBehaviour }
  /** 404 as if the requested model were not pulled */
  | { kind: "model-not-found" }
  /** 503 queue full */
  | { kind: "busy" }
  /** 500 runner failure */
  | { kind: "server-error"; message?: string };

type SimpleKind = Exclude<FakeOllamaBehaviour["kind"], "content" | "slow">;
export type FakeOllamaScriptItem = FakeOllamaBehaviour | SimpleKind;

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  rawBody: string;
  /** the parsed JSON body, undefined when there was none or it was not JSON */
  body: unknown;
}

export interface FakeOllamaOptions {
  /** models the fake has "pulled"; default ["phi3:3.8b"] */
  models?: string[];
  /** behaviour when the script is empty; default approve */
  defaultBehaviour?: FakeOllamaScriptItem;
}

export interface FakeOllama {
  /** http://127.0.0.1:<port> */
  host: string;
  /** appends behaviours consumed one per chat request, in arrival order */
  script(...behaviours: FakeOllamaScriptItem[]): void;
  setDefault(behaviour: FakeOllamaScriptItem): void;
  /** forgets the script and the recorded requests, and restores the initial default */
  reset(): void;
  /** every request received, in order */
  requests: RecordedRequest[];
  /** parsed bodies of POST /api/chat requests */
  chatRequests(): Array<Record<string, unknown>>;
  /** the most chat requests that were being answered at the same time */
  peakConcurrentChats(): number;
  close(): Promise<void>;
}

export const BUSY_ERROR = "server busy, please try again.  maximum pending requests exceeded";
export const RUNNER_ERROR = "llama runner process has terminated: exit status 2";

export async function startFakeOllama(opts: FakeOllamaOptions = {}): Promise<FakeOllama> {
  const models = opts.models ?? ["phi3:3.8b"];
  let defaultBehaviour = normalize(opts.defaultBehaviour ?? "approve");
  const queue: FakeOllamaBehaviour[] = [];
  const requests: RecordedRequest[] = [];
  let chatsInFlight = 0;
  let peakChats = 0;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const rawBody = Buffer.concat(chunks).toString("utf8");
      const path = (req.url ?? "/").split("?")[0];
      let body: unknown;
      try {
        body = rawBody ? JSON.parse(rawBody) : undefined;
      } catch {
        body = undefined;
      }
      requests.push({ method: req.method ?? "GET", path, headers: req.headers, rawBody, body });
      route(req.method ?? "GET", path, rawBody, res);
    });
  });

  function route(method: string, path: string, rawBody: string, res: ServerResponse): void {
    if (path === "/" && (method === "GET" || method === "HEAD")) {
      res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
      res.end(method === "HEAD" ? undefined : "Ollama is running");
      return;
    }
    if (path === "/api/tags" && method === "GET") {
      sendJson(res, 200, { models: models.map(tagEntry) });
      return;
    }
    if (path === "/api/version" && method === "GET") {
      sendJson(res, 200, { version: "0.12.6" });
      return;
    }
    if (path === "/api/chat" && method === "POST") {
      chatsInFlight++;
      peakChats = Math.max(peakChats, chatsInFlight);
      res.on("close", () => {
        chatsInFlight--;
      });
      handleChat(rawBody, res);
      return;
    }
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end("404 page not found");
  }

  function handleChat(rawBody: string, res: ServerResponse): void {
    const received = process.hrtime.bigint();
    if (rawBody.trim() === "") {
      sendError(res, 400, "missing request body");
      return;
    }
    let req: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(rawBody);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        sendError(res, 400, "json: cannot unmarshal into Go value of type api.ChatRequest");
        return;
      }
      req = parsed as Record<string, unknown>;
    } catch (err) {
      sendError(res, 400, `invalid character in request body: ${(err as Error).message}`);
      return;
    }
    if (typeof req.model !== "string" || req.model.trim() === "") {
      sendError(res, 400, "model is required");
      return;
    }
    if (req.messages !== undefined && !Array.isArray(req.messages)) {
      sendError(
        res,
        400,
        "json: cannot unmarshal into Go struct field ChatRequest.messages of type []api.Message",
      );
      return;
    }
    const format = req.format;
    if (
      format !== undefined &&
      format !== "" &&
      format !== "json" &&
      (typeof format !== "object" || format === null)
    ) {
      sendError(res, 400, 'invalid format: expected "json" or a valid JSON schema');
      return;
    }
    const model = req.model;
    if (!models.some((m) => withTag(m) === withTag(model))) {
      sendError(res, 404, `model '${model}' not found`);
      return;
    }
    const messages = (req.messages as unknown[] | undefined) ?? [];
    const stream = req.stream !== false;

    if (messages.length === 0) {
      // The real server treats an empty chat as a preload request.
      sendChat(res, stream, model, "", "load", received);
      return;
    }
    const behaviour = queue.shift() ?? defaultBehaviour;
    behave(behaviour, res, model, stream, received);
  }

  function behave(
    behaviour: FakeOllamaBehaviour,
    res: ServerResponse,
    model: string,
    stream: boolean,
    received: bigint,
  ): void {
    switch (behaviour.kind) {
      case "approve":
      case "reject":
        sendChat(res, stream, model, JSON.stringify(verdictOf(behaviour)), "stop", received);
        return;
      case "content":
        sendChat(res, stream, model, behaviour.content, behaviour.doneReason ?? "stop", received);
        return;
      case "malformed-json":
        sendChat(res, stream, model, "Sure! I would APPROVE this trade because momentum", "stop", received);
        return;
      case "wrong-schema":
        sendChat(
          res,
          stream,
          model,
          JSON.stringify({ decision: "MAYBE", confidence: 1.7, reasoning: "" }),
          "stop",
          received,
        );
        return;
      case "truncated": {
        const full = JSON.stringify(verdictOf({ kind: "approve" }));
        sendChat(res, stream, model, full.slice(0, Math.floor(full.length / 2)), "length", received);
        return;
      }
      case "slow": {
        const timer = setTimeout(() => {
          if (!res.destroyed) behave(behaviour.after ?? { kind: "approve" }, res, model, stream, received);
        }, behaviour.delayMs);
        res.on("close", () => clearTimeout(timer));
        return;
      }
      case "model-not-found":
        sendError(res, 404, `model '${model}' not found`);
        return;
      case "busy":
        sendError(res, 503, BUSY_ERROR);
        return;
      case "server-error":
        sendError(res, 500, behaviour.message ?? RUNNER_ERROR);
        return;
    }
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    host: `http://127.0.0.1:${port}`,
    script(...behaviours) {
      queue.push(...behaviours.map(normalize));
    },
    setDefault(behaviour) {
      defaultBehaviour = normalize(behaviour);
    },
    reset() {
      queue.length = 0;
      requests.length = 0;
      peakChats = chatsInFlight;
      defaultBehaviour = normalize(opts.defaultBehaviour ?? "approve");
    },
    peakConcurrentChats() {
      return peakChats;
    },
    requests,
    chatRequests() {
      return requests
        .filter(
          (r) =>
            r.method === "POST" && r.path === "/api/chat" && typeof r.body === "object" && r.body !== null,
        )
        .map((r) => r.body as Record<string, unknown>);
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

function normalize(item: FakeOllamaScriptItem): FakeOllamaBehaviour {
  return typeof item === "string" ? ({ kind: item } as FakeOllamaBehaviour) : item;
}

function verdictOf(b: { kind: "approve" | "reject" } & FakeVerdictOverrides) {
  const approve = b.kind === "approve";
  return {
    decision: approve ? "APPROVE" : "REJECT",
    confidence: b.confidence ?? (approve ? 0.72 : 0.81),
    reasoning:
      b.reasoning ??
      (approve
        ? "Momentum and the up probability agree with the recent rise; volatility is moderate."
        : "RSI is overbought while price stalls near the range high; the BUY signal contradicts the momentum."),
    risk_assessment: {
      level: b.level ?? (approve ? "MEDIUM" : "HIGH"),
      factors: b.factors ?? (approve ? ["moderate volatility"] : ["overbought RSI", "weak momentum"]),
    },
  };
}

function withTag(model: string): string {
  return model.includes(":") ? model : `${model}:latest`;
}

function tagEntry(name: string) {
  const family = name.split(":")[0].replace(/[^a-z]+$/i, "");
  return {
    name,
    model: name,
    modified_at: "2025-05-01T10:00:00.000000000Z",
    size: 2176178913,
    digest: "4f2222927938e4a1a1d4ad6b7c5f38f3b1a0f1c1a9e4c7a9e05b2a1c3d4e5f60",
    details: {
      parent_model: "",
      format: "gguf",
      family,
      families: [family],
      parameter_size: "3.8B",
      quantization_level: "Q4_0",
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: message });
}

function sendChat(
  res: ServerResponse,
  stream: boolean,
  model: string,
  content: string,
  doneReason: string,
  received: bigint,
): void {
  if (res.destroyed) return;
  const evalCount = Math.max(1, Math.ceil(content.length / 4));
  const evalDuration = evalCount * 25_000_000;
  const promptEvalDuration = 150_000_000;
  const elapsed = Number(process.hrtime.bigint() - received);
  const metrics = {
    total_duration: elapsed + promptEvalDuration + evalDuration,
    load_duration: 12_345_678,
    prompt_eval_count: 420,
    prompt_eval_duration: promptEvalDuration,
    eval_count: evalCount,
    eval_duration: evalDuration,
  };
  const createdAt = () => new Date().toISOString().replace("Z", "000000Z");
  if (!stream) {
    sendJson(res, 200, {
      model,
      created_at: createdAt(),
      message: { role: "assistant", content },
      done_reason: doneReason,
      done: true,
      ...metrics,
    });
    return;
  }
  res.writeHead(200, { "Content-Type": "application/x-ndjson" });
  const pieces = content.match(/.{1,16}/gs) ?? [];
  for (const piece of pieces) {
    res.write(
      `${JSON.stringify({ model, created_at: createdAt(), message: { role: "assistant", content: piece }, done: false })}\n`,
    );
  }
  res.end(
    `${JSON.stringify({
      model,
      created_at: createdAt(),
      message: { role: "assistant", content: "" },
      done_reason: doneReason,
      done: true,
      ...metrics,
    })}\n`,
  );
}
