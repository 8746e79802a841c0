import { Ollama } from "ollama";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BUSY_ERROR, type FakeOllama, startFakeOllama } from "#test/fakes/fake-ollama.js";

let fake: FakeOllama;
beforeAll(async () => {
  fake = await startFakeOllama();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

// biome-ignore lint/suspicious/noExplicitAny: wire bodies are asserted field by field
type WireBody = any;
const readJson = async (res: Response): Promise<WireBody> => res.json();

const post = (path: string, body: string | undefined) =>
  fetch(`${fake.host}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
const chatBody = (extra: object = {}) =>
  JSON.stringify({
    model: "phi3:3.8b",
    messages: [{ role: "user", content: "hi" }],
    stream: false,
    ...extra,
  });

describe("fake Ollama wire format", () => {
  it("answers the health routes like the real server", async () => {
    const root = await fetch(fake.host);
    expect(root.status).toBe(200);
    expect(await root.text()).toBe("Ollama is running");
    expect((await fetch(fake.host, { method: "HEAD" })).status).toBe(200);
    const tags = await readJson(await fetch(`${fake.host}/api/tags`));
    expect(tags.models[0]).toMatchObject({
      name: "phi3:3.8b",
      model: "phi3:3.8b",
      details: { format: "gguf" },
    });
    expect((await fetch(`${fake.host}/api/nope`)).status).toBe(404);
  });

  it("answers a non-streamed chat with the documented fields and nanosecond durations", async () => {
    const res = await post("/api/chat", chatBody());
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = await readJson(res);
    expect(body).toMatchObject({
      model: "phi3:3.8b",
      done: true,
      done_reason: "stop",
      message: { role: "assistant" },
    });
    expect(body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    for (const f of ["total_duration", "load_duration", "prompt_eval_duration", "eval_duration"]) {
      expect(Number.isInteger(body[f])).toBe(true);
    }
    expect(body.eval_duration).toBeGreaterThan(1_000_000); // nanoseconds, not milliseconds
    expect(JSON.parse(body.message.content).decision).toBe("APPROVE");
  });

  it("streams NDJSON when stream is not false (the server default)", async () => {
    fake.script("reject");
    const res = await post("/api/chat", chatBody({ stream: undefined }));
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ done: true, done_reason: "stop" });
    expect(lines.slice(0, -1).every((l) => l.done === false)).toBe(true);
    const content = lines.map((l) => l.message.content).join("");
    expect(JSON.parse(content).decision).toBe("REJECT");

    fake.script("approve");
    const parts: string[] = [];
    for await (const part of await new Ollama({ host: fake.host }).chat({
      model: "phi3:3.8b",
      messages: [{ role: "user", content: "x" }],
      stream: true,
    })) {
      parts.push(part.message.content);
    }
    expect(JSON.parse(parts.join("")).decision).toBe("APPROVE");
  });

  it("treats an empty chat as a preload (done_reason load)", async () => {
    const body = await (
      await post("/api/chat", JSON.stringify({ model: "phi3:3.8b", messages: [], stream: false }))
    ).json();
    expect(body).toMatchObject({ done_reason: "load", message: { content: "" } });
  });

  it("validates the request like the real server", async () => {
    const cases: Array<[string | undefined, number, string | RegExp]> = [
      [undefined, 400, "missing request body"],
      ["{not json", 400, /invalid character/],
      [JSON.stringify({ messages: [] }), 400, "model is required"],
      [JSON.stringify({ model: "", messages: [] }), 400, "model is required"],
      [JSON.stringify({ model: "phi3:3.8b", messages: "hi" }), 400, /cannot unmarshal/],
      [chatBody({ format: 42 }), 400, /invalid format/],
      [chatBody({ model: "phi3:mini" }), 404, "model 'phi3:mini' not found"],
    ];
    for (const [body, status, error] of cases) {
      const res = await post("/api/chat", body);
      expect(res.status, String(body)).toBe(status);
      const json = await readJson(res);
      if (typeof error === "string") expect(json).toEqual({ error });
      else expect(json.error).toMatch(error);
    }
  });

  it("serves scripted failures with the exact bodies, then falls back to the default", async () => {
    fake.script("busy", "model-not-found", "server-error", "truncated");
    const busy = await post("/api/chat", chatBody());
    expect([busy.status, await readJson(busy)]).toEqual([503, { error: BUSY_ERROR }]);
    const missing = await post("/api/chat", chatBody());
    expect([missing.status, await readJson(missing)]).toEqual([
      404,
      { error: "model 'phi3:3.8b' not found" },
    ]);
    expect((await post("/api/chat", chatBody())).status).toBe(500);
    const truncated = await readJson(await post("/api/chat", chatBody()));
    expect(truncated.done_reason).toBe("length");
    expect(() => JSON.parse(truncated.message.content)).toThrow();
    const next = await readJson(await post("/api/chat", chatBody()));
    expect(JSON.parse(next.message.content).decision).toBe("APPROVE");
  });

  it("records every request body", async () => {
    await post("/api/chat", chatBody({ options: { temperature: 0, seed: 9 } }));
    expect(fake.chatRequests()).toEqual([
      {
        model: "phi3:3.8b",
        messages: [{ role: "user", content: "hi" }],
        stream: false,
        options: { temperature: 0, seed: 9 },
      },
    ]);
  });
});
