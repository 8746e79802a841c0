export * from "./errors.js";
export * from "./ollama-client.js";
export * from "./prompt.js";
export * from "./verdict-schema.js";
